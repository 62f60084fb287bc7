// The teams connection and the nested Team.members / User.teams connections: order, paging both ways,
// per-parent pages and counts, and refused cursors and sizes.
import { beforeAll, describe, expect, it } from 'vitest';
import type { TeamRole } from '../src/generated/prisma/client.js';
import { toGlobalId } from '../src/ids.js';
import { useTestApp } from './helpers/app.js';
import { fixtures, ISO_MS, NO_UUID, type TestTeam, type TestUser, unique } from './helpers/fixtures.js';
import { MEMBERS_PAGE, teamCalls, TEAMS_PAGE, USER_TEAMS_PAGE } from './helpers/teams.js';

const t = useTestApp();
const { ok, badUserInput } = teamCalls(t);
const { makeUser, makeUsers, makeTeam, membershipsOf } = fixtures(t);

// ---- teams connection -------------------------------------------------------------------------

describe('teams connection', () => {
  const prefix = unique('page');

  beforeAll(async () => {
    // 110 teams, so the 100 cap is observable; inserted in shuffled order so slug order != insert order.
    const slugs = Array.from({ length: 110 }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
    const shuffled = slugs.map((s, i) => [s, (i * 37) % 110] as const).sort((a, b) => a[1] - b[1]);
    await t.db.prisma.team.createMany({ data: shuffled.map(([slug]) => ({ slug, name: `Paged ${slug}` })) });
  });

  /** The whole table in the order the contract promises, as the database sorts slugs. */
  async function allBySlug(): Promise<string[]> {
    const rows = await t.db.prisma.team.findMany({ orderBy: { slug: 'asc' }, select: { id: true } });
    return rows.map((r) => toGlobalId('Team', r.id));
  }

  async function page(variables: Record<string, unknown>) {
    return (await ok(TEAMS_PAGE, variables)).teams;
  }
  const ids = (p: { edges: { node: { id: string } }[] }) => p.edges.map((e) => e.node.id);

  it('defaults to 20 teams ordered by slug ASC, with totalCount', async () => {
    const want = await allBySlug();
    const result = await page({});
    expect(result.totalCount).toBe(want.length);
    expect(ids(result)).toEqual(want.slice(0, 20));
    expect(result.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    // Our zero-padded slugs sort the same under any collation.
    const slugsSeen = (await page({ first: 100 })).edges.map((e: { node: { slug: string } }) => e.node.slug);
    const ours = slugsSeen.filter((s: string) => s.startsWith(prefix));
    expect(ours).toEqual([...ours].sort());
  });

  it.each([
    ['first', { first: 150 }],
    ['first', { first: 100 }],
    ['last', { last: 150 }],
    ['last', { last: 101 }],
  ])('caps %s at 100 (%j)', async (_which, variables) => {
    const want = await allBySlug();
    expect(want.length).toBeGreaterThan(100);
    const result = await page(variables);
    expect(result.edges).toHaveLength(100);
    expect(ids(result)).toEqual('first' in variables ? want.slice(0, 100) : want.slice(-100));
  });

  it.each([3, 7, 20])('pages forward and backward by %i through the whole order without gaps or duplicates', async (size) => {
    const want = await allBySlug();
    expect(want.length).toBeGreaterThan(25);

    const forward: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 200; i++) {
      const p = await page({ first: size, after });
      expect(p.totalCount).toBe(want.length);
      forward.push(...ids(p));
      if (after === undefined) expect(p.pageInfo.hasPreviousPage).toBe(false);
      if (!p.pageInfo.hasNextPage) break;
      expect(p.edges).toHaveLength(size);
      after = p.pageInfo.endCursor;
    }
    expect(forward).toEqual(want);

    const backward: string[] = [];
    let before: string | undefined;
    for (let i = 0; i < 200; i++) {
      const p = await page({ last: size, before });
      backward.unshift(...ids(p));
      if (before === undefined) expect(p.pageInfo.hasNextPage).toBe(false);
      if (!p.pageInfo.hasPreviousPage) break;
      expect(p.edges).toHaveLength(size);
      before = p.pageInfo.startCursor;
    }
    expect(backward).toEqual(want);
  });

  it('an edge cursor resumes right after its own team', async () => {
    const want = await allBySlug();
    const first = await page({ first: 30 });
    const cursor = first.edges[9].cursor;
    expect(ids(await page({ first: 5, after: cursor }))).toEqual(want.slice(10, 15));
    expect(ids(await page({ last: 5, before: cursor }))).toEqual(want.slice(4, 9));
  });

  it.each([
    ['garbage', 'garbage!!'],
    ['base64 without the prefix', Buffer.from('hello').toString('base64')],
    ['a string that is not a UUID', Buffer.from("GPC:S:1' OR 1=1 --").toString('base64')],
    ['a number', Buffer.from('GPC:N:42').toString('base64')],
    ['a tuple', Buffer.from('GPC:T:["S:a","S:b"]').toString('base64')],
  ])('a %s cursor is a BAD_USER_INPUT error, not an internal one', async (_label, cursor) => {
    await badUserInput(TEAMS_PAGE, { after: cursor });
    await badUserInput(TEAMS_PAGE, { before: cursor, last: 2 });
  });

  it('a negative page size is a BAD_USER_INPUT error', async () => {
    await badUserInput(TEAMS_PAGE, { first: -1 });
  });
});

// ---- nested connections -----------------------------------------------------------------------

describe('Team.members and User.teams', () => {
  let team: TestTeam;
  let members: TestUser[];
  let joiner: TestUser;
  let joinedTeams: TestTeam[];

  beforeAll(async () => {
    members = await makeUsers(12, 'member');
    team = await makeTeam(
      members.map((u, i) => [u, i % 4 === 0 ? 'OWNER' : 'MEMBER']),
      'big',
    );
    joiner = await makeUser('joiner');
    joinedTeams = [];
    for (let i = 0; i < 12; i++) joinedTeams.push(await makeTeam([[joiner, i % 3 === 0 ? 'OWNER' : 'MEMBER']], 'joined'));
  });

  type Edge = { cursor: string; role: string; joinedAt: string; node: { id: string } };

  async function pageAll(query: string, id: string, field: 'members' | 'teams', size: number, direction: 'forward' | 'backward'): Promise<Edge[]> {
    const edges: Edge[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 50; i++) {
      const vars = direction === 'forward' ? { id, first: size, after: cursor } : { id, last: size, before: cursor };
      const data = await ok(query, vars);
      const conn = field === 'members' ? data.team.members : data.user.teams;
      expect(conn.totalCount).toBe(12);
      if (direction === 'forward') {
        edges.push(...conn.edges);
        if (!conn.pageInfo.hasNextPage) break;
        cursor = conn.pageInfo.endCursor;
      } else {
        edges.unshift(...conn.edges);
        if (!conn.pageInfo.hasPreviousPage) break;
        cursor = conn.pageInfo.startCursor;
      }
      expect(conn.edges).toHaveLength(size);
    }
    return edges;
  }

  it.each([1, 5, 12, 20])('Team.members pages forward and backward by %i, every member exactly once, in a stable order', async (size) => {
    const rows = await membershipsOf(team);
    const forward = await pageAll(MEMBERS_PAGE, team.gid, 'members', size, 'forward');
    const backward = await pageAll(MEMBERS_PAGE, team.gid, 'members', size, 'backward');
    const want = rows.map((r) => toGlobalId('User', r.userId)); // documented: ordered by user ID
    expect(forward.map((e) => e.node.id)).toEqual(want);
    expect(backward.map((e) => e.node.id)).toEqual(want);
    expect(new Set(want)).toEqual(new Set(members.map((m) => m.gid)));
    for (const edge of forward) {
      const row = rows.find((r) => toGlobalId('User', r.userId) === edge.node.id)!;
      expect(edge.role).toBe(row.role);
      expect(edge.joinedAt).toMatch(ISO_MS);
      expect(edge.joinedAt).toBe(row.joinedAt.toISOString());
    }
  });

  it.each([1, 5, 12, 20])('User.teams pages forward and backward by %i, every team exactly once, in a stable order', async (size) => {
    const rows = await t.db.prisma.membership.findMany({ where: { userId: joiner.id }, orderBy: { teamId: 'asc' } });
    const forward = await pageAll(USER_TEAMS_PAGE, joiner.gid, 'teams', size, 'forward');
    const backward = await pageAll(USER_TEAMS_PAGE, joiner.gid, 'teams', size, 'backward');
    const want = rows.map((r) => toGlobalId('Team', r.teamId)); // documented: ordered by team ID
    expect(forward.map((e) => e.node.id)).toEqual(want);
    expect(backward.map((e) => e.node.id)).toEqual(want);
    expect(new Set(want)).toEqual(new Set(joinedTeams.map((x) => x.gid)));
    for (const edge of forward) {
      const row = rows.find((r) => toGlobalId('Team', r.teamId) === edge.node.id)!;
      expect(edge.role).toBe(row.role);
      expect(edge.joinedAt).toBe(row.joinedAt.toISOString());
    }
  });

  it('gives each parent its own page and count when nested in a list (per-parent LIMIT)', async () => {
    const extra = await makeUsers(3, 'nested');
    const small = await makeTeam([[extra[0]!, 'OWNER']], 'nested-a');
    const mid = await makeTeam(
      extra.map((u) => [u, 'MEMBER'] as [TestUser, TeamRole]),
      'nested-b',
    );
    const data = await ok(
      `query ($ids: [ID!]!) {
        nodes(ids: $ids) { ... on Team { id members(first: 2) { totalCount edges { role node { id } } pageInfo { hasNextPage } } } }
      }`,
      { ids: [team.gid, small.gid, mid.gid] },
    );
    const [big, a, b] = data.nodes;
    expect(big.members).toMatchObject({ totalCount: 12, pageInfo: { hasNextPage: true } });
    expect(big.members.edges).toHaveLength(2);
    expect(a.members).toEqual({ totalCount: 1, edges: [{ role: 'OWNER', node: { id: extra[0]!.gid } }], pageInfo: { hasNextPage: false } });
    expect(b.members.totalCount).toBe(3);
    expect(b.members.edges).toHaveLength(2);

    // The same through the teams connection (planned into one query with relation joins).
    const counts = new Map((await t.db.prisma.membership.groupBy({ by: ['teamId'], _count: true })).map((g) => [toGlobalId('Team', g.teamId), g._count]));
    const listed = (await ok(`{ teams(first: 100) { edges { node { id members(first: 2) { totalCount edges { node { id } } } } } } }`)).teams.edges as {
      node: { id: string; members: { totalCount: number; edges: unknown[] } };
    }[];
    expect(listed).toHaveLength(100);
    for (const { node } of listed) {
      const count = counts.get(node.id) ?? 0;
      expect(node.members.totalCount).toBe(count);
      expect(node.members.edges).toHaveLength(Math.min(2, count));
    }
  });

  it('answers a connection asked only for its totalCount', async () => {
    const data = await ok(`query ($t: ID!, $u: ID!) { team(id: $t) { members { totalCount } } user(id: $u) { teams { totalCount } } teams { totalCount } }`, {
      t: team.gid,
      u: joiner.gid,
    });
    expect(data).toEqual({
      team: { members: { totalCount: 12 } },
      user: { teams: { totalCount: 12 } },
      teams: { totalCount: await t.db.prisma.team.count() },
    });
  });

  it('an empty team and a user without teams give empty connections', async () => {
    const lonely = await makeUser('lonely');
    const empty = await makeTeam([], 'empty');
    const m = (await ok(MEMBERS_PAGE, { id: empty.gid })).team.members;
    expect(m).toEqual({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } });
    const u = (await ok(USER_TEAMS_PAGE, { id: lonely.gid })).user.teams;
    expect(u).toEqual({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } });
  });

  it.each([
    ['garbage', 'garbage!!'],
    ['base64 without the prefix', Buffer.from('hello').toString('base64')],
    ['a single string', Buffer.from('GPC:S:abc').toString('base64')],
    ['a tuple of non-UUIDs', Buffer.from('GPC:T:["S:x","S:y"]').toString('base64')],
    ['a tuple of the wrong width', Buffer.from(`GPC:T:["S:${NO_UUID}"]`).toString('base64')],
    ['a tuple of numbers', Buffer.from('GPC:T:["N:1","N:2"]').toString('base64')],
  ])('a %s nested cursor is a BAD_USER_INPUT error, not an internal one', async (_label, cursor) => {
    await badUserInput(MEMBERS_PAGE, { id: team.gid, after: cursor });
    await badUserInput(MEMBERS_PAGE, { id: team.gid, last: 2, before: cursor });
    await badUserInput(USER_TEAMS_PAGE, { id: joiner.gid, after: cursor });
    await badUserInput(USER_TEAMS_PAGE, { id: joiner.gid, last: 2, before: cursor });
  });
});
