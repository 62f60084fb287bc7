import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/ids.js';
import { useTestApp } from './helpers/app.js';
import { onPostgres } from './helpers/database.js';
import { unique } from './helpers/fixtures.js';
import { openSession } from './helpers/sessions.js';

/**
 * The relay publishes each aggregate's events in `seq` order and relies on them committing in that
 * order: an event that becomes visible after a later `seq` of its aggregate was published would be
 * published out of order. With the advisory lock gone, each mutation draws its `seq` only after it
 * holds the row lock of its aggregate (the user row for user.*, the team row for team.*). These tests
 * write one aggregate from many connections at once while another session keeps reading the outbox:
 * every read must see a prefix, in `seq` order, of the aggregate's final events.
 */
const t = useTestApp();

const OPS = {
  add: 'mutation ($i: AddTeamMemberInput!) { r: addTeamMember(input: $i) { __typename } }',
  remove: 'mutation ($i: RemoveTeamMemberInput!) { r: removeTeamMember(input: $i) { __typename } }',
  transfer: 'mutation ($i: TransferUserInput!) { r: transferUser(input: $i) { __typename } }',
  update: 'mutation ($i: UpdateUserInput!) { r: updateUser(input: $i) { __typename } }',
};

async function users(n: number) {
  const rows = [];
  for (let i = 0; i < n; i++) rows.push(await t.db.prisma.user.create({ data: { email: `${unique('o')}@example.com`, name: 'O' } }));
  return rows.map((u) => ({ id: u.id, gid: toGlobalId('User', u.id) }));
}
async function team(members: { id: string }[] = []) {
  const row = await t.db.prisma.team.create({ data: { slug: unique('o'), name: 'O' } });
  if (members.length) await t.db.prisma.membership.createMany({ data: members.map((m) => ({ userId: m.id, teamId: row.id })) });
  return { id: row.id, gid: toGlobalId('Team', row.id) };
}

/** Reads the aggregate's event seqs over and over until `done` settles; returns every read, then the final one. */
async function watch(session: pg.Client, aggregateId: string, done: Promise<unknown>) {
  let finished = false;
  void done.finally(() => (finished = true));
  const read = async () =>
    (await session.query<{ s: string }>('SELECT "seq"::text AS s FROM "OutboxEvent" WHERE "aggregateId" = $1 ORDER BY "seq"', [aggregateId])).rows.map((r) => r.s);
  const reads: string[][] = [];
  while (!finished) reads.push(await read());
  return { reads, final: await read() };
}

function expectPrefixes({ reads, final }: { reads: string[][]; final: string[] }) {
  expect(reads.length).toBeGreaterThan(1);
  for (const seen of reads) expect(seen, 'a read saw a later event of the aggregate without an earlier one').toEqual(final.slice(0, seen.length));
}

describe.skipIf(!onPostgres)("one aggregate's events commit in seq order", () => {
  it('user.updated and user.transferred of one user, 40 writers at once', async () => {
    const [user] = await users(1);
    const [a, b] = [await team([user!]), await team()];
    const session = await openSession(t);
    try {
      for (let round = 0; round < 3; round++) {
        const writes = Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            i % 4 === 3
              ? t.gql(OPS.transfer, { i: { userId: user!.gid, fromTeamId: (i % 8 === 3 ? a : b).gid, toTeamId: (i % 8 === 3 ? b : a).gid } })
              : t.gql(OPS.update, { i: { id: user!.gid, name: `Name ${round}.${i}` } }),
          ),
        );
        const seen = await watch(session, user!.id, writes);
        for (const r of await writes) expect(r.errors).toBeUndefined();
        expectPrefixes(seen);
      }
      // The versions of user.updated grow with seq: each update's event follows the one it overwrote.
      const events = await t.db.prisma.outboxEvent.findMany({ where: { aggregateId: user!.id, type: 'user.updated' }, orderBy: { seq: 'asc' } });
      expect(events.map((e) => (e.payload as { version: number }).version)).toEqual(events.map((_, i) => i + 2));
    } finally {
      await session.end();
    }
  }, 60_000);

  it('team.member_added and team.member_removed of one team, 40 writers at once', async () => {
    const members = await users(20);
    const newcomers = await users(20);
    const target = await team(members);
    const session = await openSession(t);
    try {
      const writes = Promise.all([
        ...newcomers.map((u) => t.gql(OPS.add, { i: { teamId: target.gid, userId: u.gid } })),
        ...members.map((u) => t.gql(OPS.remove, { i: { teamId: target.gid, userId: u.gid } })),
      ]);
      const seen = await watch(session, target.id, writes);
      const results = await writes;
      for (const r of results) expect(r.data?.r.__typename).toMatch(/^(AddTeamMember|RemoveTeamMember)Success$/);
      expect(seen.final).toHaveLength(40);
      expectPrefixes(seen);
    } finally {
      await session.end();
    }
  }, 60_000);
});
