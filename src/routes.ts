/**
 * The service's HTTP routes, in one place. A request is on a route when its URL pathname is exactly
 * the route's path: no trailing slash, no case folding, no decoding (URL parsing itself resolves dot
 * segments). Yoga's own matching is looser (any URL that ends in `/graphql` or `/graphql/`), so
 * `useRouting` refuses every request this module does not place before Yoga sees it.
 */
export const ROUTES = {
  graphql: '/graphql',
  health: '/health',
  ready: '/ready',
  metrics: '/metrics',
  /** A prefix: GraphiQL's code, styles, editor workers and icon (served when GraphiQL is on). */
  graphiqlAssets: '/graphiql/',
  /** The REST API's OpenAPI document (public, like the schema GraphiQL shows). */
  openapi: '/api/v1/openapi.json',
  /** A prefix: the REST API's documentation page (`/api/v1/docs/`) and its Swagger UI files. */
  apiDocs: '/api/v1/docs/',
  /** A prefix: the REST API (src/rest/), the same operations as GraphQL; paths below it are matched there. */
  rest: '/api/v1/',
} as const;

export type Route = keyof typeof ROUTES;

/** Every route; a listener serves all of them unless told otherwise (`METRICS_PORT` moves /metrics). */
export const ALL_ROUTES = Object.keys(ROUTES) as readonly Route[];

const PREFIXES = new Set<Route>(['graphiqlAssets', 'apiDocs', 'rest']);
const BY_PATH = new Map<string, Route>(ALL_ROUTES.filter((r) => !PREFIXES.has(r)).map((route) => [ROUTES[route], route]));

/** The route of a parsed URL pathname, or null when it is none of them (exact paths win over prefixes). */
export function routeOf(pathname: string): Route | null {
  const exact = BY_PATH.get(pathname);
  if (exact) return exact;
  if (pathname.startsWith(ROUTES.graphiqlAssets)) return 'graphiqlAssets';
  if (pathname.startsWith(ROUTES.apiDocs)) return 'apiDocs';
  return pathname.startsWith(ROUTES.rest) ? 'rest' : null;
}

/** Routes that run operations: authenticated, rate limited and limited like GraphQL itself. */
export const isApiRoute = (route: Route | null): boolean => route === 'graphql' || route === 'rest';
