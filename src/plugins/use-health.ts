import type { Plugin } from 'graphql-yoga';
import { methodNotAllowed } from '../errors/index.js';
import { requestRouteOf } from '../request-info.js';

/**
 * Liveness at `/health`: answers `{"status":"healthy"}` while the process can serve HTTP. It never
 * touches the database or any other dependency, so a database outage does not get the pod restarted.
 */
export function useHealth(): Plugin {
  return {
    onRequest({ request, fetchAPI, endResponse }) {
      if (requestRouteOf(request) !== 'health') return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(methodNotAllowed(fetchAPI, ['GET', 'HEAD']));
        return;
      }
      endResponse(fetchAPI.Response.json({ status: 'healthy' }, { headers: { 'cache-control': 'no-store' } }));
    },
  };
}
