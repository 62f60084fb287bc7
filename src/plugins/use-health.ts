import type { Plugin } from 'graphql-yoga';

export interface HealthOptions {
  /** Path of the liveness endpoint. Default `/health`. */
  endpoint?: string;
}

/**
 * Liveness: answers `{"status":"healthy"}` while the process can serve HTTP. It never touches the
 * database or any other dependency, so a database outage does not get the pod restarted.
 */
export function useHealth(options: HealthOptions = {}): Plugin {
  const endpoint = options.endpoint ?? '/health';
  return {
    onRequest({ request, url, fetchAPI, endResponse }) {
      if (url.pathname !== endpoint) return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(new fetchAPI.Response(null, { status: 405, headers: { allow: 'GET, HEAD' } }));
        return;
      }
      endResponse(fetchAPI.Response.json({ status: 'healthy' }, { headers: { 'cache-control': 'no-store' } }));
    },
  };
}
