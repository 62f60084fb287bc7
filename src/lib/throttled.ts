export interface ThrottleOptions {
  /** Fresh runs per window; callers past them get the latest result. */
  runs: number;
  windowS: number;
}

/**
 * `produce`, shared by its callers: while a run is in flight every caller gets that run, and once
 * `runs` runs have started within `windowS` seconds callers get the latest result instead of a new one.
 * For answers anyone may ask for as often as they like and that cost the service to make (readiness
 * checks, a /metrics render): a flood costs at most `runs` of them per window, while an occasional
 * caller (a probe every few seconds, a scrape every 15) always gets a fresh answer.
 */
export function throttled<T>(produce: () => Promise<T>, { runs, windowS }: ThrottleOptions): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  let latest: Promise<T> | undefined;
  // A fixed window, counted synchronously: callers arriving together see one run in flight, not one
  // budget check each (rate-limiter-flexible's consume is asynchronous).
  let windowEndsAt = 0;
  let started = 0;
  const withinBudget = () => {
    const now = Date.now();
    if (now >= windowEndsAt) {
      windowEndsAt = now + windowS * 1000;
      started = 0;
    }
    return started++ < runs;
  };
  const start = () => {
    const run = produce().finally(() => {
      if (inFlight === run) inFlight = undefined;
    });
    inFlight = latest = run;
    return run;
  };
  return () => inFlight ?? (withinBudget() || !latest ? start() : latest);
}

/** The probes' budget (`/ready`'s checks, `/metrics` renders): Kubernetes and Prometheus ask far less often. */
export const PROBE_THROTTLE: ThrottleOptions = { runs: 10, windowS: 5 };
