// The four scenarios, as our schema asks them and as the closest PostGraphile v5 (Amber preset) equivalent,
// plus the hello-world query. Each scenario gives a request body per call (ids rotate over a fixed set, and
// createUser gets a unique email every time) and a check of one response body.
import { createHash } from 'node:crypto';

/** prisma/seed.ts' deterministicUuid: the benchmark dataset's ids are derived from the row number. */
export function deterministicUuid(key) {
  const b = createHash('sha256').update(key).digest().subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
export const benchUserId = (i) => deterministicUuid(`user:${i}`);
export const benchTeamId = (j) => deterministicUuid(`team:${j}`);
/** Our Relay global IDs (@pothos/plugin-relay's encodeGlobalID): base64 of `Type:id`. */
export const globalId = (type, id) => Buffer.from(`${type}:${id}`).toString('base64');

const json = (query, variables) => JSON.stringify(variables ? { query, variables } : { query });

// --- Our server -------------------------------------------------------------------------------------

const OURS = {
  node: `query NodeById($id: ID!) {
  node(id: $id) { id ... on User { email name role version createdAt updatedAt } }
}`,
  usersPage: `query UsersPage {
  users(first: 50) {
    totalCount
    edges { node { id email name teams(first: 5) { edges { role node { id name } } } } }
  }
}`,
  teamsPage: `query TeamsPage {
  teams(first: 20) {
    totalCount
    edges { node { id name members(first: 20) { totalCount edges { role node { id email } } } } }
  }
}`,
  createUser: `mutation CreateUser($input: CreateUserInput!) {
  createUser(input: $input) {
    __typename
    ... on CreateUserSuccess { user { id email name role version createdAt } }
    ... on Error { message }
  }
}`,
  teamMembers: `query TeamMembers($id: ID!) {
  team(id: $id) { id name members(first: 20) { totalCount edges { role node { id email } } } }
}`,
  userTeams: `query UserTeams($id: ID!) {
  user(id: $id) { id email teams(first: 20) { totalCount edges { role node { id name } } } }
}`,
};

// --- PostGraphile v5, Amber preset: allUsers / userByRowId / membershipsByUserId / teamByTeamId ... -------

const PGL = {
  node: `query NodeById($id: UUID!) {
  userByRowId(rowId: $id) { id email name role version createdAt updatedAt }
}`,
  usersPage: `query UsersPage {
  allUsers(first: 50, orderBy: [CREATED_AT_ASC]) {
    totalCount
    edges { node { id email name membershipsByUserId(first: 5, orderBy: [TEAM_ID_ASC]) { edges { node { role teamByTeamId { id name } } } } } }
  }
}`,
  teamsPage: `query TeamsPage {
  allTeams(first: 20, orderBy: [SLUG_ASC]) {
    totalCount
    edges { node { id name membershipsByTeamId(first: 20, orderBy: [USER_ID_ASC]) { totalCount edges { node { role userByUserId { id email } } } } } }
  }
}`,
  createUser: `mutation CreateUser($input: CreateUserInput!) {
  createUser(input: $input) { user { id email name role version createdAt } }
}`,
  teamMembers: `query TeamMembers($id: UUID!) {
  teamByRowId(rowId: $id) { id name membershipsByTeamId(first: 20, orderBy: [USER_ID_ASC]) { totalCount edges { node { role userByUserId { id email } } } } }
}`,
  userTeams: `query UserTeams($id: UUID!) {
  userByRowId(rowId: $id) { id email membershipsByUserId(first: 20, orderBy: [TEAM_ID_ASC]) { totalCount edges { node { role teamByTeamId { id name } } } } }
}`,
};

export const HELLO = json('{ hello }');

/** Users the node-by-id scenario rotates over (a fixed, spread-out set of the dataset's users). */
const NODE_USERS = Array.from({ length: 100 }, (_, k) => benchUserId(1 + k * 97));

/**
 * Request bodies: `body(i)` is the i-th request's body. Reads rotate over a few fixed bodies; createUser
 * builds a unique email from a run prefix and the counter.
 */
export function scenarios(target, runTag) {
  // The stack's floor (bench/hello-world/floor.mjs) answers our queries: it gets ours, with emails of its own.
  const ours = target !== 'postgraphile';
  const q = ours ? OURS : PGL;
  const nodeBodies = NODE_USERS.map((id) => json(q.node, { id: ours ? globalId('User', id) : id }));
  const users = json(q.usersPage);
  const teams = json(q.teamsPage);
  return {
    node: { body: (i) => nodeBodies[i % nodeBodies.length], check: (b) => checkNode(ours, b) },
    usersPage: { body: () => users, check: (b) => checkPage(ours, b, 'users') },
    teamsPage: { body: () => teams, check: (b) => checkPage(ours, b, 'teams') },
    createUser: {
      body: (i) => {
        const email = `bench-${runTag}-${target.toLowerCase()}-${i}@load.example`; // emails are stored lower-case (a CHECK)
        const name = `Load ${i}`;
        return json(q.createUser, { input: ours ? { email, name } : { user: { email, name } } });
      },
      check: (b) => checkCreate(ours, b),
    },
  };
}

/** The skewed-case queries: a team's first 20 members and a user's first 20 teams, plus both pages. */
export function skewQueries(target, teamId, userId) {
  const ours = target === 'ours';
  const q = ours ? OURS : PGL;
  return {
    teamMembers: json(q.teamMembers, { id: ours ? globalId('Team', teamId) : teamId }),
    userTeams: json(q.userTeams, { id: ours ? globalId('User', userId) : userId }),
    teamsPage: json(q.teamsPage),
    usersPage: json(q.usersPage),
  };
}

// --- Response checks: an error string, or null when the body is a good answer -------------------------

function parse(body) {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}

function common(body) {
  const r = parse(body);
  if (!r) return [null, `not JSON: ${String(body).slice(0, 200)}`];
  if (r.errors?.length) return [null, `GraphQL errors: ${JSON.stringify(r.errors).slice(0, 300)}`];
  if (!r.data) return [null, 'no data'];
  return [r.data, null];
}

function checkNode(ours, body) {
  const [data, error] = common(body);
  if (error) return error;
  const user = ours ? data.node : data.userByRowId;
  return user?.email ? null : `no user in ${body.slice(0, 200)}`;
}

function checkPage(ours, body, kind) {
  const [data, error] = common(body);
  if (error) return error;
  const conn = kind === 'users' ? (ours ? data.users : data.allUsers) : ours ? data.teams : data.allTeams;
  const want = kind === 'users' ? 50 : 20;
  if (!conn || typeof conn.totalCount !== 'number') return 'no connection or totalCount';
  if (conn.edges.length !== want) return `expected ${want} edges, got ${conn.edges.length}`;
  const children = conn.edges.map(({ node }) => (kind === 'users' ? (ours ? node.teams : node.membershipsByUserId) : ours ? node.members : node.membershipsByTeamId));
  if (children.some((c) => !c || c.edges.length === 0)) return 'a nested connection is empty';
  if (kind === 'teams' && children.some((c) => typeof c.totalCount !== 'number')) return 'no nested totalCount';
  return null;
}

function checkCreate(ours, body) {
  const [data, error] = common(body);
  if (error) return error;
  if (ours) return data.createUser?.__typename === 'CreateUserSuccess' ? null : `not created: ${body.slice(0, 300)}`;
  return data.createUser?.user?.email ? null : `not created: ${body.slice(0, 300)}`;
}

/** Cheap per-response check during load (no JSON parse): an `errors` key, or createUser not succeeding. */
export function quickError(ours, scenario, body) {
  if (body.includes('"errors"')) return true;
  if (scenario === 'createUser') return ours ? !body.includes('CreateUserSuccess') : !body.includes('"user":{');
  return false;
}
