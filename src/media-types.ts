import { parse } from 'content-type';
import Negotiator from 'negotiator';

/**
 * Media types as RFC 9110 defines them: `Application/JSON` and `application/json ; charset=utf-8`
 * are JSON. Content-Type goes through `content-type` (jshttp), Accept through `negotiator`, instead
 * of splitting on `;` and `,` by hand.
 */

export interface MediaType {
  /** Lower case, without parameters; '' when the header is absent or blank. */
  type: string;
  /** The `charset` parameter, lower case, when there is one. */
  charset: string | undefined;
}

/**
 * `compute` remembered per header value, up to `size` values (then forgotten all at once): clients and
 * our own responses repeat a handful of values, and a header is any string, so the memo is bounded.
 */
function remembered<T>(compute: (header: string) => T, size = 256): (header: string) => T {
  const memo = new Map<string, T>();
  return (header) => {
    let value = memo.get(header);
    if (value === undefined) {
      value = compute(header);
      if (memo.size >= size) memo.clear();
      memo.set(header, value);
    }
    return value;
  };
}

const NONE: MediaType = Object.freeze({ type: '', charset: undefined });
const parseMediaType = remembered((header): MediaType => {
  const { type, parameters } = parse(header);
  return Object.freeze({ type, charset: parameters.charset?.toLowerCase() });
});

/** The media type of a Content-Type header value (parsed once per distinct value). */
export function mediaTypeOf(header: string | null): MediaType {
  return header ? parseMediaType(header) : NONE;
}

/**
 * Whether an Accept header admits at least one of `available` (full media types, parameters
 * included: a range with parameters only matches a type with the same ones). No header, or a blank
 * one, admits anything. Decisions are remembered per header value (clients resend the same one),
 * up to `memoSize` values.
 */
export function createAcceptCheck(available: readonly string[], memoSize = 256): (accept: string | null) => boolean {
  const admits = remembered((accept) => new Negotiator({ headers: { accept } }).mediaType(available) !== undefined, memoSize);
  return (accept) => !accept?.trim() || admits(accept);
}
