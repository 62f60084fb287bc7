import type { Plugin } from 'graphql-yoga';
import { type Metrics, routeLabel } from '../metrics.js';
import { requestElapsedMs, requestRouteOf } from '../request-info.js';

const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS']);

/** `http_requests_total` and `http_request_duration_seconds` by method, templated route and status. */
export function useHttpMetrics({ metrics }: { metrics: Metrics }): Plugin {
  return {
    onResponse({ request, response }) {
      // PUT and DELETE are the REST API's; any other method folds into "other" (bounded labels).
      const method = METHODS.has(request.method) ? request.method : 'other';
      const labels = { method, route: routeLabel(requestRouteOf(request)), status: String(response.status) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, requestElapsedMs(request) / 1000);
    },
  };
}
