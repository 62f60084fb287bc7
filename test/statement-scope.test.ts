import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { type Database, openDatabase, StatementTally } from '../src/db.js';
import { cancelStatements } from '../src/pool.js';
import { RequestSignal } from '../src/request-signal.js';
import { statementScope } from '../src/statement-scope.js';
import { onPostgres, usePostgresDatabase } from './helpers/database.js';

/** node-postgres' error for a statement PostgreSQL cancelled (statement_timeout or a CancelRequest). */
const CANCELLED = expect.objectContaining({ code: '57014' });

/** A statement runs on a connection of the pool: PostgreSQL's own view, not the client's. */
async function running(db: Database, text: string): Promise<void> {
  for (let tries = 0; tries < 500; tries++) {
    const { rows } = await db.pool!.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query = $1", [
      text,
    ]);
    if (rows[0]!.n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never saw ${text} running`);
}

describe.skipIf(!onPostgres)('statements of a request answered at its deadline', () => {
  const pg = usePostgresDatabase();
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase(loadConfig({ NODE_ENV: 'test', DATABASE_URL: pg.url(), DB_POOL_MAX: '2', REQUEST_TIMEOUT_MS: '60000' }).database);
  });
  afterAll(() => db?.close());

  it('are cancelled, and settle resolves once they ended', async () => {
    const signal = new RequestSignal();
    const scope = new StatementTally(undefined, signal);
    // Prisma's promises are lazy: awaited inside the scope, so the statement is sent from there.
    const sleeping = db.tally(scope, async () => await db.prisma.$queryRawUnsafe('SELECT pg_sleep(60)'));
    const outcome = sleeping.then(
      () => 'finished',
      (error: unknown) => error,
    );
    await running(db, 'SELECT pg_sleep(60)');
    expect(scope.running).toBe(1);
    signal.abort(new Error('deadline'));
    await db.settle(scope);
    expect(scope.running).toBe(0);
    // Cancelled by PostgreSQL (57014), not left to sleep out its minute.
    expect(JSON.stringify(await outcome)).toMatch(/57014|canceling statement due to user request/);
    // Its connection is fine for the next statement.
    expect(await db.prisma.$queryRawUnsafe('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('belong to their sender when the pool hands a released connection to a queued statement', async () => {
    // One connection: the second statement waits for it and is dispatched from the first one's release.
    const single = await openDatabase(loadConfig({ NODE_ENV: 'test', DATABASE_URL: pg.url(), DB_POOL_MAX: '1' }).database);
    try {
      const first = new StatementTally();
      const second = new StatementTally();
      const a = statementScope.run(first, () => single.pool!.query({ text: 'SELECT pg_sleep(0.2)' }));
      const b = statementScope.run(second, () => single.pool!.query({ text: 'SELECT pg_sleep(60)' }));
      const outcome = b.then(
        () => 'finished',
        (error: unknown) => error,
      );
      await a;
      await running(db, 'SELECT pg_sleep(60)');
      // The first request's cancel must not reach the second's statement; the second's does.
      cancelStatements(single.pool!, first);
      // A CancelRequest lands within milliseconds here; after half a second the statement still runs.
      await new Promise((resolve) => setTimeout(resolve, 500));
      await running(db, 'SELECT pg_sleep(60)');
      await expect(Promise.race([outcome, 'pending'])).resolves.toBe('pending');
      cancelStatements(single.pool!, second);
      expect(await outcome).toEqual(CANCELLED);
    } finally {
      await single.close();
    }
  });

  it('leave no transaction behind: once aborted, no statement starts and COMMIT becomes ROLLBACK', async () => {
    const reason = new Error('deadline');
    for (const abortAt of ['between statements', 'before commit'] as const) {
      const signal = new RequestSignal();
      const scope = new StatementTally([], signal);
      const email = `scope-${abortAt.replaceAll(' ', '-')}@example.com`;
      const transaction = db.tally(scope, () =>
        db.prisma.$transaction(async (tx) => {
          await tx.user.create({ data: { email, name: 'Scope' } });
          if (abortAt === 'between statements') {
            signal.abort(reason);
            await tx.user.create({ data: { email: `second-${email}`, name: 'Scope' } });
          } else signal.abort(reason);
        }),
      );
      await expect(transaction).rejects.toBe(reason);
      expect(await db.prisma.user.count({ where: { email: { endsWith: email } } })).toBe(0);
      // Both ways the transaction was rolled back (nothing was sent after the INSERT but ROLLBACK) on its connection, which went back to the pool clean.
      expect(scope.texts?.slice(1)).toEqual(['ROLLBACK']);
      const { rows } = await db.pool!.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
      );
      expect(rows[0]!.n).toBe(0);
    }
  });
});
