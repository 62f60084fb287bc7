import { describe, expect, inject, it, vi } from 'vitest';
import pg from 'pg';
import { toGlobalId } from '../src/ids.js';
import { type TestApp, useTestApp } from './helpers/app.js';
import { onPostgres } from './helpers/database.js';
import { lockWaiters, waitForLockWaiters } from './helpers/sessions.js';

const COUNT = '{ users { totalCount } }';
const ADD_MEMBER = 'mutation ($t: ID!, $u: ID!) { addTeamMember(input: { teamId: $t, userId: $u }) { __typename } }';
/** What no answer may contain: hosts, driver words, SQL, table names, stacks. */
const LEAK = /127\.0\.0\.1|postgres|\btimeout|ECONN|SELECT|"Team"|Membership|\bat \w+ \(/i;

/** POSTs an operation as ADMIN with the given Accept; the status and the body. */
async function post(t: TestApp, query: string, variables?: Record<string, unknown>, accept = 'application/graphql-response+json') {
  const res = await t.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

/** A session of its own (not through the app's pool or proxy) holding a team's row lock. */
async function lockTeam(url: string, teamId: string) {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined); // ended by the database drop if a test fails before release()
  await client.connect();
  await client.query('BEGIN');
  await client.query('SELECT id FROM "Team" WHERE id = $1 FOR UPDATE', [teamId]);
  return {
    /** Resolves once `n` other sessions wait on a lock: those requests are really in flight. */
    async waiters(n: number) {
      await waitForLockWaiters(client, n, undefined, 10_000);
    },
    /** Sessions waiting on a lock now. */
    waitingNow: () => lockWaiters(client),
    async release() {
      await client.query('COMMIT');
      await client.end();
    },
  };
}

/** The app's database, reached directly (not through its proxy, if it has one). */
function directUrl(t: TestApp): string {
  const url = new URL((t.db.pool as unknown as { options: { connectionString: string } }).options.connectionString);
  url.host = new URL(inject('pgTemplate')!.serverUrl).host;
  return url.toString();
}

/** Sends `query` until it is answered with data; how long that took, failing past `limitMs`. */
async function msUntilAnswered(t: TestApp, query: string, limitMs: number): Promise<number> {
  const started = Date.now();
  await vi.waitFor(
    async () => {
      const res = await t.gql(query);
      if (!res.data) throw new Error(`no answer within ${limitMs} ms: ${JSON.stringify(res)}`);
    },
    { timeout: limitMs, interval: 50 },
  );
  return Date.now() - started;
}

describe.skipIf(!onPostgres)('the database goes away and comes back', () => {
  const t = useTestApp({ DB_CONNECTION_TIMEOUT_MS: '500', READINESS_TIMEOUT_MS: '300', DB_IDLE_TIMEOUT_MS: '60000' }, { viaProxy: true });

  it('fails requests with a typed, retryable error, reports not ready but alive, and recovers by itself', async () => {
    expect(await t.gql(COUNT)).toEqual({ data: { users: { totalCount: 0 } } });

    t.proxy.cut();
    const failed = await t.gql(COUNT);
    expect(failed.data).toBeNull();
    // The database is unreachable: SERVICE_UNAVAILABLE (was a masked INTERNAL_SERVER_ERROR).
    expect(failed.errors).toEqual([
      expect.objectContaining({
        message: 'The service is temporarily unavailable; please retry.',
        extensions: expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }),
      }),
    ]);
    expect(JSON.stringify(failed)).not.toMatch(/127\.0\.0\.1|postgres|timeout|ECONN/i);
    expect((await t.fetch('/ready')).status).toBe(503);
    expect((await t.fetch('/health')).status).toBe(200);

    t.proxy.restore();
    // At most 50 tries, as before; the timeout only ends a hang.
    let tries = 0;
    const recovered = await vi.waitFor(
      async () => {
        const res = await t.gql(COUNT);
        if (!res.data?.users && ++tries < 50) throw new Error(`not recovered: ${JSON.stringify(res)}`);
        return res.data?.users ? res.data : undefined;
      },
      { timeout: 120_000, interval: 100 },
    );
    expect(recovered).toEqual({ users: { totalCount: 0 } });
    expect((await t.fetch('/ready')).status).toBe(200);
  });
});

describe.skipIf(!onPostgres)('the request deadline', () => {
  const t = useTestApp({ REQUEST_TIMEOUT_MS: '400' });

  it('cancels a statement stuck on a lock: the request ends with REQUEST_TIMEOUT only once its statement has, and writes nothing', async () => {
    const user = await t.db.prisma.user.create({ data: { email: 'deadline@example.com', name: 'Deadline' } });
    const team = await t.db.prisma.team.create({ data: { slug: 'deadline', name: 'Deadline' } });
    const lock = await lockTeam(directUrl(t), team.id);
    try {
      const res = await post(t, ADD_MEMBER, { t: toGlobalId('Team', team.id), u: toGlobalId('User', user.id) });
      expect([res.status, res.body.errors?.map((e) => e.extensions?.code)]).toEqual([504, ['REQUEST_TIMEOUT']]);
      // Answered: no statement of the request still waits on the lock (it was cancelled, not left
      // to its statement_timeout), so letting go of the lock can no longer commit it.
      expect(await lock.waitingNow()).toBe(0);
    } finally {
      await lock.release();
    }
    expect(await t.db.prisma.membership.count({ where: { teamId: team.id } })).toBe(0);
    // The connection the cancelled statement ran on serves the next request.
    expect(await t.gql(COUNT)).toEqual({ data: { users: { totalCount: 1 } } });
  });
});

describe.skipIf(!onPostgres)('a network blackhole between the service and the database (bytes dropped, nothing closed)', () => {
  // One connection, so whichever connection the blackhole caught is the one the next request gets.
  const t = useTestApp(
    {
      DB_POOL_MAX: '1',
      DB_CONNECTION_TIMEOUT_MS: '1000',
      DB_STATEMENT_TIMEOUT_MS: '3000', // the client-side query timeout follows: 4 s
      REQUEST_TIMEOUT_MS: '8000',
      READINESS_TIMEOUT_MS: '300',
      DB_IDLE_TIMEOUT_MS: '60000',
    },
    { viaProxy: true },
  );

  it('drops the connection that lost its answer and answers the first request once the network returns', async () => {
    const team = await t.db.prisma.team.create({ data: { slug: 'blackhole', name: 'Blackhole' } });
    const user = await t.db.prisma.user.create({ data: { email: 'blackhole@example.com', name: 'Blackhole' } });
    // The write (one statement) waits on the team's row lock; the lock is let go while the network is
    // silent, so the database runs and commits the statement but its answer is lost on the way.
    const lock = await lockTeam(directUrl(t), team.id);
    const write = post(t, ADD_MEMBER, { t: toGlobalId('Team', team.id), u: toGlobalId('User', user.id) });
    await lock.waiters(1);
    t.proxy.blackhole();
    await lock.release();

    const failed = await write;
    expect(failed.status).toBe(504);
    expect(failed.body.data ?? null).toBeNull();
    expect(failed.body.errors?.map((e) => e.extensions?.code)).toEqual(['REQUEST_TIMEOUT']);
    expect(JSON.stringify(failed.body)).not.toMatch(LEAK);
    const meanwhile = await post(t, COUNT);
    expect([meanwhile.status, meanwhile.body.errors?.[0]?.extensions?.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
    expect(JSON.stringify(meanwhile.body)).not.toMatch(LEAK);
    expect((await t.fetch('/ready')).status).toBe(503);
    expect((await t.fetch('/health')).status).toBe(200);

    t.proxy.restore();
    // No connection from before is reused: the very first request after the network returns is answered.
    expect(await t.gql(COUNT)).toEqual({ data: { users: { totalCount: 1 } } });
    expect((await t.fetch('/ready')).status).toBe(200);
    // Like a COMMIT whose answer is lost, the statement's effect stands although the client got
    // REQUEST_TIMEOUT (the README says to read before retrying a timed-out mutation): applied once,
    // with its counter and its event.
    expect(await t.db.prisma.membership.count({ where: { teamId: team.id } })).toBe(1);
    expect((await t.db.prisma.team.findUniqueOrThrow({ where: { id: team.id } })).memberCount).toBe(1);
    expect(await t.db.prisma.outboxEvent.count({ where: { aggregateId: team.id, type: 'team.member_added' } })).toBe(1);
  });

  it('answers again within 15 s of the network returning when the blackhole caught requests in flight, with no restart', async () => {
    expect((await t.gql(COUNT)).data).toBeDefined();
    t.proxy.blackhole();
    // The pool's only connection is taken by the first; the rest wait for it, and give up.
    const during = await Promise.all([1, 2, 3].map(() => post(t, COUNT)));
    for (const res of during) {
      expect(res.body.data ?? null).toBeNull();
      expect(['REQUEST_TIMEOUT', 'SERVICE_UNAVAILABLE']).toContain(res.body.errors?.[0]?.extensions?.code);
      expect(res.status).toBe(res.body.errors?.[0]?.extensions?.code === 'REQUEST_TIMEOUT' ? 504 : 503);
      expect(JSON.stringify(res.body)).not.toMatch(LEAK);
    }
    // Requests still in flight when the network returns.
    const inFlight = [1, 2].map(() => t.gql(COUNT));
    t.proxy.restore();
    expect(await msUntilAnswered(t, COUNT, 15_000)).toBeLessThan(15_000);
    await Promise.all(inFlight);
    expect(t.db.poolStats()).toMatchObject({ waiting: 0 });
    expect(t.db.pool!.totalCount).toBeLessThanOrEqual(1);
  });
});

describe.skipIf(!onPostgres)('more concurrent writes than DB_POOL_MAX, the first ones stuck on a lock', () => {
  const t = useTestApp({ DB_POOL_MAX: '2', DB_CONNECTION_TIMEOUT_MS: '2500', REQUEST_TIMEOUT_MS: '15000' });

  it('refuses the rest after DB_CONNECTION_TIMEOUT_MS with SERVICE_UNAVAILABLE (503; 200 for application/json), writes nothing, leaks nothing', async () => {
    const team = await t.db.prisma.team.create({ data: { slug: 'exhausted', name: 'Exhausted' } });
    const users = await Promise.all([1, 2, 3, 4].map((n) => t.db.prisma.user.create({ data: { email: `exhausted-${n}@example.com`, name: `E${n}` } })));
    const add = (n: number, accept?: string) => post(t, ADD_MEMBER, { t: toGlobalId('Team', team.id), u: toGlobalId('User', users[n]!.id) }, accept);
    const lock = await lockTeam(directUrl(t), team.id);
    const holders = [add(0), add(1)];
    await lock.waiters(2);

    const started = Date.now();
    const [refused, refusedJson, refusedCreate] = await Promise.all([
      add(2),
      add(3, 'application/json'),
      post(t, 'mutation { createUser(input: { email: "exhausted-5@example.com", name: "E5" }) { __typename } }'),
    ]);
    // Each waited the configured DB_CONNECTION_TIMEOUT_MS, not Prisma's built-in 2 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_400);
    for (const { body } of [refused, refusedJson, refusedCreate]) {
      expect(body.data ?? null).toBeNull();
      expect(body.errors).toEqual([
        expect.objectContaining({
          message: 'The service is temporarily unavailable; please retry.',
          extensions: { code: 'SERVICE_UNAVAILABLE', requestId: expect.any(String) },
        }),
      ]);
      expect(JSON.stringify(body)).not.toMatch(LEAK);
    }
    expect([refused.status, refusedJson.status, refusedCreate.status]).toEqual([503, 200, 503]);
    const requestId = refused.body.errors![0]!.extensions!.requestId;
    expect(t.logs.some((l) => l.requestId === requestId && l.level === 40 && l.err)).toBe(true);

    await lock.release();
    for (const res of await Promise.all(holders)) expect(res.body).toEqual({ data: { addTeamMember: { __typename: 'AddTeamMemberSuccess' } } });
    const members = await t.db.prisma.membership.findMany({ where: { teamId: team.id }, select: { userId: true } });
    expect(members.map((m) => m.userId).sort()).toEqual([users[0]!.id, users[1]!.id].sort());
    expect(await t.db.prisma.user.count({ where: { email: 'exhausted-5@example.com' } })).toBe(0);
    // Nothing leaked from the pool: every connection is back and the next request is served at once.
    expect(t.db.poolStats()).toMatchObject({ waiting: 0 });
    expect(t.db.pool!.totalCount).toBeLessThanOrEqual(2);
    expect((await t.gql(COUNT)).data).toEqual({ users: { totalCount: 4 } });
  });
});
