/**
 * What a bounded read refuses, as each caller answers it: a body over the limit, a Content-Length that
 * is not one number (message: INVALID_CONTENT_LENGTH), a body that is not JSON.
 */
export interface BodyRefusals {
  tooLarge(): Error;
  invalidLength(): Error;
  invalidJson(): Error;
  /** Valid JSON nested deeper than MAX_JSON_DEPTH. */
  tooDeep(): Error;
}

/**
 * Deepest nesting of arrays and objects a JSON body (or GET `variables`/`extensions`) may have. GraphQL
 * input nests a few levels; JSON.parse takes any depth, but recursive code after it does not:
 * `{"variables": {"ids": [[[[…]]]]}}` 40,000 levels deep (80 KB, under the body limit) overflowed the
 * stack of the response cache's key builder, a 500 where a 400 belongs.
 */
export const MAX_JSON_DEPTH = 64;
export const JSON_TOO_DEEP = `JSON nested deeper than ${MAX_JSON_DEPTH} levels.`;

/** Whether `value` (parsed JSON) nests arrays and objects deeper than `max`; iterative, so any depth is safe to ask about. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (child !== null && typeof child === 'object') pending.push([child, depth + 1]);
    }
  }
  return false;
}

export const INVALID_CONTENT_LENGTH = 'Content-Length must be one non-negative integer.';

const CONTENT_LENGTH = /^\d+$/;
const utf8 = new TextDecoder('utf-8');

/**
 * A request body as UTF-8 text, at most `max` bytes (GraphQL POSTs and the REST API both read theirs
 * here; MAX_BODY_BYTES).
 *
 * A declared Content-Length over the limit is refused before anything is read. Under it, node:http
 * delivers exactly the declared bytes, so the body is read in one go (and its size checked again, for
 * callers that are not node:http). A body without one (chunked) is counted while it is read and
 * abandoned past the limit.
 *
 * Yoga's own limit (`maxRequestBodySize`, switched off in app.ts) pipes every body through a web
 * TransformStream and a stream pipeline, whatever its Content-Length says: on a small authenticated
 * query that was ~15 % of the server's CPU (the pipeline's AbortController alone builds a DOMException,
 * with its stack, per request), measured with the bench's profile.
 */
export async function readBoundedText(request: Request, max: number, refuse: BodyRefusals): Promise<string> {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    if (!CONTENT_LENGTH.test(declared)) throw refuse.invalidLength();
    if (Number(declared) > max) throw refuse.tooLarge();
    const bytes = await request.arrayBuffer();
    if (bytes.byteLength > max) throw refuse.tooLarge();
    return utf8.decode(bytes);
  }
  if (!request.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw refuse.tooLarge();
    }
    chunks.push(value);
  }
  return utf8.decode(Buffer.concat(chunks));
}

/**
 * The body parsed as JSON (any JSON value: the caller checks its shape), read as `readBoundedText`,
 * nested at most MAX_JSON_DEPTH deep.
 */
export async function readBoundedJson(request: Request, max: number, refuse: BodyRefusals): Promise<unknown> {
  const text = await readBoundedText(request, max, refuse);
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    throw refuse.invalidJson();
  }
  // Each level takes two characters: a shorter text cannot be too deep.
  if (text.length > 2 * MAX_JSON_DEPTH && nestedDeeperThan(body, MAX_JSON_DEPTH)) throw refuse.tooDeep();
  return body;
}
