import { performance } from 'node:perf_hooks';
import type { Plugin } from 'graphql-yoga';
import { type Metrics, routeLabel } from '../metrics.js';

/** `http_requests_total` and `http_request_duration_seconds` by method, templated route and status. */
export function useHttpMetrics({ metrics }: { metrics: Metrics }): Plugin {
  const started = new WeakMap<Request, number>();
  return {
    onRequest({ request }) {
      started.set(request, performance.now());
    },
    onResponse({ request, response }) {
      const start = started.get(request);
      const method = ['GET', 'POST', 'HEAD', 'OPTIONS'].includes(request.method) ? request.method : 'other';
      const labels = { method, route: routeLabel(new URL(request.url).pathname), status: String(response.status) };
      metrics.httpRequests.inc(labels);
      if (start !== undefined) metrics.httpDuration.observe(labels, (performance.now() - start) / 1000);
    },
  };
}
