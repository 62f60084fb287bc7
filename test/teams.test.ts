import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { TeamRole } from '../src/generated/prisma/client.js';
import { toGlobalId } from '../src/ids.js';
import { type GraphQLResponse, useTestApp } from './helpers/app.js';

const t = useTestApp();

/** Concurrency only means something with a real connection pool; PGlite has one connection. */
const onPostgres = Boolean(process.env.TEST_DATABASE_URL || process.env.DATABASE_URL);

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const NO_UUID = '00000000-0000-4000-8000-000000000000';
/** Anything that looks like SQL, the ORM, the driver or a stack trace must never reach a client. */
const LEAK = /prisma|postgres|pglite|\bselect\b[\s\S]*\bfrom\b|\binsert into\b|\bdelete from\b|\bupdate "|\n\s+at\s|node_modules|\.[cm]?[jt]s:\d+|stack|constraint|violat|deadlock/i;

// ---- operations ----------------------------------------------------------------------------------

const TEAM_FIELDS = 'id slug name createdAt';

const CREATE_TEAM = /* GraphQL */ `
  mutation ($input: CreateTeamInput!) {
    createTeam(input: $input) {
      __typename
      ... on CreateTeamSuccess { team { ${TEAM_FIELDS} } }
      ... on ValidationError { message fieldErrors { path message } }
      ... on SlugTakenError { message slug }
    }
  }
`;

const ADD = /* GraphQL */ `
  mutation ($input: AddTeamMemberInput!) {
    addTeamMember(input: $input) {
      __typename
      ... on AddTeamMemberSuccess { team { id slug } user { id email } role }
      ... on NotFoundError { message id }
      ... on MembershipError { message }
    }
  }
`;

const REMOVE = /* GraphQL */ `
  mutation ($input: RemoveTeamMemberInput!) {
    removeTeamMember(input: $input) {
      __typename
      ... on RemoveTeamMemberSuccess { team { id slug } user { id email } }
      ... on NotFoundError { message id }
      ... on MembershipError { message }
    }
  }
`;

const TRANSFER = /* GraphQL */ `
  mutation ($input: TransferUserInput!) {
    transferUser(input: $input) {
      __typename
      ... on TransferUserSuccess { user { id email } fromTeam { id slug } toTeam { id slug } }
      ... on NotFoundError { message id }
      ... on MembershipError { message }
    }
  }
`;

const DELETE_USER = /* GraphQL */ `
  mutation ($id: ID!) {
    deleteUser(input: { id: $id }) {
      __typename
      ... on DeleteUserSuccess { deletedUserId }
      ... on NotFoundError { id }
    }
  }
`;

const TEAMS_PAGE = /* GraphQL */ `
  query ($first: Int, $after: String, $last: Int, $before: String) {
    teams(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      edges { cursor node { id slug } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`;

const MEMBERS_PAGE = /* GraphQL */ `
  query ($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
    team(id: $id) {
      id
      members(first: $first, after: $after, last: $last, before: $before) {
        totalCount
        edges { cursor role joinedAt node { id email } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
`;

const USER_TEAMS_PAGE = /* GraphQL */ `
  query ($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
    user(id: $id) {
      id
      teams(first: $first, after: $after, last: $last, before: $before) {
        totalCount
        edges { cursor role joinedAt node { id slug } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
`;

// ---- helpers -------------------------------------------------------------------------------------

/** Every message a client can see, top-level or in a typed error, must be free of internals. */
function expectNoLeak(res: GraphQLResponse): void {
  const messages: string[] = [];
  for (const e of res.errors ?? []) messages.push(JSON.stringify(e));
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        if (key === 'message' && typeof v === 'string') messages.push(v);
        else walk(v);
      }
    }
  };
  walk(res.data);
  for (const m of messages) expect(m).not.toMatch(LEAK);
}

async function gql(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse> {
  const res = await t.gql(query, variables);
  expectNoLeak(res);
  return res;
}

/** A response with data and no top-level errors at all. */
async function ok(query: string, variables?: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await gql(query, variables);
  expect(res.errors).toBeUndefined();
  expect(res.data).toBeDefined();
  return res.data!;
}

/** A response whose only errors are BAD_USER_INPUT (the one top-level error a client may cause). */
async function badUserInput(query: string, variables?: Record<string, unknown>): Promise<void> {
  const res = await gql(query, variables);
  expect(res.errors?.length).toBeGreaterThan(0);
  for (const e of res.errors!) {
    expect(e.extensions?.code).toBe('BAD_USER_INPUT');
    expect(e.message).not.toMatch(/unexpected error/i);
  }
}

const createTeam = async (input: Record<string, unknown>) => (await ok(CREATE_TEAM, { input })).createTeam;
const add = async (input: Record<string, unknown>) => (await ok(ADD, { input })).addTeamMember;
const remove = async (input: Record<string, unknown>) => (await ok(REMOVE, { input })).removeTeamMember;
const transfer = async (input: Record<string, unknown>) => (await ok(TRANSFER, { input })).transferUser;

let counter = 0;
/** A unique, slug-safe token per call, so tests in this file never depend on each other's rows. */
const unique = (tag: string) => `${tag}-${Date.now().toString(36)}-${++counter}`;

interface TestUser {
  id: string;
  gid: string;
  email: string;
}
interface TestTeam {
  id: string;
  gid: string;
  slug: string;
}

async function makeUser(tag = 'user'): Promise<TestUser> {
  const row = await t.db.prisma.user.create({ data: { email: `${unique(tag)}@example.com`, name: `User ${tag}` } });
  return { id: row.id, gid: toGlobalId('User', row.id), email: row.email };
}

async function makeUsers(n: number, tag = 'user'): Promise<TestUser[]> {
  const users: TestUser[] = [];
  for (let i = 0; i < n; i++) users.push(await makeUser(tag));
  return users;
}

/** A team with the given members, written straight to the database (setup, not the thing under test). */
async function makeTeam(members: [TestUser, TeamRole][] = [], tag = 'team'): Promise<TestTeam> {
  const row = await t.db.prisma.team.create({ data: { slug: unique(tag), name: `Team ${tag}` } });
  for (const [user, role] of members) await t.db.prisma.membership.create({ data: { userId: user.id, teamId: row.id, role } });
  return { id: row.id, gid: toGlobalId('Team', row.id), slug: row.slug };
}

/** Every Team and Membership row, in a fixed order, to compare before and after a refusal. */
async function snapshot() {
  const teams = await t.db.prisma.team.findMany({ orderBy: { id: 'asc' } });
  const memberships = await t.db.prisma.membership.findMany({ orderBy: [{ teamId: 'asc' }, { userId: 'asc' }] });
  return { teams, memberships };
}

/** Runs `fn` and asserts it changed no Team or Membership row. */
async function expectNoWrite<T>(fn: () => Promise<T>): Promise<T> {
  const before = await snapshot();
  const result = await fn();
  expect(await snapshot()).toEqual(before);
  return result;
}

async function membershipsOf(team: TestTeam) {
  return t.db.prisma.membership.findMany({ where: { teamId: team.id }, orderBy: { userId: 'asc' } });
}

async function rolesOf(user: TestUser, teams: TestTeam[]): Promise<(TeamRole | null)[]> {
  const rows = await t.db.prisma.membership.findMany({ where: { userId: user.id, teamId: { in: teams.map((x) => x.id) } } });
  return teams.map((team) => rows.find((r) => r.teamId === team.id)?.role ?? null);
}

const kinds = (results: { __typename: string }[]) => results.map((r) => r.__typename);
const countOf = (list: string[], kind: string) => list.filter((k) => k === kind).length;

// ---- 1. createTeam -------------------------------------------------------------------------------

describe('createTeam', () => {
  it('creates a team with slug, name, ms-precision createdAt and a Team global ID', async () => {
    const slug = unique('acme');
    const before = Date.now();
    const result = await createTeam({ slug, name: '  Acme Corp  ' });
    expect(result.__typename).toBe('CreateTeamSuccess');
    const team = result.team;
    expect(team).toMatchObject({ slug, name: 'Acme Corp' });
    expect(team.createdAt).toMatch(ISO_MS);
    expect(Date.parse(team.createdAt)).toBeGreaterThanOrEqual(before - 5_000);
    expect(Date.parse(team.createdAt)).toBeLessThanOrEqual(Date.now() + 5_000);
    expect(Buffer.from(team.id, 'base64').toString()).toMatch(/^Team:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const row = await t.db.prisma.team.findUniqueOrThrow({ where: { slug } });
    expect(toGlobalId('Team', row.id)).toBe(team.id);
    expect(row).toMatchObject({ slug, name: 'Acme Corp' });
    expect(row.createdAt.toISOString()).toBe(team.createdAt);
    expect(await t.db.prisma.membership.count({ where: { teamId: row.id } })).toBe(0);
  });

  it('returns SlugTakenError for a slug in use, and writes nothing', async () => {
    const slug = unique('dup');
    expect((await createTeam({ slug, name: 'First' })).__typename).toBe('CreateTeamSuccess');
    const result = await expectNoWrite(() => createTeam({ slug, name: 'Second' }));
    expect(result).toEqual({ __typename: 'SlugTakenError', slug, message: expect.stringContaining(slug) });
    expect((await t.db.prisma.team.findUniqueOrThrow({ where: { slug } })).name).toBe('First');
  });

  it.each([
    ['A', 'one upper-case character'],
    ['a', 'one character'],
    ['UPPER', 'upper case'],
    ['double--hyphen', 'a double hyphen'],
    ['-lead', 'a leading hyphen'],
    ['trail-', 'a trailing hyphen'],
    ['x'.repeat(65), '65 characters'],
    ['sp ace', 'a space'],
    ['nul\u0000byte', 'a NUL byte'],
    ['under_score', 'an underscore'],
    ['', 'empty'],
  ])('rejects the slug %j (%s) with one FieldError on ["input","slug"], writing nothing', async (slug) => {
    const result = await expectNoWrite(() => createTeam({ slug, name: 'Valid Name' }));
    expect(result.__typename).toBe('ValidationError');
    expect(result.message).toEqual(expect.any(String));
    expect(result.fieldErrors).toEqual([{ path: ['input', 'slug'], message: expect.any(String) }]);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'blank after trimming'],
    ['n'.repeat(101), '101 characters'],
    ['Nul\u0000Byte', 'a NUL byte'],
  ])('rejects the name %j (%s) with one FieldError on ["input","name"], writing nothing', async (name) => {
    const result = await expectNoWrite(() => createTeam({ slug: unique('named'), name }));
    expect(result.__typename).toBe('ValidationError');
    expect(result.fieldErrors).toEqual([{ path: ['input', 'name'], message: expect.any(String) }]);
  });

  it('reports one FieldError per bad field', async () => {
    const result = await expectNoWrite(() => createTeam({ slug: '--', name: '' }));
    expect(result.__typename).toBe('ValidationError');
    expect(result.fieldErrors.map((e: { path: string[] }) => e.path)).toEqual([
      ['input', 'slug'],
      ['input', 'name'],
    ]);
  });

  it('accepts a 100-character name (the boundary)', async () => {
    const slug = unique('long-name');
    const result = await createTeam({ slug, name: 'n'.repeat(100) });
    expect(result.__typename).toBe('CreateTeamSuccess');
    expect((await t.db.prisma.team.findUniqueOrThrow({ where: { slug } })).name).toHaveLength(100);
  });

  it.each([
    ['2', () => 'q7'],
    ['64', () => `${unique('b')}-`.padEnd(64, '9')],
  ])('accepts a slug of exactly %s characters (the boundary)', async (length, makeSlug) => {
    const slug = makeSlug();
    expect(slug).toHaveLength(Number(length));
    const result = await createTeam({ slug, name: 'Boundary' });
    expect(result).toMatchObject({ __typename: 'CreateTeamSuccess', team: { slug } });
    expect(await t.db.prisma.team.count({ where: { slug } })).toBe(1);
  });

  it('lets exactly one of 20 concurrent creates of one slug win', async () => {
    const slug = unique('race');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => t.gql(CREATE_TEAM, { input: { slug, name: `Racer ${i}` } })));
    for (const r of results) {
      expect(r.errors).toBeUndefined();
      expectNoLeak(r);
    }
    const list = kinds(results.map((r) => r.data!.createTeam));
    expect(countOf(list, 'CreateTeamSuccess')).toBe(1);
    expect(countOf(list, 'SlugTakenError')).toBe(19);
    expect(await t.db.prisma.team.count({ where: { slug } })).toBe(1);
  });
});

// ---- 2. lookups ----------------------------------------------------------------------------------

describe('team lookups', () => {
  it('team, teamBySlug, node and nodes find a team', async () => {
    const created = (await createTeam({ slug: unique('find'), name: 'Findable' })).team;
    const data = await ok(
      `query ($id: ID!, $slug: String!) {
        team(id: $id) { ${TEAM_FIELDS} }
        teamBySlug(slug: $slug) { id slug }
        node(id: $id) { __typename id ... on Team { slug name } }
        nodes(ids: [$id, "garbage", $id]) { __typename id }
      }`,
      { id: created.id, slug: created.slug },
    );
    expect(data).toEqual({
      team: created,
      teamBySlug: { id: created.id, slug: created.slug },
      node: { __typename: 'Team', id: created.id, slug: created.slug, name: 'Findable' },
      nodes: [{ __typename: 'Team', id: created.id }, null, { __typename: 'Team', id: created.id }],
    });
  });

  it.each([
    ['garbage', 'not base64 at all ***'],
    ['empty', ''],
    ['User (wrong type)', toGlobalId('User', NO_UUID)],
    ['unknown type', Buffer.from(`Widget:${NO_UUID}`).toString('base64')],
    ['non-UUID', Buffer.from("Team:1' OR 1=1 --").toString('base64')],
    ['unknown team', toGlobalId('Team', NO_UUID)],
  ])('team/node/nodes return null, not an error, for a %s ID', async (_label, id) => {
    const data = await ok(`query ($id: ID!) { team(id: $id) { id } node(id: $id) { id } nodes(ids: [$id]) { id } }`, { id });
    expect(data).toEqual({ team: null, node: null, nodes: [null] });
  });

  it('team returns null for the global ID of an existing user', async () => {
    const user = await makeUser('not-a-team');
    const data = await ok(`query ($id: ID!) { team(id: $id) { id } node(id: $id) { __typename } }`, { id: user.gid });
    expect(data).toEqual({ team: null, node: { __typename: 'User' } });
  });

  it.each([
    ['unknown', 'no-such-team-anywhere'],
    ['empty', ''],
    ['upper case', 'NOT-A-SLUG'],
    // A slug over 64 characters is refused before the lookup (BAD_USER_INPUT): test/bounded-inputs.test.ts.
    ['a NUL byte', 'nul\u0000byte'],
    ['SQL', "x' OR '1'='1"],
  ])('teamBySlug returns null, not an error, for an %s slug', async (_label, slug) => {
    expect(await ok(`query ($slug: String!) { teamBySlug(slug: $slug) { id } }`, { slug })).toEqual({ teamBySlug: null });
  });
});

// ---- 3. teams connection -------------------------------------------------------------------------

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

// ---- 4. nested connections -----------------------------------------------------------------------

describe('Team.members and User.teams', () => {
  let team: TestTeam;
  let members: TestUser[];
  let joiner: TestUser;
  let joinedTeams: TestTeam[];

  beforeAll(async () => {
    members = await makeUsers(12, 'member');
    team = await makeTeam(members.map((u, i) => [u, i % 4 === 0 ? 'OWNER' : 'MEMBER']), 'big');
    joiner = await makeUser('joiner');
    joinedTeams = [];
    for (let i = 0; i < 12; i++) joinedTeams.push(await makeTeam([[joiner, i % 3 === 0 ? 'OWNER' : 'MEMBER']], 'joined'));
  });

  type Edge = { cursor: string; role: string; joinedAt: string; node: { id: string } };

  async function pageAll(
    query: string,
    id: string,
    field: 'members' | 'teams',
    size: number,
    direction: 'forward' | 'backward',
  ): Promise<Edge[]> {
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
    const counts = new Map(
      (await t.db.prisma.membership.groupBy({ by: ['teamId'], _count: true })).map((g) => [toGlobalId('Team', g.teamId), g._count]),
    );
    const listed = (await ok(`{ teams(first: 100) { edges { node { id members(first: 2) { totalCount edges { node { id } } } } } } }`)).teams
      .edges as { node: { id: string; members: { totalCount: number; edges: unknown[] } } }[];
    expect(listed).toHaveLength(100);
    for (const { node } of listed) {
      const count = counts.get(node.id) ?? 0;
      expect(node.members.totalCount).toBe(count);
      expect(node.members.edges).toHaveLength(Math.min(2, count));
    }
  });

  it('answers a connection asked only for its totalCount', async () => {
    const data = await ok(
      `query ($t: ID!, $u: ID!) { team(id: $t) { members { totalCount } } user(id: $u) { teams { totalCount } } teams { totalCount } }`,
      { t: team.gid, u: joiner.gid },
    );
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

// ---- 5. addTeamMember ----------------------------------------------------------------------------

/** The three kinds of bad ID, for a given entity type. */
function badIds(type: 'User' | 'Team'): [string, string][] {
  const other = type === 'User' ? 'Team' : 'User';
  return [
    ['garbage', 'garbage!!'],
    ['empty', ''],
    [`wrong-type (${other})`, toGlobalId(other, NO_UUID)],
    ['non-UUID', Buffer.from(`${type}:42`).toString('base64')],
    ['unknown', toGlobalId(type, NO_UUID)],
  ];
}

describe('addTeamMember', () => {
  it('adds a member with the default role MEMBER', async () => {
    const [owner, user] = await makeUsers(2, 'add');
    const team = await makeTeam([[owner!, 'OWNER']]);
    const result = await add({ teamId: team.gid, userId: user!.gid });
    expect(result).toEqual({
      __typename: 'AddTeamMemberSuccess',
      team: { id: team.gid, slug: team.slug },
      user: { id: user!.gid, email: user!.email },
      role: 'MEMBER',
    });
    expect(await rolesOf(user!, [team])).toEqual(['MEMBER']);
    const row = await t.db.prisma.membership.findUniqueOrThrow({ where: { userId_teamId: { userId: user!.id, teamId: team.id } } });
    expect(Math.abs(row.joinedAt.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('adds an OWNER when asked, and the membership shows on both sides', async () => {
    const user = await makeUser('add-owner');
    const team = await makeTeam();
    const result = await add({ teamId: team.gid, userId: user.gid, role: 'OWNER' });
    expect(result).toMatchObject({ __typename: 'AddTeamMemberSuccess', role: 'OWNER' });
    expect(await rolesOf(user, [team])).toEqual(['OWNER']);
    const data = await ok(
      `query ($t: ID!, $u: ID!) {
        team(id: $t) { members { totalCount edges { role node { id } } } }
        user(id: $u) { teams { totalCount edges { role node { id } } } }
      }`,
      { t: team.gid, u: user.gid },
    );
    expect(data.team.members).toEqual({ totalCount: 1, edges: [{ role: 'OWNER', node: { id: user.gid } }] });
    expect(data.user.teams).toEqual({ totalCount: 1, edges: [{ role: 'OWNER', node: { id: team.gid } }] });
  });

  it.each(['MEMBER', 'OWNER'] as const)('returns MembershipError for someone already a member (as %s), writing nothing', async (role) => {
    const user = await makeUser('already');
    const team = await makeTeam([[user, role]]);
    for (const asked of ['MEMBER', 'OWNER', undefined]) {
      const result = await expectNoWrite(() => add({ teamId: team.gid, userId: user.gid, role: asked }));
      expect(result).toEqual({ __typename: 'MembershipError', message: expect.any(String) });
    }
    expect(await rolesOf(user, [team])).toEqual([role]);
  });

  it.each(badIds('Team'))('returns NotFoundError with the given id for a %s team ID, writing nothing', async (_label, teamId) => {
    const user = await makeUser('nf');
    const result = await expectNoWrite(() => add({ teamId, userId: user.gid }));
    expect(result).toEqual({ __typename: 'NotFoundError', id: teamId, message: expect.any(String) });
  });

  it.each(badIds('User'))('returns NotFoundError with the given id for a %s user ID, writing nothing', async (_label, userId) => {
    const team = await makeTeam();
    const result = await expectNoWrite(() => add({ teamId: team.gid, userId }));
    expect(result).toEqual({ __typename: 'NotFoundError', id: userId, message: expect.any(String) });
  });

  it('returns NotFoundError for the ID of a deleted team', async () => {
    const user = await makeUser('gone');
    const team = await makeTeam();
    await t.db.prisma.team.delete({ where: { id: team.id } });
    const result = await expectNoWrite(() => add({ teamId: team.gid, userId: user.gid }));
    expect(result).toMatchObject({ __typename: 'NotFoundError', id: team.gid });
  });
});

// ---- 6. removeTeamMember -------------------------------------------------------------------------

describe('removeTeamMember', () => {
  it('removes a MEMBER and only that membership', async () => {
    const [owner, user] = await makeUsers(2, 'rm');
    const team = await makeTeam([
      [owner!, 'OWNER'],
      [user!, 'MEMBER'],
    ]);
    const other = await makeTeam([[user!, 'MEMBER']]);
    const result = await remove({ teamId: team.gid, userId: user!.gid });
    expect(result).toEqual({
      __typename: 'RemoveTeamMemberSuccess',
      team: { id: team.gid, slug: team.slug },
      user: { id: user!.gid, email: user!.email },
    });
    expect(await rolesOf(user!, [team, other])).toEqual([null, 'MEMBER']);
    expect(await rolesOf(owner!, [team])).toEqual(['OWNER']);
    expect(await t.db.prisma.user.count({ where: { id: user!.id } })).toBe(1);
  });

  it('returns MembershipError for a user who is not a member, writing nothing', async () => {
    const [owner, user] = await makeUsers(2, 'rm-not');
    const team = await makeTeam([[owner!, 'OWNER']]);
    await makeTeam([[user!, 'MEMBER']]); // a member elsewhere
    const result = await expectNoWrite(() => remove({ teamId: team.gid, userId: user!.gid }));
    expect(result).toEqual({ __typename: 'MembershipError', message: expect.any(String) });
  });

  it("refuses to remove the team's last OWNER, deleting nothing", async () => {
    const [owner, member] = await makeUsers(2, 'last');
    const team = await makeTeam([
      [owner!, 'OWNER'],
      [member!, 'MEMBER'],
    ]);
    const result = await expectNoWrite(() => remove({ teamId: team.gid, userId: owner!.gid }));
    expect(result).toEqual({ __typename: 'MembershipError', message: expect.any(String) });
    expect(await membershipsOf(team)).toHaveLength(2);
  });

  it('refuses to remove a sole OWNER who is the only member', async () => {
    const owner = await makeUser('solo');
    const team = await makeTeam([[owner, 'OWNER']]);
    const result = await expectNoWrite(() => remove({ teamId: team.gid, userId: owner.gid }));
    expect(result.__typename).toBe('MembershipError');
  });

  it('lets an OWNER leave while another OWNER remains, then protects the last one', async () => {
    const [a, b, m] = await makeUsers(3, 'owners');
    const team = await makeTeam([
      [a!, 'OWNER'],
      [b!, 'OWNER'],
      [m!, 'MEMBER'],
    ]);
    expect((await remove({ teamId: team.gid, userId: a!.gid })).__typename).toBe('RemoveTeamMemberSuccess');
    expect((await membershipsOf(team)).map((r) => [r.userId, r.role]).sort()).toEqual(
      [
        [b!.id, 'OWNER'],
        [m!.id, 'MEMBER'],
      ].sort(),
    );
    const refused = await expectNoWrite(() => remove({ teamId: team.gid, userId: b!.gid }));
    expect(refused.__typename).toBe('MembershipError');
    expect((await remove({ teamId: team.gid, userId: m!.gid })).__typename).toBe('RemoveTeamMemberSuccess');
    expect(await membershipsOf(team)).toEqual([expect.objectContaining({ userId: b!.id, role: 'OWNER' })]);
  });

  it('lets a team without any OWNER lose every MEMBER', async () => {
    const users = await makeUsers(3, 'ownerless');
    const team = await makeTeam(users.map((u) => [u, 'MEMBER']));
    for (const user of users) expect((await remove({ teamId: team.gid, userId: user.gid })).__typename).toBe('RemoveTeamMemberSuccess');
    expect(await membershipsOf(team)).toEqual([]);
    expect(await t.db.prisma.team.count({ where: { id: team.id } })).toBe(1);
  });

  it.each(badIds('Team'))('returns NotFoundError with the given id for a %s team ID, writing nothing', async (_label, teamId) => {
    const user = await makeUser('rm-nf');
    await makeTeam([[user, 'MEMBER']]);
    const result = await expectNoWrite(() => remove({ teamId, userId: user.gid }));
    expect(result).toEqual({ __typename: 'NotFoundError', id: teamId, message: expect.any(String) });
  });

  it.each(badIds('User'))('returns NotFoundError with the given id for a %s user ID, writing nothing', async (_label, userId) => {
    const owner = await makeUser('rm-nf-owner');
    const team = await makeTeam([[owner, 'OWNER']]);
    const result = await expectNoWrite(() => remove({ teamId: team.gid, userId }));
    expect(result).toEqual({ __typename: 'NotFoundError', id: userId, message: expect.any(String) });
  });
});

// ---- 7. transferUser -----------------------------------------------------------------------------

describe('transferUser', () => {
  it.each(['MEMBER', 'OWNER'] as const)('moves a %s, keeping the role', async (role) => {
    const [mover, keeper] = await makeUsers(2, 'move');
    // The source keeps an OWNER either way, so an OWNER may leave it.
    const from = await makeTeam([
      [mover!, role],
      [keeper!, 'OWNER'],
    ]);
    const to = await makeTeam([[keeper!, 'MEMBER']]);
    const untouched = await makeTeam([[mover!, 'MEMBER']]);
    const result = await transfer({ userId: mover!.gid, fromTeamId: from.gid, toTeamId: to.gid });
    expect(result).toEqual({
      __typename: 'TransferUserSuccess',
      user: { id: mover!.gid, email: mover!.email },
      fromTeam: { id: from.gid, slug: from.slug },
      toTeam: { id: to.gid, slug: to.slug },
    });
    expect(await rolesOf(mover!, [from, to, untouched])).toEqual([null, role, 'MEMBER']);
    expect(await rolesOf(keeper!, [from, to])).toEqual(['OWNER', 'MEMBER']);
    const edge = (await ok(MEMBERS_PAGE, { id: to.gid })).team.members.edges.find(
      (e: { node: { id: string } }) => e.node.id === mover!.gid,
    );
    expect(edge).toMatchObject({ role, joinedAt: expect.stringMatching(ISO_MS) });
  });

  it('moves the sole MEMBER of a team without OWNERs, leaving it empty', async () => {
    const user = await makeUser('no-owner');
    const from = await makeTeam([[user, 'MEMBER']]);
    const to = await makeTeam();
    expect((await transfer({ userId: user.gid, fromTeamId: from.gid, toTeamId: to.gid })).__typename).toBe('TransferUserSuccess');
    expect(await rolesOf(user, [from, to])).toEqual([null, 'MEMBER']);
  });

  // Was: a transaction whose statements lock, read, delete and insert in that order. Now one statement
  // (issue 10): its CTEs lock the user row, then the team rows, then move the membership.
  it('is one statement that locks the user, then the teams, then moves the membership', async () => {
    const [mover, keeper] = await makeUsers(2, 'tx');
    const from = await makeTeam([
      [mover!, 'MEMBER'],
      [keeper!, 'OWNER'],
    ]);
    const to = await makeTeam();
    t.resetStatements();
    expect((await transfer({ userId: mover!.gid, fromTeamId: from.gid, toTeamId: to.gid })).__typename).toBe('TransferUserSuccess');
    // Prisma reports statements asynchronously; wait until the transfer's has been seen.
    const sql = await vi.waitFor(() => {
      expect(t.statements).toHaveLength(1);
      return t.statements[0]!.replace(/\s+/g, ' ');
    });
    const at = (pattern: RegExp) => sql.search(pattern);
    const lockUser = at(/FROM "User" WHERE "id" = \$\d+::uuid FOR NO KEY UPDATE/);
    const lockTeams = at(/FROM "Team" WHERE .* ORDER BY "id" FOR NO KEY UPDATE/);
    const insert = at(/INSERT INTO "Membership"/);
    const remove = at(/DELETE FROM "Membership"/);
    const event = at(/INSERT INTO "OutboxEvent"/);
    expect(lockUser).toBeGreaterThanOrEqual(0);
    expect(lockTeams).toBeGreaterThan(lockUser);
    expect(insert).toBeGreaterThan(lockTeams);
    expect(remove).toBeGreaterThan(insert);
    expect(event).toBeGreaterThan(remove);
  });

  it('is one transaction: when the insert fails, the delete is rolled back', async () => {
    const [mover, keeper] = await makeUsers(2, 'atomic');
    const from = await makeTeam([
      [mover!, 'OWNER'],
      [keeper!, 'OWNER'],
    ]);
    const to = await makeTeam([], 'refuse-inserts');
    // A trigger in this file's own database makes the INSERT into the target team fail, after the
    // DELETE from the source team has already run inside the transfer.
    await t.db.prisma.$executeRawUnsafe(`
      CREATE OR REPLACE FUNCTION test_refuse_membership() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW."teamId" = '${to.id}'::uuid THEN RAISE EXCEPTION 'refused by the test'; END IF;
        RETURN NEW;
      END $$`);
    await t.db.prisma.$executeRawUnsafe(
      `CREATE TRIGGER test_refuse_membership BEFORE INSERT ON "Membership" FOR EACH ROW EXECUTE FUNCTION test_refuse_membership()`,
    );
    try {
      const res = await expectNoWrite(() => gql(TRANSFER, { input: { userId: mover!.gid, fromTeamId: from.gid, toTeamId: to.gid } }));
      // An unexpected database failure is masked: one generic top-level error, no details.
      expect(res.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.', path: ['transferUser'] })]);
      expect(JSON.stringify(res)).not.toContain('refused by the test');
      expect(await rolesOf(mover!, [from, to])).toEqual(['OWNER', null]);
    } finally {
      await t.db.prisma.$executeRawUnsafe(`DROP TRIGGER test_refuse_membership ON "Membership"`);
      await t.db.prisma.$executeRawUnsafe(`DROP FUNCTION test_refuse_membership()`);
    }
    // And with the trigger gone the same transfer goes through.
    expect((await transfer({ userId: mover!.gid, fromTeamId: from.gid, toTeamId: to.gid })).__typename).toBe('TransferUserSuccess');
    expect(await rolesOf(mover!, [from, to])).toEqual([null, 'OWNER']);
  });

  describe('refusals leave memberships exactly as they were', () => {
    it('not a member of the source team', async () => {
      const user = await makeUser('nm');
      const from = await makeTeam([[(await makeUser('nm-owner')), 'OWNER']]);
      const to = await makeTeam();
      const result = await expectNoWrite(() => transfer({ userId: user.gid, fromTeamId: from.gid, toTeamId: to.gid }));
      expect(result).toEqual({ __typename: 'MembershipError', message: expect.any(String) });
    });

    it('already a member of the target team', async () => {
      const user = await makeUser('both');
      const from = await makeTeam([[user, 'MEMBER']]);
      const to = await makeTeam([[user, 'MEMBER']]);
      const result = await expectNoWrite(() => transfer({ userId: user.gid, fromTeamId: from.gid, toTeamId: to.gid }));
      expect(result.__typename).toBe('MembershipError');
      expect(await rolesOf(user, [from, to])).toEqual(['MEMBER', 'MEMBER']);
    });

    it.each(['MEMBER', 'OWNER'] as const)('from == to (as %s)', async (role) => {
      const [user, owner] = await makeUsers(2, 'same');
      const team = await makeTeam([
        [user!, role],
        [owner!, 'OWNER'],
      ]);
      const result = await expectNoWrite(() => transfer({ userId: user!.gid, fromTeamId: team.gid, toTeamId: team.gid }));
      expect(result.__typename).toBe('MembershipError');
      expect(await rolesOf(user!, [team])).toEqual([role]);
    });

    it('moving the last OWNER out', async () => {
      const [owner, member] = await makeUsers(2, 'last-out');
      const from = await makeTeam([
        [owner!, 'OWNER'],
        [member!, 'MEMBER'],
      ]);
      const to = await makeTeam();
      const result = await expectNoWrite(() => transfer({ userId: owner!.gid, fromTeamId: from.gid, toTeamId: to.gid }));
      expect(result).toEqual({ __typename: 'MembershipError', message: expect.any(String) });
      expect(await rolesOf(owner!, [from, to])).toEqual(['OWNER', null]);
    });

    const bad = (type: 'User' | 'Team') => badIds(type).map(([label, id]) => [label, id] as const);

    it.each(bad('User'))('NotFoundError for a %s user ID', async (_label, userId) => {
      const member = await makeUser('tnf');
      const from = await makeTeam([[member, 'MEMBER']]);
      const to = await makeTeam();
      const result = await expectNoWrite(() => transfer({ userId, fromTeamId: from.gid, toTeamId: to.gid }));
      expect(result).toEqual({ __typename: 'NotFoundError', id: userId, message: expect.any(String) });
    });

    it.each(bad('Team'))('NotFoundError for a %s source team ID', async (_label, fromTeamId) => {
      const user = await makeUser('tnf-from');
      await makeTeam([[user, 'MEMBER']]);
      const to = await makeTeam();
      const result = await expectNoWrite(() => transfer({ userId: user.gid, fromTeamId, toTeamId: to.gid }));
      expect(result).toEqual({ __typename: 'NotFoundError', id: fromTeamId, message: expect.any(String) });
    });

    it.each(bad('Team'))('NotFoundError for a %s target team ID', async (_label, toTeamId) => {
      const user = await makeUser('tnf-to');
      const from = await makeTeam([[user, 'MEMBER']]);
      const result = await expectNoWrite(() => transfer({ userId: user.gid, fromTeamId: from.gid, toTeamId }));
      expect(result).toEqual({ __typename: 'NotFoundError', id: toTeamId, message: expect.any(String) });
      expect(await rolesOf(user, [from])).toEqual(['MEMBER']);
    });
  });
});

// ---- 8. deleting a user --------------------------------------------------------------------------

describe('deleteUser, seen from the teams', () => {
  it("removes the user's memberships and nobody else's", async () => {
    const [leaving, staying] = await makeUsers(2, 'del');
    const a = await makeTeam([
      [leaving!, 'OWNER'],
      [staying!, 'OWNER'],
    ]);
    const b = await makeTeam([[leaving!, 'MEMBER']]);
    const data = await ok(DELETE_USER, { id: leaving!.gid });
    expect(data.deleteUser).toEqual({ __typename: 'DeleteUserSuccess', deletedUserId: leaving!.gid });
    expect(await t.db.prisma.membership.count({ where: { userId: leaving!.id } })).toBe(0);
    expect(await membershipsOf(a)).toEqual([expect.objectContaining({ userId: staying!.id, role: 'OWNER' })]);
    expect(await t.db.prisma.team.count({ where: { id: { in: [a.id, b.id] } } })).toBe(2);
    const teams = await ok(
      `query ($a: ID!, $b: ID!) {
        a: team(id: $a) { members { totalCount edges { node { id } } } }
        b: team(id: $b) { members { totalCount edges { node { id } } } }
      }`,
      { a: a.gid, b: b.gid },
    );
    expect(teams).toEqual({
      a: { members: { totalCount: 1, edges: [{ node: { id: staying!.gid } }] } },
      b: { members: { totalCount: 0, edges: [] } },
    });
  });
});

// ---- 9. real concurrency (PostgreSQL only) -------------------------------------------------------

describe('concurrency on PostgreSQL', () => {
  it.skipIf(!onPostgres)('two OWNERS removed at once: exactly one succeeds, one OWNER always remains', async () => {
    for (let round = 0; round < 15; round++) {
      const [a, b, m] = await makeUsers(3, `co-${round}`);
      const team = await makeTeam([
        [a!, 'OWNER'],
        [b!, 'OWNER'],
        [m!, 'MEMBER'],
      ]);
      const results = await Promise.all([a!, b!].map((u) => remove({ teamId: team.gid, userId: u.gid })));
      const list = kinds(results);
      expect(countOf(list, 'RemoveTeamMemberSuccess')).toBe(1);
      expect(countOf(list, 'MembershipError')).toBe(1);
      const rows = await membershipsOf(team);
      expect(rows.filter((r) => r.role === 'OWNER')).toHaveLength(1);
      expect(rows).toHaveLength(2);
    }
  });

  it.skipIf(!onPostgres)('10 concurrent transfers and removals of one membership: exactly one wins, never two teams', async () => {
    for (let round = 0; round < 8; round++) {
      const [user, owner] = await makeUsers(2, `mix-${round}`);
      const role: TeamRole = round % 2 ? 'OWNER' : 'MEMBER';
      const a = await makeTeam([
        [user!, role],
        [owner!, 'OWNER'],
      ]);
      const [b, c, d] = [await makeTeam(), await makeTeam(), await makeTeam()];
      const ops = [
        ...[b, c, d, b, c, d, b, c].map((to) => () => transfer({ userId: user!.gid, fromTeamId: a.gid, toTeamId: to!.gid })),
        () => remove({ teamId: a.gid, userId: user!.gid }),
        () => remove({ teamId: a.gid, userId: user!.gid }),
      ];
      const results = await Promise.all(ops.map((op) => op()));
      const list = kinds(results);
      const wins = results.filter((r) => r.__typename.endsWith('Success'));
      expect(wins).toHaveLength(1);
      expect(countOf(list, 'MembershipError')).toBe(9);
      const rows = await t.db.prisma.membership.findMany({ where: { userId: user!.id } });
      const teamIds = [a, b, c, d].map((x) => x!.id);
      expect(rows.every((r) => teamIds.includes(r.teamId))).toBe(true);
      expect(new Set(rows.map((r) => r.teamId)).size).toBe(rows.length);
      if (wins[0]!.__typename === 'RemoveTeamMemberSuccess') {
        expect(rows).toEqual([]);
      } else {
        expect(rows).toHaveLength(1);
        expect(toGlobalId('Team', rows[0]!.teamId)).toBe(wins[0]!.toTeam.id);
        expect(rows[0]!.role).toBe(role);
      }
      expect(await rolesOf(owner!, [a])).toEqual(['OWNER']);
    }
  });

  it.skipIf(!onPostgres)('two users swapping teams concurrently never deadlock and both succeed', async () => {
    const pairs = await Promise.all(
      Array.from({ length: 3 }, async (_, i) => {
        const [u1, u2] = await makeUsers(2, `swap-${i}`);
        const a = await makeTeam([[u1!, 'MEMBER']]);
        const b = await makeTeam([[u2!, 'MEMBER']]);
        return { u1: u1!, u2: u2!, a, b };
      }),
    );
    for (let round = 0; round < 10; round++) {
      // Even rounds: u1 A->B and u2 B->A; odd rounds move them back.
      const results = await Promise.all(
        pairs.flatMap(({ u1, u2, a, b }) => {
          const [x, y] = round % 2 ? [b, a] : [a, b];
          return [
            t.gql(TRANSFER, { input: { userId: u1.gid, fromTeamId: x.gid, toTeamId: y.gid } }),
            t.gql(TRANSFER, { input: { userId: u2.gid, fromTeamId: y.gid, toTeamId: x.gid } }),
          ];
        }),
      );
      for (const r of results) {
        expect(r.errors).toBeUndefined();
        expectNoLeak(r);
        expect(r.data!.transferUser.__typename).toBe('TransferUserSuccess');
      }
      for (const { u1, u2, a, b } of pairs) {
        const [home1, home2] = round % 2 ? [a, b] : [b, a];
        expect(await rolesOf(u1, [a, b])).toEqual(home1 === a ? ['MEMBER', null] : [null, 'MEMBER']);
        expect(await rolesOf(u2, [a, b])).toEqual(home2 === a ? ['MEMBER', null] : [null, 'MEMBER']);
      }
    }
  });

  it.skipIf(!onPostgres)('two OWNERS transferred out to two different teams at once: exactly one succeeds', async () => {
    for (let round = 0; round < 15; round++) {
      const [o1, o2, m] = await makeUsers(3, `own-out-${round}`);
      const from = await makeTeam([
        [o1!, 'OWNER'],
        [o2!, 'OWNER'],
        [m!, 'MEMBER'],
      ]);
      const [to1, to2] = [await makeTeam(), await makeTeam()];
      const results = await Promise.all([
        transfer({ userId: o1!.gid, fromTeamId: from.gid, toTeamId: to1.gid }),
        transfer({ userId: o2!.gid, fromTeamId: from.gid, toTeamId: to2.gid }),
      ]);
      const list = kinds(results);
      expect(countOf(list, 'TransferUserSuccess')).toBe(1);
      expect(countOf(list, 'MembershipError')).toBe(1);
      const rows = await membershipsOf(from);
      expect(rows.filter((r) => r.role === 'OWNER')).toHaveLength(1);
      const moved = list[0] === 'TransferUserSuccess' ? [o1!, to1] : [o2!, to2];
      expect(await rolesOf(moved[0] as TestUser, [from, moved[1] as TestTeam])).toEqual([null, 'OWNER']);
    }
  });

  it.skipIf(!onPostgres)('deleting a user while they are added, removed and transferred: no errors, no memberships left', async () => {
    for (let round = 0; round < 15; round++) {
      const [user, owner] = await makeUsers(2, `del-race-${round}`);
      const a = await makeTeam([
        [user!, round % 2 ? 'OWNER' : 'MEMBER'],
        [owner!, 'OWNER'],
      ]);
      const [b, c] = [await makeTeam(), await makeTeam()];
      const results = await Promise.all([
        gql(TRANSFER, { input: { userId: user!.gid, fromTeamId: a.gid, toTeamId: b.gid } }),
        gql(ADD, { input: { teamId: c.gid, userId: user!.gid } }),
        gql(DELETE_USER, { id: user!.gid }),
        gql(REMOVE, { input: { teamId: a.gid, userId: user!.gid } }),
      ]);
      for (const r of results) expect(r.errors).toBeUndefined();
      const [moved, added, deleted, removed] = results.map((r) => Object.values(r.data!)[0] as { __typename: string });
      expect(deleted!.__typename).toBe('DeleteUserSuccess');
      expect(['TransferUserSuccess', 'NotFoundError', 'MembershipError']).toContain(moved!.__typename);
      expect(['AddTeamMemberSuccess', 'NotFoundError']).toContain(added!.__typename);
      expect(['RemoveTeamMemberSuccess', 'NotFoundError', 'MembershipError']).toContain(removed!.__typename);
      expect(await t.db.prisma.membership.count({ where: { userId: user!.id } })).toBe(0);
      expect(await rolesOf(owner!, [a])).toEqual(['OWNER']);
    }
  });

  it.skipIf(!onPostgres)('20 concurrent adds of one user to one team: exactly one succeeds', async () => {
    const user = await makeUser('add-race');
    const team = await makeTeam();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => add({ teamId: team.gid, userId: user.gid, role: i % 2 ? 'OWNER' : 'MEMBER' })));
    const list = kinds(results);
    expect(countOf(list, 'AddTeamMemberSuccess')).toBe(1);
    expect(countOf(list, 'MembershipError')).toBe(19);
    expect(await membershipsOf(team)).toHaveLength(1);
  });
});
