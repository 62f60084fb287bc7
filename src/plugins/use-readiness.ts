import type { Plugin } from 'graphql-yoga';
import { methodNotAllowed } from '../errors/index.js';
import { PROBE_THROTTLE, throttled } from '../lib/throttled.js';
import { withTimeout } from '../lib/timeout.js';
import type { ReadinessCheck } from '../readiness.js';
import { requestRouteOf } from '../request-info.js';

export type { ReadinessCheck };

export interface ReadinessOptions {
  checks: ReadinessCheck[];
  /** Longest a check may take before it counts as failed. Default 1000 ms. */
  timeoutMs?: number;
  /** True once shutdown has begun: readiness then fails at once, so traffic drains away. */
  isShuttingDown: () => boolean;
}

/**
 * Readiness at `/ready`: JSON with each check's state, 503 when a critical check fails or while
 * shutting down. The body names checks and states only, never errors, hosts or connection strings.
 * The checks (a database round trip each) are shared by concurrent probes, and past PROBE_THROTTLE's
 * budget a probe gets the latest result: anyone may call `/ready`, and a flood of it must not take
 * the pool's connections from the API.
 */
export function useReadiness({ checks, timeoutMs = 1000, isShuttingDown }: ReadinessOptions): Plugin {
  const evaluate = throttled(
    () =>
      Promise.all(
        checks.map(async ({ name, check, critical = true }) => {
          try {
            await withTimeout(check(), timeoutMs);
            return { name, ok: true, critical };
          } catch {
            return { name, ok: false, critical };
          }
        }),
      ),
    PROBE_THROTTLE,
  );
  return {
    // Not async: on every other route it returns nothing, so Yoga's hook chain stays synchronous.
    onRequest({ request, fetchAPI, endResponse }) {
      if (requestRouteOf(request) !== 'ready') return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(methodNotAllowed(fetchAPI, ['GET', 'HEAD']));
        return;
      }
      const headers = { 'cache-control': 'no-store' };
      if (isShuttingDown()) {
        endResponse(fetchAPI.Response.json({ status: 'shutting_down', checks: {} }, { status: 503, headers }));
        return;
      }
      return evaluate().then((results) => {
        const ready = results.every((r) => r.ok || !r.critical);
        const body = {
          status: ready ? 'ready' : 'not_ready',
          checks: Object.fromEntries(results.map((r) => [r.name, { status: r.ok ? 'up' : 'down', critical: r.critical }])),
        };
        endResponse(fetchAPI.Response.json(body, { status: ready ? 200 : 503, headers }));
      });
    },
  };
}
