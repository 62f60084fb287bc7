import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { requestTimeoutError } from '../errors/index.js';
import { Slots } from '../lib/slots.js';
import { RequestSignal } from '../request-signal.js';

export { RequestSignal, requestTimeoutError };

interface Deadline {
  readonly request: Request;
  readonly signal: RequestSignal;
  /** `performance.now()` after which the request is aborted. */
  readonly expiresAt: number;
  /** Its slot in `watched`. */
  slot: number;
}

/**
 * A request's deadline, on the request itself (as request-info.ts keeps its record): requestSignal
 * finds it there, and the response hook ends it.
 */
const DEADLINE = Symbol('request deadline');
type WithDeadline = Request & { [DEADLINE]?: Deadline | undefined };

/** The deadlines being watched (in slots, not a Map keyed by request: see Slots). */
const watched = new Slots<Deadline>();
/** The sweep's period: a tenth of the shortest deadline, between 10 and 100 ms. */
let tickMs = 100;
let sweeper: NodeJS.Timeout | undefined;

/** Stops watching `deadline` (aborted, or its request answered). */
function unwatch(deadline: Deadline): void {
  watched.delete(deadline.slot, deadline);
  (deadline.request as WithDeadline)[DEADLINE] = undefined;
}

/**
 * One timer for every request instead of a timer and an abort listener each: every `tickMs` it aborts
 * the requests past their deadline and those whose client went away, and stops when none is left. A
 * deadline so fires at most one tick late (10 ms for a 100 ms deadline, 100 ms for the default 15 s);
 * a closed connection is noticed within a tick. (A timer plus a listener on the adapter's request
 * signal, a Proxy, per request was 2 % of node-by-id's CPU in the benchmark.)
 */
function sweep() {
  const now = performance.now();
  for (const deadline of watched) {
    const { request, signal } = deadline;
    if (now >= deadline.expiresAt) signal.abort(requestTimeoutError());
    else if (request.signal.aborted) signal.abort(request.signal.reason);
    else continue;
    unwatch(deadline);
  }
  if (watched.size === 0) {
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
  const known = (request as WithDeadline)[DEADLINE];
  if (known) return known.signal;
  const signal = new RequestSignal();
  if (request.signal.aborted) {
    signal.abort(request.signal.reason);
    return signal;
  }
  const deadline: Deadline = { request, signal, expiresAt: performance.now() + timeoutMs, slot: -1 };
  deadline.slot = watched.add(deadline);
  (request as WithDeadline)[DEADLINE] = deadline;
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
export const watchedRequests = (): number => watched.size;

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
      const deadline = (request as WithDeadline)[DEADLINE];
      if (deadline) unwatch(deadline);
    },
  };
}
