import { Gauge } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PROBE_THROTTLE, throttled } from '../src/lib/throttled.js';
import { useTestApp } from './helpers/app.js';

/**
 * `/ready` and `/metrics` answer anyone, without a token or a rate limit (Kubernetes and Prometheus
 * must always reach them), and each answer costs: readiness pings the database, a render of the
 * registry takes milliseconds of CPU and queries the outbox backlog. Measured before this: a flood of
 * /metrics from one client (~170 renders/s) cut node-by-id throughput by 95 %, a flood of /ready
 * held database connections. Now a flood costs at most PROBE_THROTTLE's runs per window.
 */

/** `total` requests to `path`, `concurrency` at a time; returns their statuses. */
async function flood(fetch: (path: string) => Promise<Response>, path: string, total: number, concurrency = 4): Promise<number[]> {
  const statuses: number[] = [];
  let sent = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < total) {
        sent++;
        const response = await fetch(path);
        await response.text();
        statuses.push(response.status);
      }
    }),
  );
  return statuses;
}

/** The most runs the documented budget (10 per 5 s) allows in `ms` milliseconds. */
const allowedIn = (ms: number) => 10 * (1 + Math.ceil(ms / 5_000));

describe('a flood of probes', () => {
  const t = useTestApp();

  it('has the documented budget', () => {
    expect(PROBE_THROTTLE).toEqual({ runs: 10, windowS: 5 });
  });

  it('/ready: 500 probes answer 200 with a bounded number of database checks', async () => {
    t.resetStatements();
    const started = performance.now();
    const statuses = await flood((p) => t.fetch(p), '/ready', 500);
    const pings = t.statements.filter((s) => s.trim() === 'SELECT 1').length;
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(pings).toBeGreaterThan(0);
    expect(pings).toBeLessThanOrEqual(allowedIn(performance.now() - started));
  });

  it('/metrics: 500 scrapes answer 200 with a bounded number of renders', async () => {
    let renders = 0;
    new Gauge({ name: 'test_probe_flood_renders', help: 'Renders of the registry (test).', registers: [t.app.metrics.registry], collect: () => void renders++ });
    const started = performance.now();
    const statuses = await flood((p) => t.fetch(p), '/metrics', 500);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(renders).toBeGreaterThan(0);
    expect(renders).toBeLessThanOrEqual(allowedIn(performance.now() - started));
  });
});

describe('throttled', () => {
  const counting = () => {
    let runs = 0;
    const produce = async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return ++runs;
    };
    return { produce, runs: () => runs };
  };

  it('shares a run in flight, runs afresh within the budget, then answers the latest', async () => {
    const { produce, runs } = counting();
    const get = throttled(produce, { runs: 3, windowS: 60 });
    expect(await Promise.all([get(), get(), get()])).toEqual([1, 1, 1]);
    expect(await get()).toBe(2);
    expect(await get()).toBe(3);
    // The budget is spent: the latest result, no new run.
    expect(await get()).toBe(3);
    expect(await get()).toBe(3);
    expect(runs()).toBe(3);
  });

  it('runs afresh once the window has passed', async () => {
    const { produce } = counting();
    const get = throttled(produce, { runs: 1, windowS: 1 });
    expect(await get()).toBe(1);
    expect(await get()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await get()).toBe(2);
  });

  it('passes a failed run to its callers, and the next allowed call runs again', async () => {
    let calls = 0;
    const get = throttled(
      async () => {
        if (++calls === 1) throw new Error('down');
        return 'up';
      },
      { runs: 5, windowS: 60 },
    );
    await expect(get()).rejects.toThrow('down');
    expect(await get()).toBe('up');
  });
});
