/** A task that runs again and again, one pass at a time, until stopped. Its functions are closures. */
export interface PeriodicTask {
  /** Schedules the first pass (after `firstRunAfterMs`); does nothing while started. */
  readonly start: () => void;
  /** Runs the next pass now instead of at the end of its wait; no effect during a pass or when stopped. */
  readonly wake: () => void;
  /** Cancels the next pass and resolves once the pass in flight, if any, has finished. */
  readonly stop: () => Promise<void>;
}

export interface PeriodicOptions {
  /** Wait before the first pass; 0 runs it within `start()`. */
  firstRunAfterMs: number;
  /** Let the process exit while waiting for the next pass (the timer is unref'd). */
  unref: boolean;
}

/**
 * Runs `pass` after `firstRunAfterMs`, then again after the wait each pass resolves to (0: at once).
 * Passes never overlap: the next wait starts when a pass ends. `pass` handles its own failures (logs
 * them and says when to retry); it must not reject.
 */
export function periodic(pass: () => Promise<number>, { firstRunAfterMs, unref }: PeriodicOptions): PeriodicTask {
  let stopped = true;
  // A pass still in flight when stop() then start() are called ends its own chain, not the new one.
  let generation = 0;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;

  const run = (gen: number) => {
    timer = undefined;
    inFlight = pass().then((ms) => schedule(ms, gen));
  };
  function schedule(ms: number, gen: number) {
    if (stopped || gen !== generation) return;
    if (ms <= 0) return run(gen);
    timer = setTimeout(run, ms, gen);
    if (unref) timer.unref();
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(firstRunAfterMs, ++generation);
    },
    wake() {
      if (stopped || timer === undefined) return;
      clearTimeout(timer);
      run(generation);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await inFlight;
    },
  };
}
