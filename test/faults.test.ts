import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { toGlobalId } from '../src/ids.js';
import { useTestApp } from './helpers/app.js';

const onPostgres = inject('pgTemplate') !== null;

const COUNT = '{ users { totalCount } }';

describe.skipIf(!onPostgres)('the database goes away and comes back', () => {
  const t = useTestApp(
    { DB_CONNECTION_TIMEOUT_MS: '500', READINESS_TIMEOUT_MS: '300', DB_IDLE_TIMEOUT_MS: '60000' },
    { viaProxy: true },
  );

  it('fails requests with a masked error, reports not ready but alive, and recovers by itself', async () => {
    expect(await t.gql(COUNT)).toEqual({ data: { users: { totalCount: 0 } } });

    t.proxy.cut();
    const failed = await t.gql(COUNT);
    expect(failed.data).toBeNull();
    expect(failed.errors).toEqual([
      expect.objectContaining({ message: 'Unexpected error.', extensions: expect.objectContaining({ code: 'INTERNAL_SERVER_ERROR' }) }),
    ]);
    expect(JSON.stringify(failed)).not.toMatch(/127\.0\.0\.1|postgres|timeout|ECONN/i);
    expect((await t.fetch('/ready')).status).toBe(503);
    expect((await t.fetch('/health')).status).toBe(200);

    t.proxy.restore();
    let recovered: unknown;
    for (let attempt = 0; attempt < 50 && !recovered; attempt++) {
      const res = await t.gql(COUNT);
      if (res.data?.users) recovered = res.data;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(recovered).toEqual({ users: { totalCount: 0 } });
    expect((await t.fetch('/ready')).status).toBe(200);
  });
});

describe.skipIf(!onPostgres)('the request deadline', () => {
  const t = useTestApp({ REQUEST_TIMEOUT_MS: '400' });

  it('reaches the database as a statement timeout: a request stuck on a lock ends with REQUEST_TIMEOUT and writes nothing', async () => {
    const user = await t.db.prisma.user.create({ data: { email: 'deadline@example.com', name: 'Deadline' } });
    const team = await t.db.prisma.team.create({ data: { slug: 'deadline', name: 'Deadline' } });
    const url = (t.db.pool as unknown as { options: { connectionString: string } }).options.connectionString;
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT id FROM "Team" WHERE id = $1 FOR UPDATE', [team.id]);
    try {
      const res = await t.gql(
        'mutation ($t: ID!, $u: ID!) { addTeamMember(input: { teamId: $t, userId: $u }) { __typename } }',
        { t: toGlobalId('Team', team.id), u: toGlobalId('User', user.id) },
      );
      expect(res.errors?.[0]?.extensions?.code).toBe('REQUEST_TIMEOUT');
    } finally {
      await locker.query('COMMIT');
      await locker.end();
    }
    expect(await t.db.prisma.membership.count({ where: { teamId: team.id } })).toBe(0);
  });
});
