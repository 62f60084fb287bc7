import { createHmac, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseGlobalIdOf } from '../src/ids.js';
import { type GraphQLResponse, type TestApp, useTestApp } from './helpers/app.js';
import { reachable, REDIS_URL } from './helpers/redis.js';

/**
 * Hostile requests, one row each: the status, the error code, and that nothing was written (the full
 * content of User, Team and Membership is hashed before and after, so an UPDATE shows too).
 * Authentication failures, authorization refusals, operation limits, transport abuse and the rate
 * limit. Positive controls sit beside them, so the rules are seen to allow what they should.
 */

const PROD_SECRET = 'a-production-test-secret-of-at-least-32-bytes';
const ISSUER = 'https://issuer.example.com/';
const AUDIENCE = 'user-api-gateway';

const t = useTestApp();
const prod = useTestApp({ NODE_ENV: 'production', JWT_SECRET: PROD_SECRET });
const iss = useTestApp({ JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE });
const limited = useTestApp({ RATE_LIMIT_POINTS: '3', RATE_LIMIT_WINDOW_S: '60' });
const prodIntrospection = useTestApp({ NODE_ENV: 'production', JWT_SECRET: PROD_SECRET, INTROSPECTION: 'true' });
const apps = { main: t, prod, iss, limited } as const;
type AppName = keyof typeof apps;

// ---- tokens ---------------------------------------------------------------------------------------

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** An HS256-signed JWT with any header and claims (jose would refuse to make the bad ones). */
function jwt(claims: Record<string, unknown>, { secret = t.config.auth.secret!, header = { alg: 'HS256', typ: 'JWT' } } = {}) {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** Claims an ADMIN token would carry: if any bad token got through, its mutation would write. */
const adminClaims = (extra: Record<string, unknown> = {}) => ({ sub: randomUUID(), role: 'ADMIN', iat: now(), exp: now() + 3600, ...extra });

// ---- fixtures -------------------------------------------------------------------------------------

interface Fixtures {
  /** Global ids. */
  alice: string; // OWNER of team A
  bob: string; // MEMBER of team A
  carol: string; // OWNER of team B
  dave: string; // in no team
  erin: string; // MEMBER of team B
  teamA: string;
  teamB: string;
  /** USER tokens for the above. */
  token: Record<'alice' | 'bob' | 'carol' | 'dave' | 'erin', string>;
}
const fx = {} as Fixtures;

async function ok(app: TestApp, query: string, variables?: Record<string, unknown>) {
  const res = await app.gql(query, variables);
  expect(res.errors).toBeUndefined();
  return res.data!;
}

beforeAll(async () => {
  const user = async (name: string) => {
    const data = await ok(t, 'mutation ($i: CreateUserInput!) { createUser(input: $i) { ... on CreateUserSuccess { user { id } } } }', {
      i: { email: `${name}-${randomUUID().slice(0, 8)}@example.com`, name },
    });
    return data.createUser.user.id as string;
  };
  const team = async (slug: string) => {
    const data = await ok(t, 'mutation ($i: CreateTeamInput!) { createTeam(input: $i) { ... on CreateTeamSuccess { team { id } } } }', {
      i: { slug: `${slug}-${randomUUID().slice(0, 8)}`, name: slug },
    });
    return data.createTeam.team.id as string;
  };
  const member = (teamId: string, userId: string, role: 'OWNER' | 'MEMBER') =>
    ok(t, 'mutation ($i: AddTeamMemberInput!) { addTeamMember(input: $i) { __typename } }', { i: { teamId, userId, role } });

  for (const name of ['alice', 'bob', 'carol', 'dave', 'erin'] as const) fx[name] = await user(name);
  fx.teamA = await team('team-a');
  fx.teamB = await team('team-b');
  await member(fx.teamA, fx.alice, 'OWNER');
  await member(fx.teamA, fx.bob, 'MEMBER');
  await member(fx.teamB, fx.carol, 'OWNER');
  await member(fx.teamB, fx.erin, 'MEMBER');
  const tokenOf = (id: string) => t.token({ role: 'USER', sub: parseGlobalIdOf('User', id)! });
  fx.token = {
    alice: await tokenOf(fx.alice),
    bob: await tokenOf(fx.bob),
    carol: await tokenOf(fx.carol),
    dave: await tokenOf(fx.dave),
    erin: await tokenOf(fx.erin),
  };
});

// ---- helpers --------------------------------------------------------------------------------------

/** Row count and a hash of every row of the three tables: any INSERT, UPDATE or DELETE changes it. */
async function snapshot(app: TestApp) {
  return app.db.prisma.$queryRawUnsafe<{ t: string; n: number; h: string }[]>(
    ['User', 'Team', 'Membership']
      .map((table) => `SELECT '${table}' AS t, count(*)::int AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM "${table}" x`)
      .join(' UNION ALL '),
  );
}

interface Send {
  /** Bearer token; null sends no Authorization header; a string starting with a scheme is sent as is. Default ADMIN. */
  token?: string | null;
  accept?: string;
  contentType?: string | null;
  method?: string;
  headers?: Record<string, string>;
}

function send(app: TestApp, body: BodyInit | object | undefined, o: Send = {}) {
  const headers: Record<string, string> = { accept: o.accept ?? 'application/graphql-response+json', ...o.headers };
  if (o.contentType !== null && body !== undefined) headers['content-type'] = o.contentType ?? 'application/json';
  if (o.token === null) headers.authorization = '';
  else if (o.token !== undefined) headers.authorization = /^\S+ /.test(o.token) || o.token === '' ? o.token : `Bearer ${o.token}`;
  const isRaw = typeof body === 'string' || body instanceof Uint8Array || body instanceof FormData || body instanceof ReadableStream;
  return app.fetch('/graphql', {
    method: o.method ?? 'POST',
    headers,
    body: body === undefined ? undefined : isRaw ? (body as BodyInit) : JSON.stringify(body),
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
}

const gql = (app: TestApp, query: string, variables?: Record<string, unknown>, o: Send = {}) => send(app, { query, variables }, o);
const get = (app: TestApp, params: Record<string, string>, o: Send = {}) =>
  app.fetch(`/graphql?${new URLSearchParams(params)}`, {
    headers: { accept: o.accept ?? 'application/graphql-response+json', ...(o.token === null ? { authorization: '' } : o.token ? { authorization: `Bearer ${o.token}` } : {}) },
  });

/** A mutation that writes if it runs: the sentinel most rows send. */
const CREATE_USER = 'mutation { createUser(input: { email: "intruder@example.com", name: "Intruder" }) { __typename } }';
const deleteUser = (id: string) => `mutation { deleteUser(input: { id: "${id}" }) { __typename } }`;
const ADD = 'mutation ($i: AddTeamMemberInput!) { addTeamMember(input: $i) { __typename } }';
const REMOVE = 'mutation ($i: RemoveTeamMemberInput!) { removeTeamMember(input: $i) { __typename } }';
const UPDATE = 'mutation ($i: UpdateUserInput!) { updateUser(input: $i) { __typename ... on UpdateUserSuccess { user { name role } } } }';

/** Nested connections 13 levels deep (the limit is 12), each page of one. */
const DEEP = '{ users(first: 1) { edges { node { teams(first: 1) { edges { node { members(first: 1) { edges { node { teams(first: 1) { edges { node { id } } } } } } } } } } } } }';
/** The same depth spread over fragments, one of them reused at two depths (the fragment-cache bypass). */
const DEEP_FRAGMENTS = `
  query { users(first: 1) { edges { node { ...U1 teams(first: 1) { edges { node { ...T } } } } } } }
  fragment T on Team { id }
  fragment U1 on User { teams(first: 1) { edges { node { ...T2 } } } }
  fragment T2 on Team { members(first: 1) { edges { node { ...U3 } } } }
  fragment U3 on User { teams(first: 1) { edges { node { ...T } } } }`;
const MILLION = '{ users(first: 100) { edges { node { teams(first: 100) { edges { node { members(first: 100) { edges { node { id } } } } } } } } } }';
const PAGES = 'query ($a: Int, $b: Int) { users(first: $a) { edges { node { teams(first: $b) { edges { node { id name } } } } } } }';
/** Ten spreads of the next fragment, five levels down (depth 11): 100,000 fields from 150 tokens. */
const FAN_OUT = `query { ...F0 } ${Array.from({ length: 5 }, (_, i) => `fragment F${i} on Query { ${i === 4 ? 'me { id }' : `...F${i + 1} `.repeat(10)} }`).join(' ')}`;

// ---- the table ------------------------------------------------------------------------------------

interface Row {
  name: string;
  app?: AppName;
  send: () => Promise<Response>;
  status: number;
  /** `extensions.code` of the first error; null: no GraphQL body at all. */
  code: string | null;
  check?: (body: GraphQLResponse | undefined, res: Response) => void;
}

const INVALID_TOKEN = /^Bearer realm="user-api-gateway", error="invalid_token"$/;
const badToken = (name: string, token: () => string, app: AppName = 'main'): Row => ({
  name: `JWT: ${name}`,
  app,
  send: () => gql(apps[app], CREATE_USER, undefined, { token: token() }),
  status: 401,
  code: 'UNAUTHENTICATED',
  check: (_body, res) => expect(res.headers.get('www-authenticate')).toMatch(INVALID_TOKEN),
});

const forbidden = (name: string, as: keyof Fixtures['token'], query: string, variables: () => Record<string, unknown>, field: string): Row => ({
  name: `authorization: ${name}`,
  send: () => gql(t, query, variables(), { token: fx.token[as] }),
  status: 200,
  code: 'FORBIDDEN',
  check: (body) => expect(body?.data?.[field] ?? null).toBeNull(),
});

const limit = (name: string, pattern: RegExp, request: () => Promise<Response>): Row => ({
  name: `limit: ${name}`,
  send: request,
  status: 400,
  code: 'GRAPHQL_VALIDATION_FAILED',
  check: (body) => expect(body?.errors?.[0]?.message).toMatch(pattern),
});

const rows: Row[] = [
  // -- authentication: every JWT failure is a 401 with error="invalid_token", before anything runs --
  badToken('signed with another secret', () => jwt(adminClaims(), { secret: 'another-secret-that-is-at-least-32-bytes!' })),
  badToken('alg: none, no signature', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(adminClaims())}.`),
  badToken('expired (beyond the 30 s leeway)', () => jwt(adminClaims({ exp: now() - 120 }))),
  badToken('nbf in the future (beyond the leeway)', () => jwt(adminClaims({ nbf: now() + 600 }))),
  badToken('no exp claim', () => jwt({ sub: randomUUID(), role: 'ADMIN', iat: now() })),
  badToken('HS256 signature under an RS256 header', () => jwt(adminClaims(), { header: { alg: 'RS256', typ: 'JWT' } })),
  badToken('sub is not a UUID', () => jwt(adminClaims({ sub: 'admin' }))),
  badToken('role is neither USER nor ADMIN', () => jwt(adminClaims({ role: 'ROOT' }))),
  badToken('garbage', () => 'not-a-jwt'),
  badToken('three garbage segments', () => 'a.b.c'),
  badToken('Basic credentials', () => 'Basic eHl6OnNlY3JldA=='),
  badToken('empty Bearer', () => 'Bearer '),
  badToken('wrong issuer', () => jwt(adminClaims({ iss: 'https://evil.example.com/', aud: AUDIENCE }), { secret: iss.config.auth.secret! }), 'iss'),
  badToken('wrong audience', () => jwt(adminClaims({ iss: ISSUER, aud: 'another-app' }), { secret: iss.config.auth.secret! }), 'iss'),
  badToken('no issuer or audience at all', () => jwt(adminClaims(), { secret: iss.config.auth.secret! }), 'iss'),
  badToken('production token replayed on another secret', () => jwt(adminClaims(), { secret: PROD_SECRET })),
  {
    name: 'no token: 401 UNAUTHENTICATED, challenge without error',
    send: () => gql(t, CREATE_USER, undefined, { token: null }),
    status: 401,
    code: 'UNAUTHENTICATED',
    check: (_body, res) => expect(res.headers.get('www-authenticate')).toBe('Bearer realm="user-api-gateway"'),
  },
  {
    name: 'no token: node(id) is 401 like everything else',
    send: () => gql(t, 'query ($id: ID!) { node(id: $id) { id ... on User { email } } }', { id: fx.alice }, { token: null }),
    status: 401,
    code: 'UNAUTHENTICATED',
    check: (body) => expect(body?.data).toBeUndefined(),
  },
  {
    name: 'no token: nodes(ids) is 401 like everything else',
    send: () => gql(t, 'query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on Team { members { edges { node { email } } } } } }', { ids: [fx.teamA, fx.alice] }, { token: null }),
    status: 401,
    code: 'UNAUTHENTICATED',
    check: (body) => expect(body?.data).toBeUndefined(),
  },
  {
    name: 'no token: mutation over GET is 401 before anything else',
    send: () => get(t, { query: deleteUser(fx.bob) }, { token: null }),
    status: 401,
    code: 'UNAUTHENTICATED',
  },

  // -- authorization: 200 with a top-level FORBIDDEN and no write --
  forbidden('USER createUser', 'dave', CREATE_USER, () => ({}), 'createUser'),
  forbidden('USER deleteUser', 'alice', 'mutation ($id: ID!) { deleteUser(input: { id: $id }) { __typename } }', () => ({ id: fx.bob }), 'deleteUser'),
  forbidden('USER updateUser of someone else', 'alice', UPDATE, () => ({ i: { id: fx.bob, name: 'Hacked' } }), 'updateUser'),
  forbidden('USER updateUser of their own role', 'alice', UPDATE, () => ({ i: { id: fx.alice, role: 'ADMIN' } }), 'updateUser'),
  forbidden('USER updateUser of their own role, with a name change to hide it', 'dave', UPDATE, () => ({ i: { id: fx.dave, name: 'Dave', role: 'ADMIN' } }), 'updateUser'),
  forbidden('USER createTeam', 'dave', 'mutation { createTeam(input: { slug: "dave-team", name: "Dave" }) { __typename } }', () => ({}), 'createTeam'),
  forbidden('USER addTeamMember to a team they do not own', 'dave', ADD, () => ({ i: { teamId: fx.teamA, userId: fx.dave, role: 'OWNER' } }), 'addTeamMember'),
  forbidden('OWNER of team A adding to team B', 'alice', ADD, () => ({ i: { teamId: fx.teamB, userId: fx.dave } }), 'addTeamMember'),
  forbidden('MEMBER (not OWNER) adding to their own team', 'bob', ADD, () => ({ i: { teamId: fx.teamA, userId: fx.dave } }), 'addTeamMember'),
  forbidden('MEMBER promoting themselves to OWNER', 'bob', ADD, () => ({ i: { teamId: fx.teamA, userId: fx.bob, role: 'OWNER' } }), 'addTeamMember'),
  forbidden(
    'USER transferUser',
    'dave',
    'mutation ($i: TransferUserInput!) { transferUser(input: $i) { __typename } }',
    () => ({ i: { userId: fx.bob, fromTeamId: fx.teamA, toTeamId: fx.teamB } }),
    'transferUser',
  ),
  forbidden(
    'OWNER of the source team only, transferUser',
    'alice',
    'mutation ($i: TransferUserInput!) { transferUser(input: $i) { __typename } }',
    () => ({ i: { userId: fx.bob, fromTeamId: fx.teamA, toTeamId: fx.teamB } }),
    'transferUser',
  ),
  forbidden('non-OWNER MEMBER removeTeamMember', 'bob', REMOVE, () => ({ i: { teamId: fx.teamA, userId: fx.alice } }), 'removeTeamMember'),
  forbidden('OWNER of team A removing from team B', 'alice', REMOVE, () => ({ i: { teamId: fx.teamB, userId: fx.erin } }), 'removeTeamMember'),
  forbidden('OWNER with a malformed team id', 'alice', REMOVE, () => ({ i: { teamId: 'not-an-id', userId: fx.bob } }), 'removeTeamMember'),
  {
    name: 'authorization: two refused mutations in one request, each refused',
    send: () =>
      gql(t, `mutation { a: updateUser(input: { id: "${fx.bob}", name: "Hacked" }) { __typename } b: ${CREATE_USER.slice('mutation { '.length)}`, undefined, {
        token: fx.token.alice,
      }),
    status: 200,
    code: 'FORBIDDEN',
    check: (body) => expect(body?.errors?.every((e) => e.extensions?.code === 'FORBIDDEN')).toBe(true),
  },

  // -- operation limits: 400 GRAPHQL_VALIDATION_FAILED before execution, whatever the Accept --
  limit('depth 13 > 12', /depth limit of 12 exceeded/, () => gql(t, DEEP)),
  limit('depth 13 > 12, Accept: application/json', /depth limit of 12 exceeded/, () => gql(t, DEEP, undefined, { accept: 'application/json' })),
  limit('depth hidden in fragments, one reused at two depths', /depth limit of 12 exceeded/, () => gql(t, DEEP_FRAGMENTS)),
  limit('31 aliases > 30', /Aliases limit of 30 exceeded/, () => gql(t, `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: me { id }`).join(' ')} }`)),
  limit('31 aliased createUser mutations', /Aliases limit of 30 exceeded/, () =>
    gql(t, `mutation { ${Array.from({ length: 31 }, (_, i) => `c${i}: createUser(input: { email: "alias${i}@example.com", name: "A" }) { __typename }`).join(' ')} }`),
  ),
  limit('21 directives > 20', /Directives limit of 20 exceeded/, () => gql(t, `{ ${Array.from({ length: 21 }, (_, i) => `a${i}: __typename @include(if: true)`).join(' ')} }`)),
  limit('3001 tokens > 3000', /Token limit of 3000 exceeded/, () => gql(t, `{ ${'__typename '.repeat(3001)}}`)),
  limit('3001 tokens, Accept: application/json', /Token limit of 3000 exceeded/, () => gql(t, `{ ${'__typename '.repeat(3001)}}`, undefined, { accept: 'application/json' })),
  limit('cost: users(100) → teams(100) → members(100) ≈ 3M', /cost limit of 20000 exceeded, found 3030301/, () => gql(t, MILLION)),
  limit('cost: the same, Accept: application/json', /cost limit of 20000 exceeded/, () => gql(t, MILLION, undefined, { accept: 'application/json' })),
  limit('cost: page sizes in variables', /cost limit of 20000 exceeded, found 40301/, () => gql(t, PAGES, { a: 100, b: 100 })),
  limit('cost: nodes(ids) with 100 ids × teams(first: 100)', /cost limit of 20000 exceeded/, () =>
    gql(t, 'query ($ids: [ID!]!) { nodes(ids: $ids) { ... on User { teams(first: 100) { edges { node { id } } } } } }', {
      ids: Array.from({ length: 100 }, (_, i) => `id-${i}`),
    }),
  ),
  limit('fragment fan-out (10 spreads × 5 levels), refused before validation', /^Selection limit of 300 exceeded, found 31111\./, () => gql(t, FAN_OUT)),
  limit('cost: a mutation returning a huge selection', /cost limit of 20000 exceeded/, () =>
    gql(
      t,
      `mutation { createUser(input: { email: "costly@example.com", name: "C" }) { ... on CreateUserSuccess { user { teams(first: 100) { edges { node { members(first: 100) { edges { node { teams(first: 100) { totalCount } } } } } } } } } } }`,
    ),
  ),
  {
    name: 'production: introspection (__schema) refused',
    app: 'prod',
    send: () => gql(prod, '{ __schema { types { name } } }', undefined, { token: prodToken }),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    check: (body) => expect(body?.errors?.[0]?.message).toMatch(/introspection has been disabled/),
  },
  {
    name: 'production: introspection (__type) refused',
    app: 'prod',
    send: () => gql(prod, '{ __type(name: "User") { fields { name } } }', undefined, { token: prodToken }),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  {
    name: 'production: no "Did you mean" for a misspelt field',
    app: 'prod',
    send: () => gql(prod, '{ usres { totalCount } me { emial } }', undefined, { token: prodToken }),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    check: (body) => {
      expect(body?.errors?.map((e) => e.message)).toEqual(['Cannot query field "usres" on type "Query".', 'Cannot query field "emial" on type "User".']);
    },
  },
  {
    name: 'production: no "Did you mean" for a misspelt enum value in a variable',
    app: 'prod',
    send: () => gql(prod, 'query ($r: Role) { users(filter: { role: $r }) { totalCount } }', { r: 'ADMN' }, { token: prodToken }),
    status: 400,
    code: 'BAD_USER_INPUT',
    check: (body) => expect(JSON.stringify(body)).not.toMatch(/Did you mean|ADMIN/),
  },

  // -- transport --
  {
    name: 'HTTP: body over 1 MB (Content-Length)',
    send: () => gql(t, CREATE_USER, { pad: 'x'.repeat(1_100_000) }),
    status: 413,
    code: 'REQUEST_ENTITY_TOO_LARGE',
  },
  {
    name: 'HTTP: body over 1 MB, streamed without Content-Length',
    send: () => {
      const chunk = new TextEncoder().encode(`{"query":${JSON.stringify(CREATE_USER)},"variables":{"pad":"${'x'.repeat(64 * 1024)}`);
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 20) controller.enqueue(sent === 1 ? chunk : new TextEncoder().encode('x'.repeat(64 * 1024)));
          else {
            controller.enqueue(new TextEncoder().encode('"}}'));
            controller.close();
          }
        },
      });
      return send(t, stream);
    },
    status: 413,
    code: 'REQUEST_ENTITY_TOO_LARGE',
  },
  {
    name: 'CSRF: form-urlencoded POST',
    send: () => send(t, new URLSearchParams({ query: deleteUser(fx.bob) }).toString(), { contentType: 'application/x-www-form-urlencoded' }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'CSRF: multipart/form-data POST',
    send: () => {
      const form = new FormData();
      form.set('operations', JSON.stringify({ query: deleteUser(fx.bob) }));
      form.set('map', '{}');
      return send(t, form, { contentType: null });
    },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'CSRF: text/plain POST carrying JSON',
    send: () => send(t, JSON.stringify({ query: deleteUser(fx.bob) }), { contentType: 'text/plain' }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'CSRF: POST without a content type',
    send: () => send(t, new TextEncoder().encode(JSON.stringify({ query: deleteUser(fx.bob) })), { contentType: null }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'HTTP: raw application/graphql POST',
    send: () => send(t, deleteUser(fx.bob), { contentType: 'application/graphql' }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'HTTP: mutation over GET',
    send: () => get(t, { query: deleteUser(fx.bob) }),
    status: 405,
    code: 'BAD_REQUEST',
    check: (_body, res) => expect(res.headers.get('allow')).toBe('POST'),
  },
  {
    name: 'HTTP: mutation over GET, chosen by operationName',
    send: () => get(t, { query: `query Q { __typename } ${deleteUser(fx.bob).replace('mutation', 'mutation M')}`, operationName: 'M' }),
    status: 405,
    code: 'BAD_REQUEST',
  },
  {
    name: 'HTTP: PUT',
    send: () => send(t, { query: deleteUser(fx.bob) }, { method: 'PUT' }),
    status: 405,
    code: 'BAD_REQUEST',
  },
  {
    name: 'HTTP: batched array body',
    send: () => send(t, [{ query: CREATE_USER }, { query: deleteUser(fx.bob) }]),
    status: 400,
    code: 'BAD_REQUEST',
    check: (body) => expect(body?.errors?.[0]?.message).toMatch(/Batching is not supported/),
  },
  { name: 'HTTP: malformed JSON', send: () => send(t, '{"query": "mutation {', {}), status: 400, code: 'BAD_REQUEST' },
  { name: 'HTTP: malformed JSON, Accept: application/json', send: () => send(t, '{"query": ', { accept: 'application/json' }), status: 400, code: 'BAD_REQUEST' },
  { name: 'HTTP: body is a JSON string', send: () => send(t, JSON.stringify(CREATE_USER)), status: 400, code: 'BAD_REQUEST' },
  { name: 'HTTP: query is not a string', send: () => send(t, { query: { mutation: 'createUser' } }), status: 400, code: 'BAD_REQUEST' },
  { name: 'HTTP: missing query', send: () => send(t, { variables: {} }), status: 400, code: 'BAD_REQUEST' },
  { name: 'HTTP: missing query, Accept: application/json', send: () => send(t, {}, { accept: 'application/json' }), status: 400, code: 'BAD_REQUEST' },
  { name: 'HTTP: GET without query', send: () => get(t, {}), status: 400, code: 'BAD_REQUEST' },
  { name: 'HTTP: variables not an object', send: () => send(t, { query: CREATE_USER, variables: '{}' }), status: 400, code: 'BAD_REQUEST' },
  { name: 'HTTP: unexpected parameter', send: () => send(t, { query: CREATE_USER, mutation: 'x' }), status: 400, code: 'BAD_REQUEST' },
  {
    name: 'HTTP: wrong variable type',
    send: () => gql(t, 'mutation ($i: DeleteUserInput!) { deleteUser(input: $i) { __typename } }', { i: { id: 42, extra: true } }),
    status: 400,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'HTTP: wrong variable type, Accept: application/json',
    send: () => gql(t, 'query ($n: Int) { users(first: $n) { totalCount } }', { n: 'ten' }, { accept: 'application/json' }),
    status: 400,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'HTTP: unknown operationName',
    send: () => send(t, { query: `query A { __typename } ${CREATE_USER.replace('mutation', 'mutation B')}`, operationName: 'C' }),
    status: 400,
    code: 'OPERATION_RESOLUTION_FAILURE',
  },
  {
    name: 'HTTP: two operations and no operationName',
    send: () => send(t, { query: `query A { __typename } ${CREATE_USER.replace('mutation', 'mutation B')}` }),
    status: 400,
    code: 'OPERATION_RESOLUTION_FAILURE',
  },
  { name: 'HTTP: syntax error', send: () => gql(t, 'mutation { createUser(input: {'), status: 400, code: 'GRAPHQL_PARSE_FAILED' },
  {
    name: 'HTTP: unknown field, Accept: application/json',
    send: () => gql(t, 'mutation { dropAllUsers }', undefined, { accept: 'application/json' }),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  { name: 'HTTP: unsupported Accept, refused before the mutation runs', send: () => gql(t, CREATE_USER, undefined, { accept: 'text/xml' }), status: 406, code: 'NOT_ACCEPTABLE' },
  { name: 'HTTP: Accept with JSON at q=0', send: () => gql(t, CREATE_USER, undefined, { accept: 'application/json;q=0, text/html' }), status: 406, code: 'NOT_ACCEPTABLE' },

  // -- rate limit (3 requests per minute on this app): each row has a fresh subject --
  {
    name: 'rate limit: the 4th request of a subject in the window',
    app: 'limited',
    send: async () => {
      const token = await limited.token({ role: 'ADMIN' });
      for (let i = 0; i < 3; i++) expect((await gql(limited, '{ __typename }', undefined, { token })).status).toBe(200);
      return gql(limited, CREATE_USER, undefined, { token });
    },
    status: 429,
    code: 'RATE_LIMITED',
    check: (body, res) => {
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(body?.errors?.[0]?.extensions?.retryAfterS).toBe(retryAfter);
    },
  },
  {
    name: 'rate limit: refused requests count too (400s burn the budget)',
    app: 'limited',
    send: async () => {
      const token = await limited.token({ role: 'ADMIN' });
      for (let i = 0; i < 3; i++) expect((await gql(limited, DEEP, undefined, { token })).status).toBe(400);
      return gql(limited, CREATE_USER, undefined, { token });
    },
    status: 429,
    code: 'RATE_LIMITED',
  },
  {
    name: 'rate limit: the budget is per subject, not per token',
    app: 'limited',
    send: async () => {
      const sub = randomUUID();
      for (let i = 0; i < 3; i++) expect((await gql(limited, '{ __typename }', undefined, { token: await limited.token({ role: 'ADMIN', sub }) })).status).toBe(200);
      return gql(limited, CREATE_USER, undefined, { token: await limited.token({ role: 'ADMIN', sub }) });
    },
    status: 429,
    code: 'RATE_LIMITED',
  },
];

let prodToken = '';
beforeAll(async () => {
  prodToken = await prod.token({ role: 'ADMIN' });
});

describe('hostile requests', () => {
  it('the table has at least 40 rows', () => expect(rows.length).toBeGreaterThanOrEqual(40));

  it.each(rows)('$name → $status $code', async (row) => {
    const app = apps[row.app ?? 'main'];
    const before = await snapshot(app);
    const res = await row.send();
    const text = await res.text();
    let body: GraphQLResponse | undefined;
    if (row.code === null) expect(text).toBe('');
    else body = JSON.parse(text) as GraphQLResponse;
    expect({ status: res.status, code: body?.errors?.[0]?.extensions?.code ?? null }).toEqual({ status: row.status, code: row.code });
    if (row.status !== 200) expect(body?.data ?? null).toBeNull();
    row.check?.(body, res);
    expect(await snapshot(app)).toEqual(before);
  });
});

// ---- positive controls: the same rules let the right callers through --------------------------------

describe('positive controls', () => {
  it('a hand-made HS256 token with the same claims as the hostile ones is accepted (the forgeries fail for their flaw)', async () => {
    const res = await gql(t, '{ me { id } }', undefined, { token: jwt(adminClaims()) });
    expect(res.status).toBe(200);
    expect((await res.json()).errors).toBeUndefined();
  });

  it('a token within the 30 s leeway is accepted', async () => {
    const res = await gql(t, '{ __typename }', undefined, { token: jwt(adminClaims({ exp: now() - 10 })) });
    expect(res.status).toBe(200);
  });

  it('the issuer/audience app accepts its own tokens', async () => {
    const res = await gql(iss, '{ __typename }', undefined, { token: jwt(adminClaims({ iss: ISSUER, aud: AUDIENCE }), { secret: iss.config.auth.secret! }) });
    expect(res.status).toBe(200);
  });

  it('any authenticated USER may read through node/nodes and nested edges', async () => {
    const res = await gql(
      t,
      'query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on Team { members { edges { role node { id } } } } } }',
      { ids: [fx.teamA, fx.alice] },
      { token: fx.token.dave },
    );
    const body = (await res.json()) as GraphQLResponse;
    expect(body.errors).toBeUndefined();
    expect(body.data!.nodes[0].members.edges).toHaveLength(2);
  });

  it('a USER updates their own name (and the row changes)', async () => {
    const before = await snapshot(t);
    const res = await gql(t, UPDATE, { i: { id: fx.dave, name: 'Dave Renamed' } }, { token: fx.token.dave });
    expect(((await res.json()) as GraphQLResponse).data!.updateUser).toEqual({ __typename: 'UpdateUserSuccess', user: { name: 'Dave Renamed', role: 'USER' } });
    expect(await snapshot(t)).not.toEqual(before);
  });

  it('an OWNER adds a member to their team, then removes them', async () => {
    const add = await gql(t, ADD, { i: { teamId: fx.teamA, userId: fx.dave } }, { token: fx.token.alice });
    expect(((await add.json()) as GraphQLResponse).data!.addTeamMember.__typename).toBe('AddTeamMemberSuccess');
    const remove = await gql(t, REMOVE, { i: { teamId: fx.teamA, userId: fx.dave } }, { token: fx.token.alice });
    expect(((await remove.json()) as GraphQLResponse).data!.removeTeamMember.__typename).toBe('RemoveTeamMemberSuccess');
  });

  it('an OWNER of both teams may transfer', async () => {
    await ok(t, ADD, { i: { teamId: fx.teamB, userId: fx.alice, role: 'OWNER' } });
    const res = await gql(
      t,
      'mutation ($i: TransferUserInput!) { transferUser(input: $i) { __typename } }',
      { i: { userId: fx.bob, fromTeamId: fx.teamA, toTeamId: fx.teamB } },
      { token: fx.token.alice },
    );
    expect(((await res.json()) as GraphQLResponse).data!.transferUser.__typename).toBe('TransferUserSuccess');
  });

  it('suggestions are shown outside production (the production row is not vacuous)', async () => {
    const body = (await (await gql(t, '{ usres { totalCount } }')).json()) as GraphQLResponse;
    expect(body.errors![0]!.message).toMatch(/Did you mean "users"/);
  });

  it.each([
    ['outside production', () => gql(t, '{ __schema { queryType { name } } }')],
    ['in production with INTROSPECTION=true', () => gql(prodIntrospection, '{ __schema { queryType { name } } }', undefined, { token: prodToken })],
  ])('introspection is served %s', async (_name, request) => {
    const res = await request();
    expect(((await res.json()) as GraphQLResponse).data!.__schema.queryType.name).toBe('Query');
  });

  it.each([
    ['users(first: 50) → teams(first: 5)', '{ users(first: 50) { totalCount edges { node { id email teams(first: 5) { totalCount edges { role node { id name } } } } } } }', {}],
    [
      'teams(first: 20) → members(first: 20)',
      '{ teams(first: 20) { totalCount edges { node { id slug members(first: 20) { totalCount edges { role node { id email } } } } } } }',
      {},
    ],
    [
      'users(first: 100) → teams(first: 5) → members(first: 3)',
      `query ($n: Int!) { users(first: $n) { totalCount edges { node { email teams(first: 5) { totalCount edges { role joinedAt node {
         name members(first: 3) { totalCount edges { role node { email } } } } } } } } } }`,
      { n: 100 },
    ],
  ])('the benchmark query %s passes the limits', async (_name, query, variables) => {
    const res = await gql(t, query, variables);
    expect(res.status).toBe(200);
    expect(((await res.json()) as GraphQLResponse).errors).toBeUndefined();
  });

  it('the cost follows the variables: the same document, cheap then expensive then cheap (validation is cached per document)', async () => {
    const cheap = await gql(t, PAGES, { a: 20, b: 20 });
    expect(cheap.status).toBe(200);
    const expensive = await gql(t, PAGES, { a: 100, b: 100 });
    expect(expensive.status).toBe(400);
    expect((await gql(t, PAGES, { a: 20, b: 20 })).status).toBe(200);
  });

  it('the cost is cached per variable shape, and the shape holds what a verdict depends on (string length, control characters)', async () => {
    const SEARCH = 'query ($f: UserFilter, $n: Int) { users(first: $n, filter: $f) { edges { node { id } } } }';
    // Priced once, then served from the cache for another value of the same shape.
    expect((await gql(t, SEARCH, { f: { search: 'abc' }, n: 5 })).status).toBe(200);
    expect((await gql(t, SEARCH, { f: { search: 'xyz' }, n: 5 })).status).toBe(200);
    // Same length, but a control character: refused, not waved through by the cached price.
    const control = await gql(t, SEARCH, { f: { search: 'a\u0007c' }, n: 5 });
    expect(control.status).toBe(400);
    expect(await control.text()).toContain('BAD_USER_INPUT');
    // A page size is part of the shape: the same search asking for more costs more.
    expect((await gql(t, SEARCH, { f: { search: 'abc' }, n: 100 })).status).toBe(200);
  });
});

// ---- HTTP headers ---------------------------------------------------------------------------------

describe('security headers', () => {
  const JSON_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
  it.each([
    ['a GraphQL result', () => gql(t, '{ __typename }')],
    ['a 401', () => gql(t, '{ __typename }', undefined, { token: null })],
    ['a 400', () => gql(t, DEEP)],
    ['a 413', () => gql(t, '{ __typename }', { pad: 'x'.repeat(1_100_000) })],
    ['a 415', () => send(t, 'query=x', { contentType: 'application/x-www-form-urlencoded' })],
    ['/health', () => t.fetch('/health')],
    ['/ready', () => t.fetch('/ready')],
    ['/metrics', () => t.fetch('/metrics')],
    ['an unknown path', () => t.fetch('/nope')],
  ])('%s carries them', async (_name, request) => {
    const res = await request();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('strict-transport-security')).toMatch(/^max-age=\d+; includeSubDomains$/);
    expect(res.headers.get('content-security-policy')).toBe(JSON_CSP);
  });

  it('the GraphiQL page loads everything from this server: its CSP allows only the same origin', async () => {
    const res = await t.fetch('/graphql', { headers: { accept: 'text/html', authorization: '' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toMatch(/(src|href)="?https?:/);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("worker-src 'self';");
    expect(csp).toContain("connect-src 'self';");
    expect(csp).not.toMatch(/https?:|blob:/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });
});

// ---- the rate limit beyond one subject --------------------------------------------------------------

describe('rate limit', () => {
  it('no token and refused tokens draw on the client address budget, which never refuses a valid token; probes stay open', async () => {
    // In-process requests have no socket, so they all share the address "unknown" (the last test on `limited`).
    for (let i = 0; i < 3; i++) expect((await gql(limited, '{ __typename }', undefined, { token: 'garbage' })).status).toBe(401);
    const spent = await gql(limited, '{ __typename }', undefined, { token: 'garbage' });
    expect(spent.status).toBe(429);
    expect(Number(spent.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await gql(limited, '{ __typename }', undefined, { token: null })).status).toBe(429);
    // Behind an ingress every client shares one address: other people's 401s must not lock this user out.
    expect((await gql(limited, '{ __typename }', undefined, { token: await limited.token({ role: 'ADMIN' }) })).status).toBe(200);
    for (const probe of ['/health', '/ready', '/metrics']) expect((await limited.fetch(probe)).status).toBe(200);
  });
});

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

const redisUp = await reachable(REDIS_URL);
const deadRedis = `redis://127.0.0.1:${await closedPort()}`;

describe.skipIf(!redisUp)('rate limit in Redis', () => {
  const replicaA = useTestApp({ REDIS_URL, RATE_LIMIT_POINTS: '3' });
  const replicaB = useTestApp({ REDIS_URL, RATE_LIMIT_POINTS: '3' });

  it('two replicas share one budget per subject', async () => {
    // Before its connection is ready a replica counts in memory; wait for both to count in Redis.
    const counting = (app: TestApp) => app.logs.some((l) => l.msg === 'rate limit: counting in Redis');
    await expect.poll(() => counting(replicaA) && counting(replicaB), { timeout: 5_000 }).toBe(true);
    const token = await replicaA.token({ role: 'ADMIN' });
    expect((await gql(replicaA, '{ __typename }', undefined, { token })).status).toBe(200);
    expect((await gql(replicaB, '{ __typename }', undefined, { token })).status).toBe(200);
    expect((await gql(replicaA, '{ __typename }', undefined, { token })).status).toBe(200);
    expect((await gql(replicaB, '{ __typename }', undefined, { token })).status).toBe(429);
    expect((await gql(replicaA, '{ __typename }', undefined, { token })).status).toBe(429);
  });
});

describe('rate limit with Redis down', () => {
  const app = useTestApp({ REDIS_URL: deadRedis, RATE_LIMIT_POINTS: '3' });

  it('serves from the per-process insurance budget, fast, and logs the outage once', async () => {
    const token = await app.token({ role: 'ADMIN' });
    const started = Date.now();
    for (let i = 0; i < 3; i++) expect((await gql(app, '{ __typename }', undefined, { token })).status).toBe(200);
    expect((await gql(app, '{ __typename }', undefined, { token })).status).toBe(429);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(app.logs.filter((l) => /Redis unavailable/.test(l.msg)).length).toBe(1);
  });
});

// ---- masked errors in production ----------------------------------------------------------------------

describe('production: unexpected errors', () => {
  it('are masked and carry a requestId that leads to the log line', async () => {
    await prod.db.prisma.$executeRawUnsafe('ALTER TABLE "Team" RENAME TO "TeamAway"');
    try {
      const res = await gql(prod, '{ teams(first: 1) { totalCount } }', undefined, { token: prodToken });
      const body = (await res.json()) as GraphQLResponse;
      const error = body.errors![0]!;
      expect(error.message).toBe('Unexpected error.');
      expect(JSON.stringify(body)).not.toMatch(/TeamAway|relation|prisma|postgres/i);
      const requestId = error.extensions!.requestId;
      expect(requestId).toBe(res.headers.get('x-request-id'));
      expect(prod.logs.some((l) => l.requestId === requestId && l.msg === 'unexpected error (masked)' && l.err)).toBe(true);
    } finally {
      await prod.db.prisma.$executeRawUnsafe('ALTER TABLE "TeamAway" RENAME TO "Team"');
    }
  });
});
