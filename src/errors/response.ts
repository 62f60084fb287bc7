import { ERROR_CODES, ErrorCode } from './codes.js';

/**
 * The one shape of every refusal the service answers before GraphQL runs (404, 405, 401, 403, 406,
 * 415, 429): a GraphQL-style JSON body with a stable `extensions.code`, so clients handle them as they
 * handle GraphQL errors. Messages are fixed text: nothing from the request, no host, path or stack.
 */
export function refusalBody(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): string {
  return JSON.stringify({ errors: [{ message, extensions: { code, ...extensions } }] });
}

/**
 * The raw HTTP/1.1 answer to a request node:http could not read (its `clientError`: headers over its
 * 16 KiB limit, a malformed request, one not received within `REQUEST_TIMEOUT_MS`), with the same JSON
 * body as every other refusal. Node's own answer to these has no body.
 */
export function clientErrorResponse(errorCode: string | undefined): string {
  const [status, reason, code, message] =
    errorCode === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', ErrorCode.BAD_REQUEST, 'Request headers too large.']
      : errorCode === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', ErrorCode.REQUEST_TIMEOUT, 'The request was not received in time.']
        : [400, 'Bad Request', ErrorCode.BAD_REQUEST, 'Malformed HTTP request.'];
  const body = refusalBody(code, message);
  return (
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${REFUSAL_HEADERS['content-type']}\r\nCache-Control: ${REFUSAL_HEADERS['cache-control']}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** Headers of every refusal. */
export const REFUSAL_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } as const;

export interface RefusalOptions {
  headers?: Record<string, string>;
  /** Extra `extensions` beside `code` (e.g. `retryAfterS`). */
  extensions?: Record<string, unknown>;
}

/** A refusal response with the code's status (ERROR_CODES); `fetchAPI` is the one of the hook (Yoga's Response). */
export function refusal(fetchAPI: { Response: typeof Response }, code: ErrorCode, message: string, { headers, extensions }: RefusalOptions = {}): Response {
  return new fetchAPI.Response(refusalBody(code, message, extensions), {
    status: ERROR_CODES[code].status,
    headers: { ...REFUSAL_HEADERS, ...headers },
  });
}

export const NOT_FOUND_MESSAGE = 'Not found.';

/** 404 for a path that is not a route of this listener. */
export const notFound = (fetchAPI: { Response: typeof Response }) => refusal(fetchAPI, ErrorCode.NOT_FOUND, NOT_FOUND_MESSAGE);

/** 405 for a method the route does not serve, with the `Allow` header RFC 9110 asks for. */
export const methodNotAllowed = (fetchAPI: { Response: typeof Response }, allow: readonly string[]) =>
  refusal(fetchAPI, ErrorCode.METHOD_NOT_ALLOWED, `Method not allowed; use ${allow.join(' or ')}.`, {
    headers: { allow: allow.join(', ') },
  });
