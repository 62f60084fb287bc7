import type { CORSOptions } from 'graphql-yoga';

/** Request headers a cross-origin page may send: its bearer token, JSON, a request id, an idempotency key. */
const ALLOWED_HEADERS = ['authorization', 'content-type', 'accept', 'x-request-id', 'idempotency-key'];
/** Response headers its script may read. */
const EXPOSED_HEADERS = ['x-request-id', 'retry-after', 'www-authenticate', 'idempotent-replayed'];

export type CorsOption = false | ((request: Request) => CORSOptions);

/**
 * Yoga's `cors` option for `CORS_ORIGINS`. No origins: `false`, so Yoga installs no CORS handling and
 * no response carries an `Access-Control-*` header (`useRouting` refuses preflights). Otherwise an
 * allowed `Origin` (exact match, or any with `*`) is echoed, never `*`, and other origins get no
 * CORS headers. Credentials are never allowed: the API authenticates by a bearer token the page
 * sends itself, never by cookies, so a cross-origin page gets nothing a browser would add for it.
 */
export function corsOption(origins: readonly string[]): CorsOption {
  if (origins.length === 0) return false;
  const anyOrigin = origins.includes('*');
  const allowed = new Set(origins);
  const forOrigin = (origin: string): CORSOptions => ({
    origin,
    methods: ['GET', 'POST'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    credentials: false,
    maxAge: 600,
  });
  // Listed origins are few: their options are built once.
  const built = new Map(origins.filter((o) => o !== '*').map((o) => [o, forOrigin(o)]));
  return (request) => {
    const origin = request.headers.get('origin');
    if (origin === null) return false;
    if (anyOrigin) return forOrigin(origin);
    return (allowed.has(origin) && built.get(origin)) || false;
  };
}
