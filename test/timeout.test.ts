import { describe, expect, it } from 'vitest';
import { waitAtMost, withTimeout } from '../src/lib/timeout.js';

const never = new Promise<never>(() => undefined);
const later = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe('withTimeout', () => {
  it('settles as the promise does when it is in time', async () => {
    await expect(withTimeout(Promise.resolve(7), 1_000)).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('boom')), 1_000)).rejects.toThrow('boom');
  });

  it('rejects with the message given once the time has passed', async () => {
    await expect(withTimeout(never, 5, 'publish not confirmed in time')).rejects.toThrow('publish not confirmed in time');
    await expect(withTimeout(later(1_000, 'late'), 5)).rejects.toThrow('timed out');
  });
});

describe('waitAtMost', () => {
  it('gives the value when it is in time, undefined when it is not, and passes a rejection on', async () => {
    await expect(waitAtMost(later(1, 'soon'), 1_000)).resolves.toBe('soon');
    await expect(waitAtMost(never, 5)).resolves.toBeUndefined();
    await expect(waitAtMost(Promise.reject(new Error('down')), 1_000)).rejects.toThrow('down');
  });
});
