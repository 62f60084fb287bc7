import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/ids.js';
import { applyMigrations, findProjectRoot } from '../src/migrations.js';
import { type GraphQLResponse, useTestApp } from './helpers/app.js';
import { onPostgres } from './helpers/database.js';
import { unique } from './helpers/fixtures.js';
import { openSession, waitForLockWaiters } from './helpers/sessions.js';

/**
 * Team.memberCount and User.teamCount (issue 10, point 4): the nested connections' totalCount reads
 * them instead of counting memberships, so they must equal COUNT(*) whatever writes the memberships:
 * the mutations, concurrently, ON DELETE CASCADE from a deleted user, or plain SQL.
 */
const t = useTestApp();

/** Every team and user whose counter differs from the real count: [] when all are exact. */
async function wrongCounts() {
  return t.db.prisma.$queryRaw<{ kind: string; id: string; stored: number; real: number }[]>`
    SELECT 'team' AS kind, t."id"::text AS id, t."memberCount" AS stored, count(m."userId")::int AS real
    FROM "Team" t LEFT JOIN "Membership" m ON m."teamId" = t."id" GROUP BY t."id" HAVING t."memberCount" <> count(m."userId")
    UNION ALL
    SELECT 'user', u."id"::text, u."teamCount", count(m."teamId")::int
    FROM "User" u LEFT JOIN "Membership" m ON m."userId" = u."id" GROUP BY u."id" HAVING u."teamCount" <> count(m."teamId")`;
}

const OPS = {
  add: 'mutation ($i: AddTeamMemberInput!) { r: addTeamMember(input: $i) { __typename } }',
  remove: 'mutation ($i: RemoveTeamMemberInput!) { r: removeTeamMember(input: $i) { __typename } }',
  transfer: 'mutation ($i: TransferUserInput!) { r: transferUser(input: $i) { __typename } }',
  update: 'mutation ($i: UpdateUserInput!) { r: updateUser(input: $i) { __typename } }',
  delete: 'mutation ($i: DeleteUserInput!) { r: deleteUser(input: $i) { __typename } }',
};

async function world(users: number, teams: number) {
  const us = [];
  for (let i = 0; i < users; i++) us.push(await t.db.prisma.user.create({ data: { email: `${unique('n')}@example.com`, name: 'N' } }));
  const ts = [];
  for (let i = 0; i < teams; i++) ts.push(await t.db.prisma.team.create({ data: { slug: unique('n'), name: 'N' } }));
  return { users: us.map((u) => ({ id: u.id, gid: toGlobalId('User', u.id) })), teams: ts.map((x) => ({ id: x.id, gid: toGlobalId('Team', x.id) })) };
}

describe('the counters follow every kind of write', () => {
  it('mutations, ON DELETE CASCADE and plain SQL keep them exact, and totalCount reads them', async () => {
    const {
      users: [a, b, c],
      teams: [x, y],
    } = await world(3, 2);
    const run = async (op: keyof typeof OPS, i: object) => (await t.gql(OPS[op], { i })).data!.r.__typename as string;
    expect(await run('add', { teamId: x!.gid, userId: a!.gid, role: 'OWNER' })).toBe('AddTeamMemberSuccess');
    expect(await run('add', { teamId: x!.gid, userId: b!.gid })).toBe('AddTeamMemberSuccess');
    expect(await run('add', { teamId: y!.gid, userId: b!.gid })).toBe('AddTeamMemberSuccess');
    expect(await run('transfer', { userId: b!.gid, fromTeamId: x!.gid, toTeamId: y!.gid })).toBe('MembershipError');
    await t.db.prisma.membership.createMany({
      data: [
        { userId: c!.id, teamId: x!.id },
        { userId: c!.id, teamId: y!.id },
      ],
    });
    await t.db.prisma.membership.update({ where: { userId_teamId: { userId: c!.id, teamId: y!.id } }, data: { role: 'OWNER' } });
    expect(await wrongCounts()).toEqual([]);
    expect(await run('remove', { teamId: x!.gid, userId: b!.gid })).toBe('RemoveTeamMemberSuccess');
    expect(await run('delete', { id: c!.gid })).toBe('DeleteUserSuccess');
    await t.db.prisma.membership.deleteMany({ where: { teamId: y!.id } });
    expect(await wrongCounts()).toEqual([]);
    const res = await t.gql('query ($x: ID!, $a: ID!) { team(id: $x) { members { totalCount } } user(id: $a) { teams { totalCount } } }', { x: x!.gid, a: a!.gid });
    expect(res.data).toEqual({ team: { members: { totalCount: 1 } }, user: { teams: { totalCount: 1 } } });
  });
});

describe.skipIf(!onPostgres)('exact under concurrency on PostgreSQL', () => {
  it('300 adds, removes, transfers, renames and user deletions, 50 at a time: no error, every counter equals COUNT(*)', async () => {
    const { users, teams } = await world(16, 6);
    // Every user starts in two teams; each team has an OWNER.
    await t.db.prisma.membership.createMany({
      data: users.flatMap((u, i) =>
        [0, 1].map((k) => ({ userId: u.id, teamId: teams[(i + k * 3) % teams.length]!.id, role: i < 6 && k === 0 ? ('OWNER' as const) : ('MEMBER' as const) })),
      ),
    });
    // A deterministic pseudo-random mix, so a failure can be replayed; four users get deleted midway.
    let seed = 42;
    const random = (n: number) => {
      // mulberry32
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return Math.floor((((x ^ (x >>> 14)) >>> 0) / 2 ** 32) * n);
    };
    const pick = <T>(list: T[]) => list[random(list.length)]!;
    const ops: [keyof typeof OPS, object][] = [];
    for (let i = 0; i < 300; i++) {
      const [u, a, b] = [pick(users), pick(teams), pick(teams)];
      const roll = random(100);
      if (i % 75 === 40) ops.push(['delete', { id: users[12 + Math.floor(i / 75)]!.gid }]);
      else if (roll < 40) ops.push(['add', { teamId: a.gid, userId: u.gid, role: random(4) === 0 ? 'OWNER' : 'MEMBER' }]);
      else if (roll < 65) ops.push(['remove', { teamId: a.gid, userId: u.gid }]);
      else if (roll < 92) ops.push(['transfer', { userId: u.gid, fromTeamId: a.gid, toTeamId: b.gid }]);
      else ops.push(['update', { id: u.gid, name: `N${i}` }]);
    }
    // 50 requests in flight at a time: twice the pool, so they queue for connections and row locks,
    // without waiting longer for a connection than a transaction may (deleteUser's fallback).
    const results: GraphQLResponse[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        for (let n = next++; n < ops.length; n = next++) results[n] = await t.gql(OPS[ops[n]![0]], { i: ops[n]![1] });
      }),
    );
    const errors = results.flatMap((r) => r.errors ?? []);
    expect(errors).toEqual([]);
    const kinds = results.map((r) => r.data!.r.__typename as string);
    // Enough of each kind went through for the counters to have been exercised.
    for (const kind of ['AddTeamMemberSuccess', 'RemoveTeamMemberSuccess', 'TransferUserSuccess', 'DeleteUserSuccess']) {
      expect(kinds.filter((k) => k === kind).length, kind).toBeGreaterThanOrEqual(kind === 'DeleteUserSuccess' ? 4 : 5);
    }
    expect(await wrongCounts()).toEqual([]);

    // Events were written exactly for the changes that happened.
    const events = await t.db.prisma.outboxEvent.groupBy({ by: ['type'], _count: true, where: { aggregateId: { in: [...users, ...teams].map((x) => x.id) } } });
    const count = (type: string) => events.find((e) => e.type === type)?._count ?? 0;
    expect(count('team.member_added')).toBe(kinds.filter((k) => k === 'AddTeamMemberSuccess').length);
    expect(count('team.member_removed')).toBe(kinds.filter((k) => k === 'RemoveTeamMemberSuccess').length);
    expect(count('user.transferred')).toBe(kinds.filter((k) => k === 'TransferUserSuccess').length);
    expect(count('user.deleted')).toBe(kinds.filter((k) => k === 'DeleteUserSuccess').length);

    // And what clients read is the real count.
    const page = await t.gql('query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Team { id members(first: 1) { totalCount } } } }', { ids: teams.map((x) => x.gid) });
    for (const node of page.data!.nodes as { id: string; members: { totalCount: number } }[]) {
      const id = teams.find((x) => x.gid === node.id)!.id;
      expect(node.members.totalCount).toBe(await t.db.prisma.membership.count({ where: { teamId: id } }));
    }
  }, 120_000);

  it('a deleteUser that waited behind a membership change of the user locks that team before deleting, so it cannot deadlock', async () => {
    // A session adds the user to a team (locking the user row, as every membership change does), and a
    // deleteUser queues behind it. Its snapshot predates the new membership: deleting in that statement
    // would cascade into a membership whose team it had not locked, and lock the team only afterwards,
    // in the count trigger. A session that locks the team, then that membership (as removeTeamMember's
    // "another OWNER remains" check does) would then deadlock with it.
    const {
      users: [u],
      teams: [c],
    } = await world(1, 1);
    const adder = await openSession(t);
    const remover = await openSession(t);
    try {
      await adder.query('BEGIN');
      await adder.query(`INSERT INTO "Membership" ("userId", "teamId", "role") VALUES ($1, $2, 'OWNER')`, [u!.id, c!.id]);
      const deleted = t.gql(OPS.delete, { i: { id: u!.gid } });
      await waitForLockWaiters(adder);
      await remover.query('BEGIN');
      const teamLocked = remover.query('SELECT 1 FROM "Team" WHERE "id" = $1 FOR UPDATE', [c!.id]);
      await waitForLockWaiters(adder, 2);
      await adder.query('COMMIT');
      await teamLocked;
      // The delete now holds the user row and waits for the team (locked by `remover`), having touched
      // no membership yet; so the remover can lock the membership, and both finish.
      await waitForLockWaiters(remover, 1, deleted);
      await remover.query('SELECT 1 FROM "Membership" WHERE "userId" = $1 AND "teamId" = $2 FOR SHARE', [u!.id, c!.id]);
      await remover.query('COMMIT');
      const res = await deleted;
      expect(res).toEqual({ data: { r: { __typename: 'DeleteUserSuccess' } } });
    } finally {
      await adder.end();
      await remover.end();
    }
    expect(await t.db.prisma.membership.count({ where: { teamId: c!.id } })).toBe(0);
    expect(await wrongCounts()).toEqual([]);
    // The event names the team of the membership committed while the delete waited.
    const event = await t.db.prisma.outboxEvent.findFirstOrThrow({ where: { aggregateId: u!.id, type: 'user.deleted' } });
    expect(event.payload).toEqual({ id: u!.id, teamIds: [c!.id] });
  });
});

describe('the migration backfills the counters of existing memberships', () => {
  it('on an embedded database migrated up to the outbox, then to the end', async () => {
    const all = path.join(findProjectRoot(), 'prisma/migrations');
    const before = mkdtempSync(path.join(tmpdir(), 'migrations-'));
    const db = new PGlite('memory://');
    try {
      cpSync(path.join(all, 'migration_lock.toml'), path.join(before, 'migration_lock.toml'));
      for (const dir of readdirSync(all).filter((d) => d < '20261129')) cpSync(path.join(all, dir), path.join(before, dir), { recursive: true });
      await applyMigrations(new PrismaPGlite(db), { migrationsDir: before });
      await db.exec(`
        INSERT INTO "User" ("id", "email", "name") VALUES
          ('00000000-0000-4000-8000-000000000001', 'a@example.com', 'A'), ('00000000-0000-4000-8000-000000000002', 'b@example.com', 'B'),
          ('00000000-0000-4000-8000-000000000003', 'c@example.com', 'C');
        INSERT INTO "Team" ("id", "slug", "name") VALUES
          ('00000000-0000-4000-8000-0000000000a1', 'one', 'One'), ('00000000-0000-4000-8000-0000000000a2', 'two', 'Two');
        INSERT INTO "Membership" ("userId", "teamId") VALUES
          ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000a1'),
          ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-0000000000a1'),
          ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-0000000000a2');`);
      // The counters' migration first; later ones (if any) follow it.
      expect((await applyMigrations(new PrismaPGlite(db), { migrationsDir: all })).applied[0]).toMatch(/_membership_counts$/);
      const counts = async () => ({
        teams: (await db.query<{ slug: string; n: number }>(`SELECT "slug", "memberCount" AS n FROM "Team" ORDER BY "slug"`)).rows,
        users: (await db.query<{ email: string; n: number }>(`SELECT "email", "teamCount" AS n FROM "User" ORDER BY "email"`)).rows,
      });
      expect(await counts()).toEqual({
        teams: [
          { slug: 'one', n: 2 },
          { slug: 'two', n: 1 },
        ],
        users: [
          { email: 'a@example.com', n: 1 },
          { email: 'b@example.com', n: 2 },
          { email: 'c@example.com', n: 0 },
        ],
      });
      // From here on the triggers keep them.
      await db.exec(`DELETE FROM "User" WHERE "email" = 'b@example.com'`);
      expect((await counts()).teams).toEqual([
        { slug: 'one', n: 1 },
        { slug: 'two', n: 0 },
      ]);
    } finally {
      await db.close();
      rmSync(before, { recursive: true, force: true });
    }
  }, 120_000);
});
