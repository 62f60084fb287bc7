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
} as const;

export type Route = keyof typeof ROUTES;

/** Every route; a listener serves all of them unless told otherwise (`METRICS_PORT` moves /metrics). */
export const ALL_ROUTES = Object.keys(ROUTES) as readonly Route[];

const BY_PATH = new Map<string, Route>(ALL_ROUTES.filter((r) => r !== 'graphiqlAssets').map((route) => [ROUTES[route], route]));

/** The route of a parsed URL pathname, or null when it is none of them. */
export function routeOf(pathname: string): Route | null {
  return BY_PATH.get(pathname) ?? (pathname.startsWith(ROUTES.graphiqlAssets) ? 'graphiqlAssets' : null);
}
