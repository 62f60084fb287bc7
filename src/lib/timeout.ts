/**
 * Bounded waits. The timer is cleared as soon as the promise settles, so a finished wait holds the
 * process for nothing; the promise itself is not cancelled (nothing here can cancel it).
 */

/** Settles as `promise` does, or rejects with `new Error(message)` once `ms` have passed. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message = 'timed out'): Promise<T> {
  return race<T, never>(promise, ms, (_resolve, reject) => reject(new Error(message)));
}

/** Settles as `promise` does, or resolves to undefined once `ms` have passed: for waits that may give up. */
export function waitAtMost<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return race<T, undefined>(promise, ms, (resolve) => resolve(undefined));
}

function race<T, F>(promise: Promise<T>, ms: number, onTimeout: (resolve: (value: F) => void, reject: (error: Error) => void) => void): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<F>((resolve, reject) => {
    timer = setTimeout(() => onTimeout(resolve, reject), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
