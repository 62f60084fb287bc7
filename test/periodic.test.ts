import { describe, expect, it } from 'vitest';
import { periodic } from '../src/lib/periodic.js';

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

describe('periodic', () => {
  it('runs one pass at a time, waits what each pass asks, and stop() waits for the pass in flight', async () => {
    let running = 0;
    let most = 0;
    let passes = 0;
    let release: () => void = () => undefined;
    const task = periodic(
      async () => {
        running++;
        most = Math.max(most, running);
        passes++;
        // The third pass blocks until released; the others ask to run again at once.
        if (passes === 3) await new Promise<void>((resolve) => (release = resolve));
        running--;
        return 0;
      },
      { firstRunAfterMs: 0, unref: true },
    );
    task.start();
    task.start(); // already started: no second chain
    await tick(10);
    expect(passes).toBe(3);
    let stopped = false;
    const stopping = task.stop().then(() => (stopped = true));
    await tick(10);
    expect(stopped).toBe(false);
    release();
    await stopping;
    await tick(10);
    expect(passes).toBe(3);
    expect(most).toBe(1);
  });

  it('starts after firstRunAfterMs; wake() cuts a wait short; nothing runs once stopped', async () => {
    let passes = 0;
    const task = periodic(
      () => {
        passes++;
        return Promise.resolve(60_000);
      },
      { firstRunAfterMs: 60_000, unref: true },
    );
    task.wake(); // not started: nothing
    task.start();
    await tick(10);
    expect(passes).toBe(0);
    task.wake();
    await tick(10);
    expect(passes).toBe(1);
    task.wake();
    await tick(10);
    expect(passes).toBe(2);
    await task.stop();
    task.wake();
    await tick(10);
    expect(passes).toBe(2);
  });

  it('a restart while the old pass is still in flight leaves one chain', async () => {
    let passes = 0;
    let release: () => void = () => undefined;
    const task = periodic(
      async () => {
        passes++;
        if (passes > 1) return 60_000;
        await new Promise<void>((resolve) => (release = resolve));
        return 5; // an old chain that went on would run again within milliseconds
      },
      { firstRunAfterMs: 0, unref: true },
    );
    task.start();
    const stopping = task.stop();
    task.start(); // second chain's first pass runs at once
    expect(passes).toBe(2);
    release();
    await stopping;
    await tick(50);
    expect(passes).toBe(2);
    // The first chain ended with its pass; the second one waits for its next pass.
    task.wake();
    await tick(10);
    expect(passes).toBe(3);
    await task.stop();
  });
});
