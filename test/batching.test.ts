import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { defaultFieldResolver, execute, parse } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { benchTeamId, benchUserId, seedBenchmark } from '../prisma/seed.js';
import { createContext } from '../src/context.js';
import { toGlobalId } from '../src/ids.js';
import { createLogger } from '../src/logger.js';
import { schema } from '../src/schema/index.js';
import { useTestApp } from './helpers/app.js';
import { RequestSignal } from '../src/plugins/use-request-deadline.js';

/**
 * Batching is asserted by counting the SQL statements Prisma sends, which is deterministic: a page
 * of N parents must cost the same as a page of 5. An N+1 makes these tests fail.
 */
// 80 aliased lookups below prove that aliases batch; the production alias limit (30) is in hostile.test.ts.
const t = useTestApp({ GRAPHQL_MAX_ALIASES: '100' });

beforeAll(async () => {
  await seedBenchmark(t.db.prisma, { users: 120, teams: 30, membershipsPerUser: 5 });
});

async function statementsFor(query: string, variables: Record<string, unknown> = {}) {
  t.resetStatements();
  const res = await t.gql(query, variables);
  expect(res.errors).toBeUndefined();
  return { data: res.data!, statements: [...t.statements] };
}

/** Runs `build(n)` for a small and a large n and returns both statement counts. */
async function costs(build: (n: number) => [string, Record<string, unknown>?], small: number, large: number) {
  const a = await statementsFor(...build(small));
  const b = await statementsFor(...build(large));
  return { small: a, large: b };
}

const NESTED_USERS_PAGE = /* GraphQL */ `
  query ($n: Int!) {
    users(first: $n) {
      totalCount
      edges { node {
        email
        teams(first: 5) { totalCount edges { role joinedAt node {
          name
          members(first: 3) { totalCount edges { role node { email } } }
        } } }
      } }
    }
  }
`;

const NESTED_TEAMS_PAGE = /* GraphQL */ `
  query ($n: Int!) {
    teams(first: $n) {
      totalCount
      edges { node { slug members(first: 20) { totalCount edges { role joinedAt node { email } } } } }
    }
  }
`;

const aliases = (prefix: string, n: number, field: (i: number) => string) => Array.from({ length: n }, (_, i) => `${prefix}${i}: ${field(i + 1)}`).join('\n');

describe('nested reads cost a fixed number of SQL statements', () => {
  // One statement: the page, its nested pages with their counts, and the root totalCount.
  it('users(first: N) → teams(first: 5) → members(first: 3), with every totalCount: 1 statement for N = 5 and 50', async () => {
    const { small, large } = await costs((n) => [NESTED_USERS_PAGE, { n }], 5, 50);
    expect(small.data.users.edges).toHaveLength(5);
    expect(large.data.users.edges).toHaveLength(50);
    expect(large.data.users.totalCount).toBe(120);
    const firstUser = large.data.users.edges[0].node;
    expect(firstUser.teams.totalCount).toBe(5);
    expect(firstUser.teams.edges).toHaveLength(5);
    expect(firstUser.teams.edges[0].node.members.edges).toHaveLength(3);
    expect(firstUser.teams.edges[0].node.members.totalCount).toBe(20);
    expect(large.statements.length).toBe(small.statements.length);
    expect(large.statements.length).toBe(1);
  });

  it('teams(first: N) → members(first: 20) with totalCounts: 1 statement for N = 5 and 30', async () => {
    const { small, large } = await costs((n) => [NESTED_TEAMS_PAGE, { n }], 5, 30);
    expect(large.data.teams.edges).toHaveLength(30);
    expect(large.data.teams.totalCount).toBe(30);
    expect(large.data.teams.edges[0].node.members.edges).toHaveLength(20);
    expect(large.statements.length).toBe(small.statements.length);
    expect(large.statements.length).toBe(1);
  });

  it('pages backwards, filtered and ordered, with nested pages and every totalCount: 1 statement', async () => {
    const team = toGlobalId('Team', benchTeamId(3));
    const { data, statements } = await statementsFor(
      `query ($team: ID!) {
        users(last: 4, filter: { teamId: $team, search: "user" }, orderBy: { field: NAME, direction: DESC }) {
          totalCount pageInfo { hasPreviousPage hasNextPage }
          edges { cursor node { name teams(last: 2) { totalCount pageInfo { hasPreviousPage } edges { node { slug } } } } }
        }
      }`,
      { team },
    );
    expect(statements).toHaveLength(1);
    expect(data.users.totalCount).toBe(20);
    expect(data.users.pageInfo).toEqual({ hasPreviousPage: true, hasNextPage: false });
    expect(data.users.edges).toHaveLength(4);
    const names = data.users.edges.map((e: any) => e.node.name);
    expect([...names].sort().reverse()).toEqual(names);
    expect(data.users.edges[0].node.teams).toMatchObject({ totalCount: 5, pageInfo: { hasPreviousPage: true } });
    expect(data.users.edges[0].node.teams.edges).toHaveLength(2);
  });

  it('aliased pages each carry their own totalCount; a totalCount alone is one COUNT', async () => {
    const { data, statements } = await statementsFor(
      `query ($team: ID!) { all: users(first: 1) { totalCount edges { node { id } } } some: users(first: 1, filter: { teamId: $team }) { totalCount edges { node { id } } } teams { totalCount } }`,
      { team: toGlobalId('Team', benchTeamId(4)) },
    );
    expect(data.all.totalCount).toBe(120);
    expect(data.some.totalCount).toBe(20);
    expect(data.teams.totalCount).toBe(30);
    expect(statements).toHaveLength(3);
  });

  it('an empty page still carries its totalCount, in the one statement', async () => {
    const { data, statements } = await statementsFor(`{ users(first: 3, filter: { search: "nobody-has-this" }) { totalCount edges { node { id } } } }`);
    expect(data.users).toEqual({ totalCount: 0, edges: [] });
    expect(statements).toHaveLength(1);
  });

  it('user(id) and team(id) with nested connections and their totalCounts: 1 statement, also across aliases', async () => {
    const userQuery = `query ($id: ID!) { user(id: $id) { email teams(first: 20) { totalCount edges { role node { name members(first: 2) { totalCount edges { node { email } } } } } } } }`;
    const user = await statementsFor(userQuery, { id: toGlobalId('User', benchUserId(1)) });
    expect(user.statements).toHaveLength(1);
    expect(user.data.user.teams.totalCount).toBe(5);
    expect(user.data.user.teams.edges).toHaveLength(5);
    expect(user.data.user.teams.edges[0].node.members).toMatchObject({ totalCount: 20 });
    expect(user.data.user.teams.edges[0].node.members.edges).toHaveLength(2);

    const teamQuery = `query ($id: ID!) { team(id: $id) { slug members(first: 20) { totalCount edges { role node { email } } } } }`;
    const team = await statementsFor(teamQuery, { id: toGlobalId('Team', benchTeamId(1)) });
    expect(team.statements).toHaveLength(1);
    expect(team.data.team.members.totalCount).toBe(20);
    expect(team.data.team.members.edges).toHaveLength(20);

    const build = (n: number): [string] => [
      `{ ${aliases('t', n, (i) => `team(id: "${toGlobalId('Team', benchTeamId(i))}") { slug members(first: 3) { totalCount edges { node { email } } } }`)} }`,
    ];
    const { small, large } = await costs(build, 1, 20);
    expect(large.data.t19.members.edges).toHaveLength(3);
    expect(large.statements).toHaveLength(1);
    expect(small.statements).toHaveLength(1);
  });

  it('me, userByEmail and teamBySlug with nested connections: 1 statement each', async () => {
    const me = await t.token({ sub: benchUserId(2) });
    t.resetStatements();
    const mine = await t.gql(`{ me { email teams(first: 3) { totalCount edges { node { slug } } } } }`, {}, { token: me });
    expect(mine.errors).toBeUndefined();
    expect(mine.data!.me.teams.totalCount).toBe(5);
    expect(t.statements).toHaveLength(1);
    const byEmail = await statementsFor(`{ userByEmail(email: "User3@Bench.example") { teams(first: 2) { totalCount edges { node { slug } } } } }`);
    expect(byEmail.data.userByEmail.teams.edges).toHaveLength(2);
    expect(byEmail.statements).toHaveLength(1);
    const bySlug = await statementsFor(`{ teamBySlug(slug: "team-2") { members(first: 4) { totalCount edges { node { email } } } } }`);
    expect(bySlug.data.teamBySlug.members).toMatchObject({ totalCount: 20 });
    expect(bySlug.data.teamBySlug.members.edges).toHaveLength(4);
    expect(bySlug.statements).toHaveLength(1);
  });

  it("nested connections fetch only the page: LIMIT inside the statement, counts from the parents' columns", async () => {
    const { statements } = await statementsFor(NESTED_USERS_PAGE, { n: 5 });
    expect(statements).toHaveLength(1);
    const [page] = statements as [string];
    // Each nested page is a LIMIT over Membership, inside the one statement.
    expect(page.match(/FROM "Membership" AS "\w+" WHERE [^()]*ORDER BY [^()]* LIMIT/g)).toHaveLength(2);
    // The nested totalCounts are the counter columns, read in the page's statement: nothing counts
    // memberships, so the cost follows the page, not the size of a team or of a user's team list.
    expect(page).toMatch(/"teamCount"/);
    expect(page).toMatch(/"memberCount"/);
    expect(page).not.toMatch(/GROUP BY/i);
    expect(page).not.toMatch(/count\([^)]*\)[^()]*FROM ("public"\.)?"Membership"/i);
  });

  it('a page builds only the columns its operation reads, and whole rows for fields it does not know', async () => {
    const narrow = await statementsFor(`{ teams(first: 2) { edges { node { members(first: 2) { edges { node { email } } } } } } }`);
    // A nested row is a positional text array of the columns read (the member's key, from the user row it names).
    expect(narrow.statements[0]).toMatch(/ARRAY\["\w+"\."id"::text,"\w+"\."email"::text\] FROM/);
    expect(narrow.statements[0]).not.toMatch(/\."updatedAt"/);
    const wide = await statementsFor(`{ teams(first: 2) { edges { node { members(first: 2) { edges { node { email role version createdAt updatedAt } } } } } } }`);
    expect(wide.statements[0]).toMatch(/ARRAY\[[^\]]*extract\(epoch from "\w+"\."updatedAt"\)/);
    const member = wide.data.teams.edges[0].node.members.edges[0].node;
    expect(member).toMatchObject({ role: 'USER', version: 1 });
    expect(new Date(member.updatedAt).toISOString()).toBe(member.updatedAt);
    expect(new Date(member.createdAt).toISOString()).toBe(member.createdAt);
  });

  it('a membership page builds only the edge columns its operation reads: the key always, role and joinedAt when asked', async () => {
    const narrow = await statementsFor(`{ teams(first: 2) { edges { node { members(first: 2) { edges { node { id } } } } } } }`);
    // The key is the team's (the join) and the member's (the user row, flattened into the same array).
    expect(narrow.statements[0]).toMatch(/ARRAY\["\w+"\."id"::text\] FROM \(SELECT \* FROM "Membership" AS "\w+" WHERE "\w+"\."teamId" = /);
    expect(narrow.statements[0]).toMatch(/LEFT JOIN "User" AS "\w+" ON "\w+"\."id" = "\w+"\."userId"/);
    expect(narrow.statements[0]).not.toMatch(/\."joinedAt"|\."role"/);
    const wide = await statementsFor(`{ users(first: 2) { edges { node { teams(first: 2) { edges { role joinedAt cursor node { id } } } } } } }`);
    expect(wide.statements[0]).toMatch(/ARRAY\[[^\]]*"\w+"\."role"::text,floor\(extract\(epoch from "\w+"\."joinedAt"\)/);
    const edge = wide.data.users.edges[0].node.teams.edges[0];
    expect(['OWNER', 'MEMBER']).toContain(edge.role);
    expect(new Date(edge.joinedAt).toISOString()).toBe(edge.joinedAt);
    expect(typeof edge.cursor).toBe('string');
  });

  it('answers connections asked only for their totalCount', async () => {
    const { data } = await statementsFor(`{ users(first: 2) { totalCount edges { node { teams(first: 1) { totalCount edges { node { members { totalCount } } } } } } } }`);
    expect(data.users.edges[0].node.teams).toEqual({ totalCount: 5, edges: [{ node: { members: { totalCount: 20 } } }] });
  });

  it('node/nodes: one statement per type whatever the number of IDs', async () => {
    const ids = (n: number) => [
      ...Array.from({ length: n }, (_, i) => toGlobalId('User', benchUserId(i + 1))),
      ...Array.from({ length: n }, (_, i) => toGlobalId('Team', benchTeamId(i + 1))),
      'garbage',
    ];
    const query = `query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on User { email } ... on Team { slug } } }`;
    const { small, large } = await costs((n) => [query, { ids: ids(n) }], 2, 25);
    expect(large.data.nodes).toHaveLength(51);
    expect(large.data.nodes.at(-1)).toBeNull();
    expect(large.statements).toHaveLength(2);
    expect(small.statements).toHaveLength(2);
  });

  it('user, team, node, userByEmail and teamBySlug fields batch across aliases', async () => {
    const build = (n: number): [string] => [
      `{
        ${aliases('u', n, (i) => `user(id: "${toGlobalId('User', benchUserId(i))}") { email }`)}
        ${aliases('e', n, (i) => `userByEmail(email: "USER${i}@bench.example") { id }`)}
        ${aliases('t', n, (i) => `team(id: "${toGlobalId('Team', benchTeamId(i))}") { slug }`)}
        ${aliases('s', n, (i) => `teamBySlug(slug: "team-${i}") { name }`)}
      }`,
    ];
    const { small, large } = await costs(build, 1, 20);
    expect(Object.values(large.data).every((v) => v !== null)).toBe(true);
    expect(large.statements).toHaveLength(small.statements.length);
    expect(large.statements).toHaveLength(4);
  });

  it('nested fields under DataLoader-resolved nodes are planned per batch, not per node', async () => {
    const query = (n: number): [string, Record<string, unknown>] => [
      `query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Team { members(first: 3) { totalCount edges { node { email teams(first: 2) { edges { node { slug } } } } } } } } }`,
      { ids: Array.from({ length: n }, (_, i) => toGlobalId('Team', benchTeamId(i + 1))) },
    ];
    const { small, large } = await costs(query, 2, 20);
    expect(large.data.nodes[19].members.edges).toHaveLength(3);
    expect(large.statements.length).toBe(small.statements.length);
    expect(large.statements.length).toBe(2);
  });
});

/**
 * A field whose resolver returns a promise makes its object a promise to the executor (an object
 * promise, microtasks, garbage per row). On a page every row field is already loaded by the page
 * statement, so only the root field may be asynchronous: counted here with the served schema's own
 * resolvers, wrapped to look at what each returns.
 */
describe('pages resolve their rows without promises', () => {
  async function promisesBelowTheRoot(query: string) {
    const async = new Map<string, number>();
    const observed = mapSchema(schema, {
      [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
        const resolve = field.resolve ?? defaultFieldResolver;
        return {
          ...field,
          resolve: (source, args, context, info) => {
            const result: unknown = resolve(source, args, context, info);
            if (typeName !== 'Query' && result instanceof Promise) async.set(`${typeName}.${fieldName}`, (async.get(`${typeName}.${fieldName}`) ?? 0) + 1);
            return result;
          },
        };
      },
    });
    const contextValue = createContext({
      prisma: t.db.prisma,
      requestId: 'promises',
      logger: createLogger({ level: 'silent' }),
      signal: new RequestSignal(),
      viewer: { userId: benchUserId(1), role: 'ADMIN', expiresAt: Date.now() + 60_000 },
    });
    const result = await execute({ schema: observed, document: parse(query), contextValue });
    expect(result.errors).toBeUndefined();
    return { data: result.data as Record<string, { edges: { node: { id: string } }[] }>, async: Object.fromEntries(async) };
  }

  it('users(first: 50) → teams(first: 5) with ids, and teams(first: 20) → members(first: 20) with ids', async () => {
    const users = await promisesBelowTheRoot('{ users(first: 50) { totalCount edges { node { id email teams(first: 5) { edges { role node { id name } } } } } } }');
    expect(users.data.users!.edges).toHaveLength(50);
    expect(users.async).toEqual({});
    // The ids are the Relay global ids, encoded as before.
    const first = users.data.users!.edges[0]!.node.id;
    expect(Buffer.from(first, 'base64').toString()).toMatch(/^User:[0-9a-f-]{36}$/);
    const teams = await promisesBelowTheRoot('{ teams(first: 20) { totalCount edges { node { id name members(first: 20) { totalCount edges { role node { id email } } } } } } }');
    expect(teams.data.teams!.edges).toHaveLength(20);
    expect(teams.async).toEqual({});
    expect(teams.data.teams!.edges[0]!.node.id).toBe(toGlobalId('Team', Buffer.from(teams.data.teams!.edges[0]!.node.id, 'base64').toString().slice(5)));
  });
});
