import type { Plugin } from 'graphql-yoga';
import type { Metrics } from '../metrics.js';
import { methodNotAllowed } from '../errors/index.js';
import { requestRouteOf } from '../request-info.js';

/** Serves the registry in Prometheus text format at `/metrics` (when no separate METRICS_PORT is set). */
export function useMetricsEndpoint({ metrics }: { metrics: Metrics }): Plugin {
  return {
    // Not async: on every other route it returns nothing, so Yoga's hook chain stays synchronous.
    onRequest({ fetchAPI, endResponse, request }) {
      if (requestRouteOf(request) !== 'metrics') return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(methodNotAllowed(fetchAPI, ['GET', 'HEAD']));
        return;
      }
      return metrics.render().then((body) => endResponse(new fetchAPI.Response(body, { headers: { 'content-type': metrics.registry.contentType } })));
    },
  };
}
