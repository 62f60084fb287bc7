import {
  BrokenCircuitError,
  BulkheadRejectedError,
  bulkhead,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  decorrelatedJitterGenerator,
  ExponentialBackoff,
  handleWhen,
  IsolatedCircuitError,
  retry,
  timeout,
  TimeoutStrategy,
} from 'cockatiel';

/**
 * Resilience around calls to a downstream HTTP dependency, built from cockatiel's policies (no
 * hand-written breaker). From the outside in:
 *
 *   bulkhead (max concurrent calls, bounded queue)
 *   → retry (jittered exponential backoff; idempotent calls and retryable failures only)
 *   → circuit breaker (consecutive failures; half-open after a pause, with a few probes; calls past
 *     the probes are shed, as gobreaker does)
 *   → timeout (per attempt; the caller's AbortSignal cancels it too)
 *
 * The breaker sits inside the retry, so every attempt counts, as a call does in gobreaker; an open
 * breaker's BrokenCircuitError is not retryable, so a retry never waits behind an open breaker.
 */

/** Why a call failed, as metrics and logs name it; never the downstream's own text, host or URL. */
export type FailureKind = 'timeout' | 'network' | 'http' | 'invalid_response';

/** A failure of the downstream (or of the way to it): counts for the breaker; some are retried. */
export class DownstreamFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    readonly retryable: boolean,
    /** The HTTP status, for `http`. */
    readonly status?: number,
  ) {
    super(status === undefined ? `downstream ${kind}` : `downstream ${kind} ${status}`);
    this.name = 'DownstreamFailure';
  }
}

/** The caller went away or its request deadline passed: not the downstream's fault, never counted or retried. */
export class CallerAbortedError extends Error {
  constructor() {
    super('the caller aborted');
    this.name = 'CallerAbortedError';
  }
}

/** HTTP statuses worth another attempt: overload and gateway trouble, all transient by definition. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** Circuit states as the `downstream_circuit_state` gauge reports them. */
export const CIRCUIT_GAUGE = { closed: 0, halfOpen: 1, open: 2 } as const;
export type CircuitName = keyof typeof CIRCUIT_GAUGE;

export interface PolicyOptions {
  timeoutMs: number;
  retries: number;
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
  /** Opens after more than this many consecutive failures. */
  breakerFailures: number;
  breakerHalfOpenAfterMs: number;
  breakerProbes: number;
  maxConcurrent: number;
  maxQueue: number;
  /** Every change of the breaker's state. */
  onStateChange?: (state: CircuitName) => void;
  /** Every attempt that reached the downstream, and every call shed without reaching it (0 s). */
  onCall?: (outcome: CallOutcome, seconds: number) => void;
}

/** The `outcome` label of `downstream_call_duration_seconds`. */
export type CallOutcome = 'success' | FailureKind | 'cancelled' | 'circuit_open' | 'bulkhead_rejected' | 'error';

export interface CallOptions {
  /** Only idempotent calls are retried. */
  idempotent: boolean;
  /** The caller's signal (the request's deadline and disconnect). */
  signal: AbortSignal;
}

export interface DownstreamPolicy {
  /**
   * Runs `attempt` under the policies; `attempt` gets a signal that aborts on the per-call timeout or
   * when the caller aborts. Rejects with DownstreamFailure, BrokenCircuitError, BulkheadRejectedError
   * or CallerAbortedError.
   */
  execute<T>(attempt: (signal: AbortSignal) => Promise<T>, options: CallOptions): Promise<T>;
  readonly state: CircuitName;
  /** Calls waiting for a bulkhead slot. */
  readonly queueLength: number;
}

const circuitName = (state: CircuitState): CircuitName => (state === CircuitState.Closed ? 'closed' : state === CircuitState.HalfOpen ? 'halfOpen' : 'open');

/** True for the ways a call fails without reaching the downstream: the breaker or the bulkhead said no. */
export function isShed(error: unknown): boolean {
  return error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError || error instanceof BulkheadRejectedError;
}

const outcomeOf = (error: unknown): CallOutcome => (error instanceof DownstreamFailure ? error.kind : error instanceof CallerAbortedError ? 'cancelled' : 'error');

export function createPolicy(options: PolicyOptions): DownstreamPolicy {
  const onCall = options.onCall ?? (() => undefined);
  const isFailure = (e: unknown) => e instanceof DownstreamFailure;
  const breaker = circuitBreaker(handleWhen(isFailure), {
    // ConsecutiveBreaker(n) opens at the n-th consecutive failure; gobreaker's rule is "more than n".
    breaker: new ConsecutiveBreaker(options.breakerFailures + 1),
    halfOpenAfter: options.breakerHalfOpenAfterMs,
    // gobreaker's MaxRequests: this many probes; one failure reopens, all succeeding closes.
    halfOpenSampling: { calls: options.breakerProbes, threshold: 0 },
  });
  // Probes started in the current half-open period. cockatiel lets `calls` probes through and makes
  // later calls wait for their verdict (up to a timeout each); gobreaker, the seed's policy, refuses
  // them at once (ErrTooManyRequests), so a half-open breaker costs no caller any waiting. So do we.
  let probesStarted = 0;
  breaker.onStateChange((state) => {
    probesStarted = 0;
    options.onStateChange?.(circuitName(state));
  });
  const retrying = retry(
    handleWhen((e) => e instanceof DownstreamFailure && e.retryable),
    {
      maxAttempts: options.retries,
      backoff: new ExponentialBackoff({
        initialDelay: options.retryInitialDelayMs,
        maxDelay: options.retryMaxDelayMs,
        generator: decorrelatedJitterGenerator,
      }),
    },
  );
  const perCall = timeout(options.timeoutMs, TimeoutStrategy.Cooperative);
  const slots = bulkhead(options.maxConcurrent, options.maxQueue);
  /** One attempt: through the breaker (unless it is half-open with every probe out), under the timeout. */
  const guarded = <T>(attempt: (signal: AbortSignal) => Promise<T>, signal: AbortSignal) => {
    if (breaker.state === CircuitState.HalfOpen && probesStarted >= options.breakerProbes) {
      return Promise.reject(new BrokenCircuitError('half-open: every probe is out'));
    }
    return breaker.execute(
      ({ signal: s }) =>
        perCall.execute(({ signal: perCallSignal }) => {
          // Runs synchronously from breaker.execute, so the count is right before the next caller looks.
          if (breaker.state === CircuitState.HalfOpen) probesStarted++;
          return attempt(perCallSignal);
        }, s),
      signal,
    );
  };

  return {
    async execute<T>(attempt: (signal: AbortSignal) => Promise<T>, { idempotent, signal: caller }: CallOptions): Promise<T> {
      if (caller.aborted) throw new CallerAbortedError();
      const once = async (signal: AbortSignal) => {
        const started = performance.now();
        try {
          const value = await attempt(signal);
          onCall('success', (performance.now() - started) / 1000);
          return value;
        } catch (error) {
          const failure = caller.aborted
            ? new CallerAbortedError()
            : // Our own timeout aborted the attempt (fetch rejects with an AbortError then).
              signal.aborted
              ? new DownstreamFailure('timeout', true)
              : error;
          onCall(outcomeOf(failure), (performance.now() - started) / 1000);
          throw failure;
        }
      };
      const run = slots.execute(({ signal }) => (idempotent ? retrying.execute(({ signal: s }) => guarded(once, s), signal) : guarded(once, signal)), caller);
      try {
        // The bulkhead's queue and the retry's backoff do not watch the caller's signal; the caller stops
        // waiting at its deadline all the same.
        return await raceAbort(run, caller);
      } catch (error) {
        if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError) onCall('circuit_open', 0);
        else if (error instanceof BulkheadRejectedError) onCall('bulkhead_rejected', 0);
        throw error;
      }
    },
    get state() {
      return circuitName(breaker.state);
    },
    get queueLength() {
      return options.maxQueue - slots.queueSlots;
    },
  };
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CallerAbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
