import type { Plugin } from 'graphql-yoga';
import type { Metrics } from '../metrics.js';

/** Serves the registry in Prometheus text format at `/metrics` (when no separate METRICS_PORT is set). */
export function useMetricsEndpoint({ metrics, endpoint = '/metrics' }: { metrics: Metrics; endpoint?: string }): Plugin {
  return {
    async onRequest({ url, fetchAPI, endResponse, request }) {
      if (url.pathname !== endpoint || request.method !== 'GET') return;
      const body = await metrics.registry.metrics();
      endResponse(new fetchAPI.Response(body, { headers: { 'content-type': metrics.registry.contentType } }));
    },
  };
}
