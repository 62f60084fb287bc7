import { getNamedType, type GraphQLArgument, type GraphQLInputField, isInputObjectType, isListType, isNonNullType, isObjectType, type GraphQLInputType } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/ids.js';
import { schema } from '../src/schema/index.js';
import { type GraphQLResponse, useTestApp } from './helpers/app.js';
import { snapshot } from './helpers/snapshot.js';

/**
 * Bounded inputs (issue 9, point 3): every string argument has a documented maximum length, checked
 * before any work (query arguments: 400 BAD_USER_INPUT; the mutations that answer ValidationError:
 * that result), searches refuse control characters, and names refuse C0/C1 controls, U+2028/U+2029
 * and unpaired surrogates. Every refusal writes nothing.
 */

// The bounds hold whatever the body limit: 900 KB strings need a body limit above the 100 KB default.
const t = useTestApp({ MAX_BODY_BYTES: '1000000' });

async function post(query: string, variables?: Record<string, unknown>) {
  const res = await t.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as GraphQLResponse };
}

const x = (n: number) => 'x'.repeat(n);
const ID = toGlobalId('User', '00000000-0000-4000-8000-000000000000');
let teamId = '';
let userId = '';

beforeAll(async () => {
  const user = await t.db.prisma.user.create({ data: { email: 'bounded-inputs@example.com', name: 'Bounded' } });
  const team = await t.db.prisma.team.create({ data: { slug: 'bounded-inputs', name: 'Bounded' } });
  await t.db.prisma.membership.create({ data: { userId: user.id, teamId: team.id, role: 'OWNER' } });
  userId = toGlobalId('User', user.id);
  teamId = toGlobalId('Team', team.id);
});

// ---- the schema documents a bound for every string ---------------------------------------------------

function isStringInput(type: GraphQLInputType): boolean {
  const named = getNamedType(type);
  return named.name === 'String' || named.name === 'ID';
}
const isList = (type: GraphQLInputType) => isListType(isNonNullType(type) ? type.ofType : type);

/** Every argument of every field, and every input field, with where it is. */
function everyInput(): [string, GraphQLArgument | GraphQLInputField][] {
  const inputs: [string, GraphQLArgument | GraphQLInputField][] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isObjectType(type)) {
      for (const field of Object.values(type.getFields())) for (const arg of field.args) inputs.push([`${type.name}.${field.name}(${arg.name})`, arg]);
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) inputs.push([`${type.name}.${field.name}`, field]);
    }
  }
  return inputs;
}

describe('the schema', () => {
  const strings = everyInput().filter(([, input]) => isStringInput(input.type));

  it('has string and ID inputs to check (the walk is not vacuous)', () => {
    expect(strings.length).toBeGreaterThanOrEqual(30);
  });

  it.each(strings)('%s declares its maximum length and documents it', (_where, input) => {
    const maxLength = input.extensions.maxLength;
    expect(maxLength).toEqual(expect.any(Number));
    expect(input.description).toMatch(new RegExp(`(at most|to) ${maxLength} characters`));
  });

  it.each(everyInput().filter(([, input]) => isList(input.type)))('list %s documents its 100 items', (_where, input) => {
    expect(input.description).toMatch(/[Aa]t most 100\b/);
  });
});

// ---- query arguments: 400 BAD_USER_INPUT before any statement ------------------------------------------

const tooLong = (where: string, max: number) => `${where} is too long: at most ${max} characters.`;

const queryRows: [string, string, Record<string, unknown>, string][] = [
  ['node(id)', 'query ($v: ID!) { node(id: $v) { id } }', { v: x(101) }, tooLong('node(id)', 100)],
  ['nodes(ids), one item', 'query ($v: [ID!]!) { nodes(ids: $v) { id } }', { v: [ID, x(101)] }, tooLong('nodes(ids)', 100)],
  ['user(id)', 'query ($v: ID!) { user(id: $v) { id } }', { v: x(101) }, tooLong('user(id)', 100)],
  ['userByEmail(email)', 'query ($v: String!) { userByEmail(email: $v) { id } }', { v: `${x(243)}@example.com` }, tooLong('userByEmail(email)', 254)],
  ['users(filter.search)', 'query ($v: String) { users(filter: { search: $v }) { totalCount } }', { v: x(255) }, tooLong('users(filter.search)', 254)],
  ['users(filter.search), 900 KB', 'query ($v: String) { users(filter: { search: $v }) { totalCount } }', { v: x(900_000) }, tooLong('users(filter.search)', 254)],
  ['users(filter.teamId)', 'query ($v: ID) { users(filter: { teamId: $v }) { totalCount } }', { v: x(101) }, tooLong('users(filter.teamId)', 100)],
  ['users(after)', 'query ($v: String) { users(after: $v) { totalCount } }', { v: x(201) }, tooLong('users(after)', 200)],
  ['users(before), a literal', `{ users(before: "${x(201)}") { totalCount } }`, {}, tooLong('users(before)', 200)],
  ['team(id)', 'query ($v: ID!) { team(id: $v) { id } }', { v: x(101) }, tooLong('team(id)', 100)],
  ['teamBySlug(slug)', 'query ($v: String!) { teamBySlug(slug: $v) { id } }', { v: x(65) }, tooLong('teamBySlug(slug)', 64)],
  ['teams(after)', 'query ($v: String) { teams(after: $v) { totalCount } }', { v: x(201) }, tooLong('teams(after)', 200)],
  [
    'User.teams(after), planned into the parent query',
    'query ($v: String) { users(first: 1) { edges { node { teams(after: $v) { totalCount } } } } }',
    { v: x(201) },
    tooLong('teams(after)', 200),
  ],
  [
    'Team.members(before), inside a fragment',
    'query ($v: String) { teams(first: 1) { edges { node { ...M } } } } fragment M on Team { members(before: $v) { totalCount } }',
    { v: x(201) },
    tooLong('members(before)', 200),
  ],
  ['deleteUser(input.id)', 'mutation ($v: ID!) { deleteUser(input: { id: $v }) { __typename } }', { v: x(101) }, tooLong('deleteUser(input.id)', 100)],
  [
    'addTeamMember(input.userId)',
    'mutation ($t: ID!, $v: ID!) { addTeamMember(input: { teamId: $t, userId: $v }) { __typename } }',
    { t: ID, v: x(101) },
    tooLong('addTeamMember(input.userId)', 100),
  ],
  [
    'removeTeamMember(input.teamId)',
    'mutation ($u: ID!, $v: ID!) { removeTeamMember(input: { teamId: $v, userId: $u }) { __typename } }',
    { u: ID, v: x(101) },
    tooLong('removeTeamMember(input.teamId)', 100),
  ],
  [
    'transferUser(input.toTeamId)',
    'mutation ($u: ID!, $v: ID!) { transferUser(input: { userId: $u, fromTeamId: $u, toTeamId: $v }) { __typename } }',
    { u: ID, v: x(101) },
    tooLong('transferUser(input.toTeamId)', 100),
  ],
];

describe('arguments over their bound: 400 BAD_USER_INPUT before any statement, nothing written', () => {
  it.each(queryRows)('%s', async (_name, query, variables, message) => {
    const before = await snapshot(t);
    t.resetStatements();
    const { status, body } = await post(query, variables);
    expect({ status, code: body.errors?.[0]?.extensions?.code, data: body.data }).toEqual({ status: 400, code: 'BAD_USER_INPUT', data: undefined });
    expect(body.errors![0]!.message).toBe(message);
    expect(t.statements).toEqual([]);
    expect(await snapshot(t)).toEqual(before);
  });

  it('the subscription refuses an event type over 64 characters, and does not subscribe', async () => {
    const res = await t.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription ($v: [String!]) { events(types: $v) { id } }', variables: { v: [x(65)] } }),
    });
    expect(await res.text()).toContain(`"message":"${tooLong('events(types)', 64)}","extensions":{"code":"BAD_USER_INPUT"}`);
    expect(t.app.events.subscribers).toBe(0);
  });

  it('values at the bound are served', async () => {
    const { status, body } = await post(
      'query ($id: ID!, $s: String, $slug: String!, $email: String!) { node(id: $id) { id } users(filter: { search: $s }) { totalCount } teamBySlug(slug: $slug) { id } userByEmail(email: $email) { id } }',
      { id: x(100), s: x(254), slug: x(64), email: `${x(242)}@example.com` },
    );
    expect(status).toBe(200);
    expect(body).toEqual({ data: { node: null, users: { totalCount: 0 }, teamBySlug: null, userByEmail: null } });
  });

  it('real cursors fit their bound, nested membership cursors included', async () => {
    const { body } = await post('query ($t: ID!) { users(first: 1) { edges { cursor } } team(id: $t) { members(first: 1) { edges { cursor } } } }', { t: teamId });
    const cursors = [body.data!.users.edges[0].cursor, body.data!.team.members.edges[0].cursor] as string[];
    for (const cursor of cursors) expect(cursor.length).toBeLessThanOrEqual(200);
    const next = await post('query ($t: ID!, $c: String) { team(id: $t) { members(after: $c) { totalCount } } }', { t: teamId, c: cursors[1] });
    expect(next.body).toEqual({ data: { team: { members: { totalCount: 1 } } } });
  });
});

// ---- searches: no control characters -------------------------------------------------------------------

describe('a search with control characters is a clean BAD_USER_INPUT', () => {
  it.each([
    ['NUL', 'a\u0000b'],
    ['a newline', 'a\nb'],
    ['a tab', 'a\tb'],
    ['C1 NEL', 'a\u0085b'],
    ['U+2028', 'a\u2028b'],
    ['an unpaired surrogate', 'a\ud800b'],
  ])('%s', async (_name, search) => {
    t.resetStatements();
    const { status, body } = await post('query ($s: String) { users(filter: { search: $s }) { totalCount edges { node { id } } } }', { s: search });
    expect({ status, code: body.errors?.[0]?.extensions?.code }).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
    expect(body.errors![0]!.message).toBe('users(filter.search) must not contain control characters, line separators or unpaired surrogates.');
    expect(t.statements).toEqual([]);
  });

  it('letters beyond ASCII and emoji are searched as usual', async () => {
    const { status, body } = await post('query ($s: String) { users(filter: { search: $s }) { totalCount } }', { s: 'Zoë 😀' });
    expect({ status, body }).toEqual({ status: 200, body: { data: { users: { totalCount: 0 } } } });
  });
});

// ---- mutations with a ValidationError result: the result, not a top-level error ------------------------

const CREATE_USER =
  'mutation ($i: CreateUserInput!) { createUser(input: $i) { __typename ... on ValidationError { fieldErrors { path message } } ... on CreateUserSuccess { user { name } } } }';
const UPDATE_USER =
  'mutation ($i: UpdateUserInput!) { updateUser(input: $i) { __typename ... on ValidationError { fieldErrors { path message } } ... on UpdateUserSuccess { user { name } } } }';
const CREATE_TEAM =
  'mutation ($i: CreateTeamInput!) { createTeam(input: $i) { __typename ... on ValidationError { fieldErrors { path message } } ... on CreateTeamSuccess { team { name } } } }';

/** Sends a mutation, expects a ValidationError naming one field, and that nothing was written. */
async function refused(query: string, input: Record<string, unknown>, field: string, message: string) {
  const before = await snapshot(t);
  const { status, body } = await post(query, { i: input });
  expect(status).toBe(200);
  expect(Object.values(body.data!)[0]).toEqual({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', field], message }] });
  expect(await snapshot(t)).toEqual(before);
}

describe('over-long mutation inputs: ValidationError, nothing written', () => {
  it.each([
    ['createUser name, 101 characters', CREATE_USER, { email: 'long@example.com', name: x(101) }, 'name', 'must be at most 100 characters'],
    ['createUser name, 900 KB', CREATE_USER, { email: 'long@example.com', name: x(900_000) }, 'name', 'must be at most 100 characters'],
    ['createUser email, 900 KB', CREATE_USER, { email: `${x(900_000)}@example.com`, name: 'Long' }, 'email', 'must be at most 254 characters'],
    ['updateUser id, 101 characters', UPDATE_USER, { id: x(101), name: 'Long' }, 'id', 'must be at most 100 characters'],
    ['updateUser name, 900 KB', UPDATE_USER, { id: ID, name: x(900_000) }, 'name', 'must be at most 100 characters'],
    ['createTeam slug, 900 KB', CREATE_TEAM, { slug: x(900_000), name: 'Long' }, 'slug', 'must be at most 64 characters'],
    ['createTeam name, 101 characters', CREATE_TEAM, { slug: 'long-name', name: x(101) }, 'name', 'must be at most 100 characters'],
  ])('%s', (_name, query, input, field, message) => refused(query, input, field, message));
});

// ---- names: no C0/C1 controls, U+2028/9 or unpaired surrogates ---------------------------------------------

const NOT_PLAIN = 'must not contain control characters, line separators or unpaired surrogates';

describe('names refuse controls, line separators and unpaired surrogates (ValidationError, nothing written)', () => {
  const bad: [string, string][] = [
    ['NUL', 'Ann\u0000'],
    ['BEL (C0)', 'Ann\u0007'],
    ['DEL', 'Ann\u007f'],
    ['PAD (C1 U+0080)', 'Ann\u0080'],
    ['NEL (C1 U+0085)', 'Ann\u0085e'],
    ['APC (C1 U+009F)', 'Ann\u009f'],
    ['LINE SEPARATOR U+2028', 'Ann\u2028e'],
    ['PARAGRAPH SEPARATOR U+2029', 'Ann\u2029e'],
    ['an unpaired high surrogate', 'Ann\ud800e'],
    ['an unpaired low surrogate', 'Ann\udc00e'],
    ['a reversed surrogate pair', 'Ann\ude00\ud83de'],
  ];
  it.each(bad)('createUser: %s', (_name, name) => refused(CREATE_USER, { email: 'controls@example.com', name }, 'name', NOT_PLAIN));
  it.each(bad)('updateUser: %s', (_name, name) => refused(UPDATE_USER, { id: userId, name }, 'name', NOT_PLAIN));
  it.each(bad)('createTeam: %s', (_name, name) => refused(CREATE_TEAM, { slug: 'controls', name }, 'name', NOT_PLAIN));

  it('accented letters, CJK and emoji (surrogate pairs) are stored exactly', async () => {
    const name = 'Zoë Ñandú 山田 😀';
    const { body } = await post(CREATE_USER, { i: { email: 'unicode@example.com', name } });
    expect(body.data!.createUser).toEqual({ __typename: 'CreateUserSuccess', user: { name } });
    expect((await t.db.prisma.user.findUniqueOrThrow({ where: { email: 'unicode@example.com' } })).name).toBe(name);
  });
});
