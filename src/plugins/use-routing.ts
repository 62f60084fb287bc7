import type { Plugin } from 'graphql-yoga';
import { ErrorCode, refusal, notFound } from '../errors/index.js';
import { noteRequest, requestInfoOf, requestRouteOf } from '../request-info.js';
import { ALL_ROUTES, type Route } from '../routes.js';

export interface RoutingOptions {
  /** The routes this listener serves; every other path is 404. Default: all of ROUTES. */
  routes?: readonly Route[];
  /** True when CORS is configured (Yoga's `cors` option): every response then varies by `Origin`. */
  cors?: boolean;
}

const preflightRefused = (fetchAPI: { Response: typeof Response }) =>
  refusal(fetchAPI, ErrorCode.CORS_ORIGIN_NOT_ALLOWED, 'Cross-origin requests are not allowed from this origin.');

/**
 * The first plugin: classifies the request once (`request-info`: id, route, start) and decides which
 * requests reach the others. A path that is not a served route is 404 before any other plugin or
 * Yoga's GraphQL handling runs; only the `/graphql` route ever gets to request parsing. Yoga's own
 * CORS, GraphiQL and health-check hooks run before any user plugin and match paths loosely (a GraphiQL
 * page at `/graphql/`), so their answers on other paths become the same 404 here. An OPTIONS request
 * Yoga's CORS did not approve (or every one, without CORS) is refused with 403.
 * Echoes the request id as `x-request-id` on every response.
 */
export function useRouting({ routes = ALL_ROUTES, cors = false }: RoutingOptions = {}): Plugin {
  const served = new Set<Route | null>(routes);
  return {
    onRequest({ request, url, fetchAPI, endResponse }) {
      const info = noteRequest(request, url.pathname);
      if (!served.has(info.route)) endResponse(notFound(fetchAPI));
      // With CORS configured Yoga answers every OPTIONS itself, so this is "no CORS at all".
      else if (request.method === 'OPTIONS') endResponse(preflightRefused(fetchAPI));
    },
    onRequestParse({ request, fetchAPI, endResponse }) {
      // The door to GraphQL processing, whatever Yoga's own path matching let through.
      if (requestRouteOf(request) !== 'graphql') endResponse(notFound(fetchAPI));
    },
    onResponse({ request, response, setResponse, fetchAPI }) {
      const info = requestInfoOf(request);
      let final = response;
      if (!served.has(info.route) && response.status !== 404) final = notFound(fetchAPI);
      else if (request.method === 'OPTIONS' && response.status === 204 && !response.headers.has('access-control-allow-origin')) {
        final = preflightRefused(fetchAPI);
      }
      if (final !== response) setResponse(final);
      final.headers.set('x-request-id', info.id);
      if (cors && !final.headers.get('vary')?.includes('Origin')) final.headers.append('vary', 'Origin');
    },
  };
}
