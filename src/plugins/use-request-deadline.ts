import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { requestTimeoutError } from '../errors/index.js';
import { RequestSignal } from '../request-signal.js';

export { RequestSignal, requestTimeoutError };

interface Deadline {
  readonly signal: RequestSignal;
  /** `performance.now()` after which the request is aborted. */
  readonly expiresAt: number;
}

/** Requests in flight, in arrival order (a Map keeps insertion order). */
const inFlight = new Map<Request, Deadline>();
/** The sweep's period: a tenth of the shortest deadline, between 10 and 100 ms. */
let tickMs = 100;
let sweeper: NodeJS.Timeout | undefined;

/**
 * One timer for every request instead of a timer and an abort listener each: every `tickMs` it aborts
 * the requests past their deadline and those whose client went away, and stops when none is left. A
 * deadline so fires at most one tick late (10 ms for a 100 ms deadline, 100 ms for the default 15 s);
 * a closed connection is noticed within a tick. (A timer plus a listener on the adapter's request
 * signal, a Proxy, per request was 2 % of node-by-id's CPU in the benchmark.)
 */
function sweep() {
  const now = performance.now();
  for (const [request, deadline] of inFlight) {
    if (now >= deadline.expiresAt) deadline.signal.abort(requestTimeoutError());
    else if (request.signal.aborted) deadline.signal.abort(request.signal.reason);
    else continue;
    inFlight.delete(request);
  }
  if (inFlight.size === 0) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

/**
 * The request's signal: aborts when REQUEST_TIMEOUT_MS passes or the client goes away (see `sweep`).
 * Not `AbortSignal.timeout`, whose DOMException Yoga would take for a client abort and answer with
 * nothing; one plain signal, not `AbortSignal.any()`, whose composite signal the executor would
 * recompute on every field.
 */
export function requestSignal(request: Request, timeoutMs: number): RequestSignal {
  const known = inFlight.get(request);
  if (known) return known.signal;
  const signal = new RequestSignal();
  if (request.signal.aborted) {
    signal.abort(request.signal.reason);
    return signal;
  }
  inFlight.set(request, { signal, expiresAt: performance.now() + timeoutMs });
  const period = Math.min(100, Math.max(10, Math.floor(timeoutMs / 10)));
  if (sweeper === undefined || period < tickMs) {
    clearInterval(sweeper);
    tickMs = period;
    sweeper = setInterval(sweep, tickMs);
    sweeper.unref();
  }
  return signal;
}

/** Requests whose deadline is still being watched (tests check that finished requests leave none). */
export const watchedRequests = (): number => inFlight.size;

/**
 * Hands the context's signal to the executor, so no resolver starts after the deadline (the database
 * enforces the same deadline as statement_timeout), and stops watching the request once it is answered.
 */
export function useRequestDeadline(): Plugin<Context> {
  return {
    onExecute({ args }) {
      // The executor reads only what RequestSignal has of an AbortSignal.
      (args as { signal?: unknown }).signal = (args.contextValue as Context).signal;
    },
    onResponse({ request }) {
      inFlight.delete(request);
    },
  };
}
