import { beforeAll, describe, expect, it } from 'vitest';
import { benchTeamId, benchUserId, seedBenchmark } from '../prisma/seed.js';
import { toGlobalId } from '../src/ids.js';
import { useTestApp } from './helpers/app.js';

/**
 * The skewed shape of the benchmark, small enough for a test: one team with thousands of members and
 * one user in every team. First pages stay one statement, their totalCounts stay exact, and every
 * nested page is a LIMIT inside the statement (the bench's skew phase measures the time).
 */
const t = useTestApp();
const BIG = 3000;
const bigTeam = benchTeamId(1);
const everywhere = benchUserId(1);

beforeAll(async () => {
  await seedBenchmark(t.db.prisma, { users: 40, teams: 12, membershipsPerUser: 3 });
  await t.db.prisma.$executeRawUnsafe(`
    INSERT INTO "User" ("email", "name", "createdAt")
    SELECT 'skew' || g || '@skew.example', 'Skew ' || g, timestamptz '2030-01-01' + g * interval '1 ms'
    FROM generate_series(1, ${BIG}) AS g`);
  await t.db.prisma.$executeRawUnsafe(`INSERT INTO "Membership" ("userId", "teamId") SELECT "id", $1::uuid FROM "User" WHERE "email" LIKE 'skew%'`, bigTeam);
  await t.db.prisma.$executeRawUnsafe(`INSERT INTO "Membership" ("userId", "teamId") SELECT $1::uuid, "id" FROM "Team" ON CONFLICT DO NOTHING`, everywhere);
});

async function one(query: string, variables: Record<string, unknown> = {}) {
  t.resetStatements();
  const res = await t.gql(query, variables);
  expect(res.errors).toBeUndefined();
  expect(t.statements, t.statements.join('\n---\n')).toHaveLength(1);
  return res.data!;
}

const count = async (sql: string, ...args: unknown[]) => Number((await t.db.prisma.$queryRawUnsafe<{ n: bigint }[]>(sql, ...args))[0]!.n);

describe('first pages of a team with thousands of members and of a user in every team', () => {
  it('team(id) members(first: 20): one statement, an exact totalCount, the first 20 by user id', async () => {
    const members = await count(`SELECT count(*) AS n FROM "Membership" WHERE "teamId" = $1::uuid`, bigTeam);
    expect(members).toBeGreaterThan(BIG);
    const data = await one(`query ($id: ID!) { team(id: $id) { members(first: 20) { totalCount pageInfo { hasNextPage } edges { node { id } } } } }`, {
      id: toGlobalId('Team', bigTeam),
    });
    expect(data.team.members.totalCount).toBe(members);
    expect(data.team.members.pageInfo.hasNextPage).toBe(true);
    const first = await t.db.prisma.$queryRawUnsafe<{ userId: string }[]>(
      `SELECT "userId"::text AS "userId" FROM "Membership" WHERE "teamId" = $1::uuid ORDER BY "userId" LIMIT 20`,
      bigTeam,
    );
    expect(data.team.members.edges.map((e: any) => e.node.id)).toEqual(first.map((r) => toGlobalId('User', r.userId)));
  });

  it('team(id) members(last: 5): the last 5 by user id, in order', async () => {
    const data = await one(`query ($id: ID!) { team(id: $id) { members(last: 5) { totalCount pageInfo { hasPreviousPage hasNextPage } edges { node { id } } } } }`, {
      id: toGlobalId('Team', bigTeam),
    });
    const last = await t.db.prisma.$queryRawUnsafe<{ userId: string }[]>(
      `SELECT "userId"::text AS "userId" FROM "Membership" WHERE "teamId" = $1::uuid ORDER BY "userId" DESC LIMIT 5`,
      bigTeam,
    );
    expect(data.team.members.edges.map((e: any) => e.node.id)).toEqual(last.reverse().map((r) => toGlobalId('User', r.userId)));
    expect(data.team.members.pageInfo).toEqual({ hasPreviousPage: true, hasNextPage: false });
  });

  it('teams(first: 5) with members(first: 3): one statement, every totalCount exact', async () => {
    const data = await one(`{ teams(first: 5) { totalCount edges { node { id members(first: 3) { totalCount edges { node { id } } } } } } }`);
    expect(data.teams.totalCount).toBe(await count(`SELECT count(*) AS n FROM "Team"`));
    for (const { node } of data.teams.edges) {
      const [, id] = Buffer.from(node.id, 'base64').toString().split(':');
      expect(node.members.totalCount).toBe(await count(`SELECT count(*) AS n FROM "Membership" WHERE "teamId" = $1::uuid`, id));
      expect(node.members.edges.length).toBe(Math.min(3, node.members.totalCount));
    }
  });

  it('users(filter: { teamId }) of the big team: one statement, totalCount exact', async () => {
    const data = await one(`query ($team: ID!) { users(first: 10, filter: { teamId: $team }) { totalCount edges { node { teams(first: 2) { totalCount } } } } }`, {
      team: toGlobalId('Team', bigTeam),
    });
    // The team's member counter, not a COUNT over its thousands of memberships.
    expect(t.statements[0]).toMatch(/"memberCount"/);
    expect(t.statements[0]).not.toMatch(/count\(/i);
    expect(data.users.totalCount).toBe(await count(`SELECT count(*) AS n FROM "Membership" WHERE "teamId" = $1::uuid`, bigTeam));
    expect(data.users.edges).toHaveLength(10);
    const alone = await one(`query ($team: ID!) { users(filter: { teamId: $team }) { totalCount } }`, { team: toGlobalId('Team', bigTeam) });
    expect(alone.users.totalCount).toBe(data.users.totalCount);
    expect(t.statements[0]).not.toMatch(/count\(/i);
    // With a search as well, the count is a COUNT of the matching users, still exact.
    const filtered = await t.gql(`query ($team: ID!) { users(first: 1, filter: { teamId: $team, search: "skew1" }) { totalCount edges { node { id } } } }`, {
      team: toGlobalId('Team', bigTeam),
    });
    expect(filtered.data!.users.totalCount).toBe(await count(`SELECT count(*) AS n FROM "User" WHERE "email" LIKE 'skew1%'`));
  });

  it('user(id) in every team: teams(first: 5) is one statement with the exact count', async () => {
    const data = await one(`query ($id: ID!) { user(id: $id) { teams(first: 5) { totalCount edges { node { slug members(first: 2) { totalCount } } } } } }`, {
      id: toGlobalId('User', everywhere),
    });
    expect(data.user.teams.totalCount).toBe(12);
    expect(data.user.teams.edges).toHaveLength(5);
  });

  it('users(first: 50) over every user: one statement, totalCount exact', async () => {
    const data = await one(`{ users(first: 50) { totalCount edges { node { email teams(first: 5) { totalCount } } } } }`);
    expect(data.users.totalCount).toBe(40 + BIG);
    expect(data.users.edges[0].node).toMatchObject({ email: 'user1@bench.example', teams: { totalCount: 12 } });
  });
});
