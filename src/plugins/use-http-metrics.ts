import type { Plugin } from 'graphql-yoga';
import { type Metrics, routeLabel } from '../metrics.js';
import { requestElapsedMs, requestPathOf } from './use-request-id.js';

/** `http_requests_total` and `http_request_duration_seconds` by method, templated route and status. */
export function useHttpMetrics({ metrics }: { metrics: Metrics }): Plugin {
  return {
    onResponse({ request, response }) {
      const method = ['GET', 'POST', 'HEAD', 'OPTIONS'].includes(request.method) ? request.method : 'other';
      const labels = { method, route: routeLabel(requestPathOf(request)), status: String(response.status) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, requestElapsedMs(request) / 1000);
    },
  };
}
