import pg from 'pg';
import { vi } from 'vitest';
import type { TestApp } from './app.js';

/** The URL of the test app's own PostgreSQL database. */
function databaseUrlOf(t: TestApp): string {
  return (t.db.pool as unknown as { options: { connectionString: string } }).options.connectionString;
}

/** A plain pg session of its own on the test database, for holding locks the app must wait for. */
export async function openSession(t: TestApp): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrlOf(t) });
  await client.connect();
  return client;
}

/** Sessions other than `session` waiting on a lock in its database now. */
export async function lockWaiters(session: pg.Client): Promise<number> {
  // Inside a transaction PostgreSQL reads pg_stat_activity once and keeps that snapshot: drop it.
  await session.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await session.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
  );
  return rows[0]!.n;
}

/**
 * Resolves once at least `n` other sessions wait on a lock (the request under test is queued), or
 * as soon as `orSettled` settles (the request finished without waiting).
 */
export async function waitForLockWaiters(session: pg.Client, n = 1, orSettled?: Promise<unknown>, timeoutMs = 20_000): Promise<void> {
  let settled = false;
  void orSettled?.then(
    () => (settled = true),
    () => (settled = true),
  );
  await vi.waitFor(
    async () => {
      if ((await lockWaiters(session)) < n && !settled) throw new Error(`no ${n} session(s) waiting on a lock after ${timeoutMs} ms`);
    },
    { timeout: timeoutMs, interval: 20 },
  );
}
