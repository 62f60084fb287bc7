/**
 * The one shape of every refusal the service answers before GraphQL runs (404, 405, 401, 403, 406,
 * 415, 429): a GraphQL-style JSON body with a stable `extensions.code`, so clients handle them as they
 * handle GraphQL errors. Messages are fixed text: nothing from the request, no host, path or stack.
 */
export function refusalBody(code: string, message: string, extensions: Record<string, unknown> = {}): string {
  return JSON.stringify({ errors: [{ message, extensions: { code, ...extensions } }] });
}

export interface RefusalOptions {
  headers?: Record<string, string>;
  /** Extra `extensions` beside `code` (e.g. `retryAfterS`). */
  extensions?: Record<string, unknown>;
}

/** A refusal response; `fetchAPI` is the one of the hook (Yoga's Response). */
export function refusal(
  fetchAPI: { Response: typeof Response },
  status: number,
  code: string,
  message: string,
  { headers, extensions }: RefusalOptions = {},
): Response {
  return new fetchAPI.Response(refusalBody(code, message, extensions), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

/** 404 for a path that is not a route of this listener. */
export const notFound = (fetchAPI: { Response: typeof Response }) => refusal(fetchAPI, 404, 'NOT_FOUND', 'Not found.');

/** 405 for a method the route does not serve, with the `Allow` header RFC 9110 asks for. */
export const methodNotAllowed = (fetchAPI: { Response: typeof Response }, allow: readonly string[]) =>
  refusal(fetchAPI, 405, 'METHOD_NOT_ALLOWED', `Method not allowed; use ${allow.join(' or ')}.`, { headers: { allow: allow.join(', ') } });
