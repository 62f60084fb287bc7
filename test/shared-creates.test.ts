import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { type Database, openDatabase, queryRows, StatementTally } from '../src/db.js';
import { isPostgresError } from '../src/errors/database.js';
import { Prisma } from '../src/generated/prisma/client.js';
import { parseGlobalIdOf } from '../src/ids.js';
import { RequestSignal } from '../src/request-signal.js';
import { createUser, CreateUserSuccess, SharedCreates } from '../src/resolvers/users.js';
import { useTestApp } from './helpers/app.js';
import { observedStatements } from './helpers/metrics.js';
import { onPostgres, usePostgresDatabase } from './helpers/database.js';

/**
 * createUser's inserts grouped across concurrent requests (SharedCreates in src/resolvers/users.ts):
 * one statement for the creates asked for in one turn of the event loop, each request answered as
 * its own statement would have answered it. Asserted by counting statements and reading the rows.
 */
const t = useTestApp();

let counter = 0;
const tag = () => `${Date.now().toString(36)}-${++counter}`;

const CREATE = `mutation GroupedCreate($i: CreateUserInput!) {
  createUser(input: $i) { __typename ... on CreateUserSuccess { user { id email name role } } ... on EmailTakenError { email } }
}`;

interface Created {
  __typename: string;
  user?: { id: string; email: string; name: string; role: string };
  email?: string;
}

async function create(input: { email: string; name: string; role?: string }): Promise<Created> {
  const res = await t.gql<{ createUser: Created }>(CREATE, { i: input });
  expect(res.errors).toBeUndefined();
  return res.data!.createUser;
}

async function eventsOf(emails: string[]) {
  return t.db.prisma.$queryRaw<{ aggregateId: string; payload: { email: string; name: string; role: string } }[]>`
    SELECT "aggregateId"::text AS "aggregateId", "payload" FROM "OutboxEvent"
    WHERE "type" = 'user.created' AND "payload"->>'email' = ANY(${emails}::text[]) ORDER BY "seq"`;
}

describe('createUser grouped across requests', () => {
  it('concurrent creates: one statement, each request gets its own user and its own event', async () => {
    const k = tag();
    const inputs = Array.from({ length: 6 }, (_, i) => ({ email: `grouped-${k}-${i}@example.com`, name: `Grouped ${i}` }));
    // A first request verifies the token (cached after), so the six below run without waiting on it.
    await create({ email: `grouped-${k}-first@example.com`, name: 'First' });
    t.resetStatements();
    const answers = await Promise.all(inputs.map(create));
    expect(t.statements).toHaveLength(1);
    expect(t.statements[0]).toMatch(/FROM unnest\(/);
    answers.forEach((a, i) => {
      expect(a.__typename).toBe('CreateUserSuccess');
      expect(a.user).toMatchObject({ email: inputs[i]!.email, name: inputs[i]!.name, role: 'USER' });
    });
    const events = await eventsOf(inputs.map((u) => u.email));
    expect(events.map((e) => e.payload.email).sort()).toEqual(inputs.map((u) => u.email).sort());
    for (const e of events) {
      const answer = answers.find((a) => a.user!.email === e.payload.email)!;
      expect(parseGlobalIdOf('User', answer.user!.id)).toBe(e.aggregateId);
      expect(e.payload).toMatchObject({ name: answer.user!.name, role: 'USER' });
    }
  });

  it('the default role is the column default, and a role given is kept, in one group', async () => {
    const k = tag();
    t.resetStatements();
    const [plain, admin] = await Promise.all([
      create({ email: `role-${k}-plain@example.com`, name: 'Plain' }),
      create({ email: `role-${k}-admin@example.com`, name: 'Admin', role: 'ADMIN' }),
    ]);
    expect(t.statements).toHaveLength(1);
    expect([plain.user?.role, admin.user?.role]).toEqual(['USER', 'ADMIN']);
    // The same as the single statement's DEFAULT.
    const alone = await createUser(t.db.prisma, { email: `role-${k}-alone@example.com`, name: 'Alone' });
    expect(alone).toBeInstanceOf(CreateUserSuccess);
    expect((alone as CreateUserSuccess).user.role).toBe(plain.user?.role);
  });

  it('one email twice in a group: the first asked for gets the user, the other EMAIL_TAKEN; a taken email does not fail the rest', async () => {
    const k = tag();
    const taken = `taken-${k}@example.com`;
    await create({ email: taken, name: 'Taken' });
    const twice = `twice-${k}@example.com`;
    t.resetStatements();
    const answers = await Promise.all([
      create({ email: twice, name: 'First' }),
      create({ email: twice.toUpperCase(), name: 'Second' }),
      create({ email: taken, name: 'Again' }),
      create({ email: `fresh-${k}@example.com`, name: 'Fresh' }),
    ]);
    expect(t.statements).toHaveLength(1);
    expect(answers.map((a) => a.__typename)).toEqual(['CreateUserSuccess', 'EmailTakenError', 'EmailTakenError', 'CreateUserSuccess']);
    expect(answers[0]!.user).toMatchObject({ email: twice, name: 'First' });
    expect(answers[1]!.email).toBe(twice);
    expect(answers[2]!.email).toBe(taken);
    expect(await t.db.prisma.user.count({ where: { email: twice } })).toBe(1);
    expect((await eventsOf([twice, taken])).map((e) => e.payload.name)).toEqual(['Taken', 'First']);
  });

  it('each request is charged one statement (graphql_sql_statements)', async () => {
    const k = tag();
    const sum = async () => (await observedStatements(t, 'GroupedCreate')).sum;
    await create({ email: `charged-${k}-first@example.com`, name: 'First' });
    const before = await sum();
    t.resetStatements();
    await Promise.all([0, 1, 2, 3].map((i) => create({ email: `charged-${k}-${i}@example.com`, name: 'Charged' })));
    expect(t.statements).toHaveLength(1);
    expect((await sum()) - before).toBe(4);
  });

  it('a request past its deadline joins no group; one aborted while it waits is left out of the statement', async () => {
    const k = tag();
    const creates = new SharedCreates(t.db.prisma);
    const reason = new Error('deadline passed');
    const early = new StatementTally(undefined, { aborted: true, reason });
    const lateSignal = new RequestSignal();
    const late = new StatementTally(undefined, lateSignal);
    const live = new StatementTally([]);
    t.resetStatements();
    const outcomes = Promise.allSettled([
      t.db.tally(early, () => createUser(t.db.prisma, { email: `early-${k}@example.com`, name: 'Early' }, creates)),
      t.db.tally(late, () => createUser(t.db.prisma, { email: `late-${k}@example.com`, name: 'Late' }, creates)),
      t.db.tally(live, () => createUser(t.db.prisma, { email: `live-${k}@example.com`, name: 'Live' }, creates)),
    ]);
    // Before the group is sent (the next check phase).
    lateSignal.abort(reason);
    const [a, b, c] = await outcomes;
    expect(a).toEqual({ status: 'rejected', reason });
    expect(b).toEqual({ status: 'rejected', reason });
    expect(c).toMatchObject({ status: 'fulfilled', value: { user: { email: `live-${k}@example.com` } } });
    expect(t.statements).toHaveLength(1);
    expect(live.count).toBe(1);
    expect(live.texts).toEqual(t.statements);
    expect([early.count, late.count, early.running, late.running, live.running]).toEqual([0, 0, 0, 0, 0]);
    expect(await t.db.prisma.user.count({ where: { email: { in: [`early-${k}@example.com`, `late-${k}@example.com`] } } })).toBe(0);
  });

  it('the statement is no request’s own scope: each is charged once, none counts it twice', async () => {
    const k = tag();
    const creates = new SharedCreates(t.db.prisma);
    const scopes = [0, 1, 2].map(() => new StatementTally());
    t.resetStatements();
    const results = await Promise.all(scopes.map((s, i) => t.db.tally(s, () => createUser(t.db.prisma, { email: `scope-${k}-${i}@example.com`, name: 'Scope' }, creates))));
    expect(results.every((r) => r instanceof CreateUserSuccess)).toBe(true);
    expect(t.statements).toHaveLength(1);
    expect(scopes.map((s) => s.count)).toEqual([1, 1, 1]);
  });
});

describe.skipIf(!onPostgres)('a grouped create and the deadline (PostgreSQL)', () => {
  const pg = usePostgresDatabase();
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase(loadConfig({ NODE_ENV: 'test', DATABASE_URL: pg.url(), DB_POOL_MAX: '4', REQUEST_TIMEOUT_MS: '60000', DB_STATEMENT_TIMEOUT_MS: '60000' }).database);
  });
  afterAll(() => db?.close());

  /** Some statement matching `pattern` waits on a lock, as PostgreSQL sees it. */
  async function waitingOnLock(pattern: string): Promise<void> {
    for (let tries = 0; tries < 500; tries++) {
      const { rows } = await db.pool!.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1",
        [pattern],
      );
      if (rows[0]!.n > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`never saw ${pattern} waiting on a lock`);
  }

  it('a member answered at its deadline cancels the group and leaves no user behind; the others send their own', async () => {
    const creates = new SharedCreates(db.prisma);
    const blocked = 'blocked@example.com';
    const timedOut = 'timed-out@example.com';
    // Another transaction inserts `blocked` and holds it: the group's INSERT waits to learn whether it commits.
    const blocker = await db.pool!.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`INSERT INTO "User" ("email", "name") VALUES ($1, 'Blocker')`, [blocked]);
      const signal = new RequestSignal();
      const mine = new StatementTally(undefined, signal);
      const theirs = new StatementTally();
      const mineDone = db
        .tally(mine, () => createUser(db.prisma, { email: timedOut, name: 'Mine' }, creates))
        .then(
          () => 'answered',
          (error: unknown) => error,
        );
      const theirsDone = db.tally(theirs, () => createUser(db.prisma, { email: blocked, name: 'Theirs' }, creates));
      await waitingOnLock('%FROM unnest(%');
      expect(mine.running).toBe(1);
      const reason = new Error('deadline');
      signal.abort(reason);
      // As the deadline plugin does: cancel the request's statements and wait for them to end. Cancelled
      // (within milliseconds), not left to wait out the blocker or the minute's statement timeout.
      const settled = db.settle(mine).then(() => 'settled');
      expect(await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 10_000, 'still running'))])).toBe('settled');
      expect(mine.running).toBe(0);
      expect(await mineDone).toBe(reason);
      // The other request sent its own statement, which waits on the blocker as the group did.
      await waitingOnLock('%VALUES ($1, $2, DEFAULT)%');
      await blocker.query('ROLLBACK');
      expect(await theirsDone).toMatchObject({ user: { email: blocked, name: 'Theirs' } });
      // The timed-out request's user was never written, and is not written later.
      expect(await db.prisma.user.count({ where: { email: timedOut } })).toBe(0);
      const events = await db.prisma.$queryRaw<{ email: string }[]>`SELECT "payload"->>'email' AS "email" FROM "OutboxEvent" WHERE "type" = 'user.created'`;
      expect(events.map((e) => e.email)).toEqual([blocked]);
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
    }
  });

  it('only a failure PostgreSQL reported (rolled back) is retried alone; a lost connection is not', async () => {
    // A statement PostgreSQL refused: its error carries a SQLSTATE, and it wrote nothing.
    const refused = await queryRows(db.prisma, Prisma.sql`SELECT 1 / 0`).catch((error: unknown) => error);
    expect(isPostgresError(refused)).toBe(true);
    // No database behind the address: the driver's error, no SQLSTATE (a statement could have committed).
    const nowhere = await openDatabase(loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none', DB_CONNECTION_TIMEOUT_MS: '1000' }).database);
    try {
      const lost = await queryRows(nowhere.prisma, Prisma.sql`SELECT 1`).catch((error: unknown) => error);
      expect(lost).toBeInstanceOf(Error);
      expect(isPostgresError(lost)).toBe(false);
    } finally {
      await nowhere.close();
    }
  });
});
