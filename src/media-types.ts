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

const NONE: MediaType = Object.freeze({ type: '', charset: undefined });
/** Parsed Content-Type values: requests and our own responses repeat a handful of them. */
const parsed = new Map<string, MediaType>();
const MEMO_SIZE = 256;

/** The media type of a Content-Type header value (remembered per value, up to MEMO_SIZE values). */
export function mediaTypeOf(header: string | null): MediaType {
  if (!header) return NONE;
  let known = parsed.get(header);
  if (!known) {
    const { type, parameters } = parse(header);
    known = Object.freeze({ type, charset: parameters.charset?.toLowerCase() });
    if (parsed.size >= MEMO_SIZE) parsed.clear();
    parsed.set(header, known);
  }
  return known;
}

/**
 * Whether an Accept header admits at least one of `available` (full media types, parameters
 * included: a range with parameters only matches a type with the same ones). No header, or a blank
 * one, admits anything. Decisions are remembered per header value (clients resend the same one),
 * up to `memoSize` values.
 */
export function createAcceptCheck(available: readonly string[], memoSize = 256): (accept: string | null) => boolean {
  const memo = new Map<string, boolean>();
  return (accept) => {
    if (!accept?.trim()) return true;
    let ok = memo.get(accept);
    if (ok === undefined) {
      ok = new Negotiator({ headers: { accept } }).mediaType(available) !== undefined;
      if (memo.size >= memoSize) memo.clear();
      memo.set(accept, ok);
    }
    return ok;
  };
}
