import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { poolOptions, sweepPeriodMs } from '../src/pool.js';

/** The bound: after a network blackhole the service answers again within this long. */
const HEAL_BOUND_MS = 15_000;
/** Time left for opening a fresh connection once the broken ones are gone. */
const CONNECT_ALLOWANCE_MS = 1_000;

describe('the PostgreSQL pool under the production defaults', () => {
  const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'p'.repeat(32), DATABASE_URL: 'postgresql://app@db:5432/users' });
  const options = poolOptions(config.database);

  it('never waits forever, and probes idle connections', () => {
    expect(options).toMatchObject({
      max: 10,
      connectionTimeoutMillis: 5_000,
      statement_timeout: 10_000,
      keepAlive: true,
      maxLifetimeSeconds: 1_800,
      idle_in_transaction_session_timeout: 60_000,
    });
    expect(options.keepAliveInitialDelayMillis).toBeGreaterThan(0);
    expect(options.Client).toBeDefined();
  });

  it('heals within 15 s of the network returning', () => {
    // A connection whose answer the network lost is dropped by the pool's sweep between answerTimeoutMs
    // and that plus two sweep periods after the statement was sent, so at most that long after the
    // network returns; requests then get fresh connections. The server cancels slow statements first
    // (statement_timeout) and keeps their connections.
    expect(options.answerTimeoutMs).toBeGreaterThan(options.statement_timeout as number);
    expect(options.answerTimeoutMs + 2 * sweepPeriodMs(options.answerTimeoutMs) + CONNECT_ALLOWANCE_MS).toBeLessThanOrEqual(HEAL_BOUND_MS);
    // node-postgres' own per-statement timer is off: the sweep replaces it.
    expect(options.query_timeout).toBeUndefined();
  });

  it('follows a lifted statement timeout (the migration Job), and an explicit DB_QUERY_TIMEOUT_MS', () => {
    const migration = loadConfig({ DB_STATEMENT_TIMEOUT_MS: '600000', REQUEST_TIMEOUT_MS: '600000' }).database;
    expect(poolOptions(migration).answerTimeoutMs).toBeGreaterThan(600_000);
    expect(poolOptions(loadConfig({ DB_QUERY_TIMEOUT_MS: '12000' }).database).answerTimeoutMs).toBe(12_000);
  });

  it('sweeps 20 times per answer timeout, between 10 and 500 ms apart', () => {
    expect(sweepPeriodMs(4_000)).toBe(200);
    expect(sweepPeriodMs(11_000)).toBe(500);
    expect(sweepPeriodMs(50)).toBe(10);
  });
});
