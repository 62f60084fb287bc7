import type { Plugin } from 'graphql-yoga';
import { type Metrics, routeLabel } from '../metrics.js';
import { requestElapsedMs, requestRouteOf } from '../request-info.js';

/** `http_requests_total` and `http_request_duration_seconds` by method, templated route and status. */
export function useHttpMetrics({ metrics }: { metrics: Metrics }): Plugin {
  return {
    onResponse({ request, response }) {
      const method = ['GET', 'POST', 'HEAD', 'OPTIONS'].includes(request.method) ? request.method : 'other';
      const labels = { method, route: routeLabel(requestRouteOf(request)), status: String(response.status) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, requestElapsedMs(request) / 1000);
    },
  };
}
