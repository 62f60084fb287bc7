import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { defaultBuildResponseCacheKey } from '@envelop/response-cache';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { signToken } from '../src/auth.js';
import { type Config, ConfigError, loadConfig } from '../src/config.js';
import { parseGlobalIdOf } from '../src/ids.js';
import { guardedCache, responseCacheKey, sessionOf } from '../src/plugins/use-response-cache.js';
import { createMemoryStore, createRedisStore, maxEntryBytesOf, type ResponseStore } from '../src/response-cache/store.js';
import { buildTestApp, type GraphQLResponse, type TestApp, useTestApp } from './helpers/app.js';
import { onPostgres, usePostgresDatabase } from './helpers/database.js';
import { reachable, REDIS_URL } from './helpers/redis.js';

/**
 * The response cache (RESPONSE_CACHE): per-viewer keys, errors and refusals never cached, TTLs,
 * invalidation by mutations across replicas sharing Redis, ETag/304 on GET, hit/miss metrics, and
 * RESPONSE_CACHE=false. Hits and misses are read from the app's own metric, so every "served from the
 * cache" below is observed, not inferred from timing.
 */

type Lookups = { hit: number; miss: number; error: number };

async function lookups(app: App): Promise<Lookups> {
  const metric = app.metrics.registry.getSingleMetric('graphql_response_cache_lookups_total');
  const out: Lookups = { hit: 0, miss: 0, error: 0 };
  if (!metric) return out;
  for (const v of (await metric.get()).values) out[v.labels.result as keyof Lookups] = v.value;
  return out;
}

/** Runs `fn` and returns how many hits and misses it caused. */
async function counted(app: App, fn: () => Promise<unknown>): Promise<Lookups> {
  const before = await lookups(app);
  await fn();
  const after = await lookups(app);
  return { hit: after.hit - before.hit, miss: after.miss - before.miss, error: after.error - before.error };
}

const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { ... on CreateUserSuccess { user { id } } } }`;

/** A user row and a token for it (USER unless `role`). */
async function newUser(t: { gql: TestApp['gql']; config: Config }, role: 'USER' | 'ADMIN' = 'USER') {
  const email = `u-${randomUUID()}@cache.example`;
  const res = await t.gql(CREATE_USER, { input: { email, name: 'Cache Test', role } });
  const id = res.data!.createUser.user.id as string;
  const token = await signToken(t.config.auth, { sub: parseGlobalIdOf('User', id)!, role });
  return { id, email, token, dbId: parseGlobalIdOf('User', id)! };
}

describe('per-viewer isolation (memory store)', () => {
  const t = useTestApp({ RESPONSE_CACHE: 'true' });

  it('the key holds subject and role', () => {
    const sub = randomUUID();
    expect(sessionOf({ userId: sub, role: 'USER', expiresAt: 0 })).not.toBe(sessionOf({ userId: sub, role: 'ADMIN', expiresAt: 0 }));
    expect(sessionOf({ userId: sub, role: 'USER', expiresAt: 0 })).not.toBe(sessionOf({ userId: randomUUID(), role: 'USER', expiresAt: 0 }));
    expect(sessionOf(null)).toBeNull();
  });

  it("one user's cached answer never reaches another: each sees their own `me`, the second time from the cache", async () => {
    const a = await newUser(t);
    const b = await newUser(t);
    const me = '{ me { id email } }';
    const first = await counted(t.app, async () => {
      expect((await t.gql(me, {}, { token: a.token })).data!.me).toEqual({ id: a.id, email: a.email });
      expect((await t.gql(me, {}, { token: b.token })).data!.me).toEqual({ id: b.id, email: b.email });
    });
    expect(first).toMatchObject({ hit: 0, miss: 2 });
    const again = await counted(t.app, async () => {
      expect((await t.gql(me, {}, { token: b.token })).data!.me).toEqual({ id: b.id, email: b.email });
      expect((await t.gql(me, {}, { token: a.token })).data!.me).toEqual({ id: a.id, email: a.email });
    });
    expect(again).toMatchObject({ hit: 2, miss: 0 });
  });

  it('the same subject with another role is another key: a role change never gets the old role’s view', async () => {
    const a = await newUser(t);
    const asAdmin = await signToken(t.config.auth, { sub: a.dbId, role: 'ADMIN' });
    const q = '{ me { id name } }';
    await t.gql(q, {}, { token: a.token });
    expect(await counted(t.app, () => t.gql(q, {}, { token: asAdmin }))).toMatchObject({ hit: 0, miss: 1 });
    expect(await counted(t.app, () => t.gql(q, {}, { token: a.token }))).toMatchObject({ hit: 1, miss: 0 });
  });

  it('what a user may not do is refused every time, never cached; what an admin may see is not served to the user', async () => {
    const user = await newUser(t);
    const admin = await newUser(t, 'ADMIN');
    const createTeam = `mutation { createTeam(input: { slug: "t-${randomUUID().slice(0, 8)}", name: "T" }) { __typename } }`;
    for (let i = 0; i < 2; i++) {
      const refused = await t.gql(createTeam, {}, { token: user.token });
      expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    // An admin's `me` (their role ADMIN, their email) is theirs only.
    const q = '{ me { email role } }';
    expect((await t.gql(q, {}, { token: admin.token })).data!.me).toEqual({ email: admin.email, role: 'ADMIN' });
    expect((await t.gql(q, {}, { token: user.token })).data!.me).toEqual({ email: user.email, role: 'USER' });
    expect((await t.gql(q, {}, { token: admin.token })).data!.me).toEqual({ email: admin.email, role: 'ADMIN' });
  });

  it('answers with errors are not cached: a bad cursor fails every time, as a miss', async () => {
    const q = '{ users(first: 1, after: "garbage") { edges { cursor } } }';
    const counts = await counted(t.app, async () => {
      for (let i = 0; i < 2; i++) expect((await t.gql(q)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });
    expect(counts).toMatchObject({ hit: 0, miss: 2 });
  });

  it('no token or a bad one is refused 401 even when the query is cached for someone', async () => {
    const q = '{ users(first: 2) { totalCount } }';
    await t.gql(q);
    expect(await counted(t.app, () => t.gql(q))).toMatchObject({ hit: 1 });
    for (const authorization of ['', 'Bearer not.a.token']) {
      const res = await t.fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ query: q }),
      });
      expect(res.status).toBe(401);
    }
  });

  it('writes through mutations are seen on the next read, whatever the mutation selected', async () => {
    const u = await newUser(t);
    const q = `query($id: ID!) { user(id: $id) { name teams { totalCount } } }`;
    expect((await t.gql(q, { id: u.id })).data!.user).toEqual({ name: 'Cache Test', teams: { totalCount: 0 } });
    await t.gql(`mutation($id: ID!) { updateUser(input: { id: $id, name: "Renamed" }) { __typename } }`, { id: u.id });
    expect((await t.gql(q, { id: u.id })).data!.user.name).toBe('Renamed');
    const team = await t.gql(`mutation { createTeam(input: { slug: "c-${randomUUID().slice(0, 8)}", name: "C" }) { ... on CreateTeamSuccess { team { id } } } }`);
    const teamId = team.data!.createTeam.team.id;
    await t.gql(`mutation($t: ID!, $u: ID!) { addTeamMember(input: { teamId: $t, userId: $u }) { __typename } }`, { t: teamId, u: u.id });
    expect((await t.gql(q, { id: u.id })).data!.user.teams.totalCount).toBe(1);
  });

  it('hit/miss counters are on /metrics', async () => {
    const text = await (await t.fetch('/metrics')).text();
    expect(text).toMatch(/^graphql_response_cache_lookups_total\{result="hit"\} [1-9]/m);
    expect(text).toMatch(/^graphql_response_cache_lookups_total\{result="miss"\} [1-9]/m);
  });
});

describe('cache keys', () => {
  it("are @envelop/response-cache's default keys, made synchronously (node:crypto, not a WebCrypto job per request)", async () => {
    const cases = [
      { documentString: 'query Q($id: ID!) { node(id: $id) { id } }', operationName: 'Q', variableValues: { id: 'VXNlcjox', b: [1, { z: 1, a: 'é' }] }, sessionId: 's|u|ADMIN' },
      { documentString: '{ me { id } }', operationName: undefined, variableValues: undefined, sessionId: undefined },
      { documentString: 'query { users(first: 5) { totalCount } } # ✓ 日本', operationName: null, variableValues: {}, sessionId: 'x' },
    ];
    for (const params of cases) {
      const ours = responseCacheKey({ ...params, context: {} });
      expect(typeof ours).toBe('string');
      expect(ours).toBe(await defaultBuildResponseCacheKey(params));
    }
    // Variables in another key order make the same key (a stable stringify, as the default's).
    const a = responseCacheKey({ documentString: 'q', variableValues: { x: 1, y: 2 }, sessionId: 's', context: {} });
    expect(responseCacheKey({ documentString: 'q', variableValues: { y: 2, x: 1 }, sessionId: 's', context: {} })).toBe(a);
    expect(responseCacheKey({ documentString: 'q', variableValues: { x: 1, y: 3 }, sessionId: 's', context: {} })).not.toBe(a);
  });
});

describe('TTL', () => {
  const t = useTestApp({ RESPONSE_CACHE: 'true', RESPONSE_CACHE_TTL_MS: '400', RESPONSE_CACHE_TTL_PER_TYPE: 'Team=0' });

  it('serves the cached answer until the TTL passes, then reads again (a write behind its back shows then)', async () => {
    const u = await newUser(t);
    const q = `query($id: ID!) { user(id: $id) { name } }`;
    expect((await t.gql(q, { id: u.id })).data!.user.name).toBe('Cache Test');
    // Changed in the database directly: no mutation, so nothing invalidates.
    await t.db.prisma.user.update({ where: { id: u.dbId }, data: { name: 'Behind' } });
    const started = Date.now();
    const cached = await t.gql(q, { id: u.id });
    if (Date.now() - started < 300) expect(cached.data!.user.name).toBe('Cache Test');
    await new Promise((r) => setTimeout(r, 450));
    expect((await t.gql(q, { id: u.id })).data!.user.name).toBe('Behind');
  });

  it('a type with TTL 0 is never cached (RESPONSE_CACHE_TTL_PER_TYPE)', async () => {
    const team = await t.gql(`mutation { createTeam(input: { slug: "z-${randomUUID().slice(0, 8)}", name: "Z" }) { ... on CreateTeamSuccess { team { id } } } }`);
    const q = `query($id: ID!) { team(id: $id) { name } }`;
    const id = team.data!.createTeam.team.id;
    expect(await counted(t.app, async () => (await t.gql(q, { id }), await t.gql(q, { id })))).toMatchObject({ hit: 0, miss: 2 });
  });
});

describe('configuration', () => {
  it('per-type TTLs: a map of types or coordinates; UserProfile from RESPONSE_CACHE_TTL_PROFILE_MS or the map, not both', () => {
    expect(loadConfig({}).responseCache).toMatchObject({ enabled: true, ttlMs: 60_000, ttlPerType: { UserProfile: 30_000 }, redisUrl: undefined });
    expect(loadConfig({ RESPONSE_CACHE_TTL_PROFILE_MS: '5000', RESPONSE_CACHE_TTL_PER_TYPE: 'User=1000, Team.members=0' }).responseCache.ttlPerType).toEqual({
      UserProfile: 5_000,
      User: 1_000,
      'Team.members': 0,
    });
    expect(loadConfig({ RESPONSE_CACHE_TTL_PER_TYPE: 'UserProfile=10' }).responseCache.ttlPerType).toEqual({ UserProfile: 10 });
    expect(() => loadConfig({ RESPONSE_CACHE_TTL_PER_TYPE: 'UserProfile=10', RESPONSE_CACHE_TTL_PROFILE_MS: '5' })).toThrow(/set one of them/);
    expect(() => loadConfig({ RESPONSE_CACHE_TTL_PER_TYPE: 'User:10' })).toThrow(ConfigError);
    expect(() => loadConfig({ RESPONSE_CACHE_TTL_PER_TYPE: 'User=-1' })).toThrow(/RESPONSE_CACHE_TTL_PER_TYPE/);
    expect(loadConfig({ RESPONSE_CACHE: 'false' }).responseCache.enabled).toBe(false);
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379' }).responseCache.redisUrl).toBe('redis://cache:6379');
  });
});

describe('RESPONSE_CACHE=false', () => {
  const t = useTestApp({ RESPONSE_CACHE: 'false' });

  it('every read goes to the database, no metric, no ETag', async () => {
    const u = await newUser(t);
    const q = `query($id: ID!) { user(id: $id) { name } }`;
    expect((await t.gql(q, { id: u.id })).data!.user.name).toBe('Cache Test');
    await t.db.prisma.user.update({ where: { id: u.dbId }, data: { name: 'Fresh' } });
    expect((await t.gql(q, { id: u.id })).data!.user.name).toBe('Fresh');
    expect(await (await t.fetch('/metrics')).text()).not.toContain('graphql_response_cache');
    const res = await t.fetch(`/graphql?query=${encodeURIComponent('{ me { id } }')}`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBeNull();
  });
});

describe('ETag / 304 on GET', () => {
  const t = useTestApp({ RESPONSE_CACHE: 'true' });
  const get = (query: string, token: string, headers: Record<string, string> = {}) =>
    t.fetch(`/graphql?query=${encodeURIComponent(query)}`, { headers: { accept: 'application/graphql-response+json', authorization: `Bearer ${token}`, ...headers } });

  it('200 with an ETag, 304 with no body for If-None-Match, 200 with a new ETag after a write', async () => {
    const u = await newUser(t);
    const q = '{ me { name } }';
    const first = await get(q, u.token);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]{43}"$/);
    expect(first.headers.get('cache-control')).toBe('private, no-cache');
    expect(first.headers.get('vary')).toMatch(/Authorization/);
    const notModified = await get(q, u.token, { 'if-none-match': etag });
    expect(notModified.status).toBe(304);
    expect(await notModified.text()).toBe('');
    expect(notModified.headers.get('etag')).toBe(etag);
    expect(notModified.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await get(q, u.token, { 'if-none-match': `W/"other", ${etag}` })).status).toBe(304);

    await t.gql(`mutation($id: ID!) { updateUser(input: { id: $id, name: "Changed" }) { __typename } }`, { id: u.id }, { token: u.token });
    const changed = await get(q, u.token, { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(((await changed.json()) as GraphQLResponse).data!.me.name).toBe('Changed');
    expect(changed.headers.get('etag')).not.toBe(etag);

    const text = await (await t.fetch('/metrics')).text();
    expect(text).toMatch(/^http_requests_total\{method="GET",route="\/graphql",status="304"\} 2$/m);
  });

  it("another viewer's ETag never gets a 304, even for the same body; no token is 401; POST gets no ETag", async () => {
    const a = await newUser(t);
    const b = await newUser(t);
    const q = '{ users(first: 1) { totalCount } }';
    const etagA = (await get(q, a.token)).headers.get('etag')!;
    const forB = await get(q, b.token, { 'if-none-match': etagA });
    expect(forB.status).toBe(200);
    expect(forB.headers.get('etag')).not.toBe(etagA);
    const anonymous = await t.fetch(`/graphql?query=${encodeURIComponent(q)}`, { headers: { authorization: '', 'if-none-match': etagA } });
    expect(anonymous.status).toBe(401);
    const post = await t.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${a.token}`, 'if-none-match': etagA },
      body: JSON.stringify({ query: q }),
    });
    expect(post.status).toBe(200);
    expect(post.headers.get('etag')).toBeNull();
  });

  it('answers with errors get no ETag', async () => {
    const u = await newUser(t);
    const res = await get('{ users(first: 1, after: "garbage") { totalCount } }', u.token);
    expect(res.headers.get('etag')).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------------
// Replicas sharing Redis and one PostgreSQL database
// ---------------------------------------------------------------------------------------------------

const redisUp = await reachable(REDIS_URL);

interface Replica {
  app: App;
  config: Config;
  logs: Record<string, any>[];
  gql: TestApp['gql'];
}

/** One ADMIN subject for every replica, so the same query from it has the same key everywhere. */
const adminSub = randomUUID();

/** Apps over ONE database (the test file's own PostgreSQL copy), each with its env. */
function useReplicas(envs: Record<string, string>[]): Replica[] {
  const database = usePostgresDatabase();
  const replicas: Replica[] = envs.map(() => ({}) as Replica);
  beforeAll(async () => {
    for (const [i, env] of envs.entries()) {
      const built = await buildTestApp(
        { DATABASE_URL: database.url(), RATE_LIMIT_POINTS: '1000000', RESPONSE_CACHE: 'true', ...env },
        { authorize: 'all', adminSubject: adminSub },
      );
      Object.assign(replicas[i]!, { app: built.app, config: built.config, logs: built.logs, gql: built.gql });
    }
  });
  afterAll(async () => {
    for (const r of replicas) await r.app?.close();
  });
  return replicas;
}

/**
 * Sends `query` through `replica` until the replica itself answers it from the cache. A store is
 * skipped when any invalidation happened between its lookup and its store (the generation check), and
 * the previous test's writes may still be invalidating: one send is not always one stored answer.
 */
async function cachedThrough(replica: Replica, query: string): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    expect((await replica.gql(query)).errors).toBeUndefined();
    if ((await counted(replica.app, () => replica.gql(query))).hit === 1) return;
  }
  throw new Error(`never cached: ${query}`);
}

const inRedis = (r: Replica) => r.logs.some((l) => l.msg === 'response cache: in Redis');

// Replicas share a database only on PostgreSQL: on PGlite each would have its own (in memory), and a
// write through one could never be read through the other.
describe.skipIf(!redisUp || !onPostgres)('two replicas sharing Redis', () => {
  const [a, b] = useReplicas([{ REDIS_URL }, { REDIS_URL }]) as [Replica, Replica];
  const strict = useReplicas([{ REDIS_URL, GRAPHQL_MAX_DEPTH: '3' }]);

  beforeAll(async () => {
    // Until its connection is ready a replica treats every lookup as a miss; wait for all three (a
    // loaded two-core machine can take seconds), and say so rather than fail on a miss later.
    const deadline = Date.now() + 30_000;
    while (!(inRedis(a) && inRedis(b) && inRedis(strict[0]!)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect([a, b, strict[0]!].map(inRedis), 'every replica connected to Redis').toEqual([true, true, true]);
  });

  it('share entries: what one cached, the other serves', async () => {
    const u = await newUser(a);
    const q = `query($id: ID!) { user(id: $id) { name } }`;
    expect(await counted(a.app, () => a.gql(q, { id: u.id }))).toMatchObject({ miss: 1 });
    expect(await counted(b.app, () => b.gql(q, { id: u.id }))).toMatchObject({ hit: 1 });
  });

  it('a write through one is visible through the other on the next read (entities, counts, lists, lookups)', async () => {
    const u = await newUser(a);
    const other = await newUser(a);
    const team = await a.gql(`mutation { createTeam(input: { slug: "r-${randomUUID().slice(0, 8)}", name: "R" }) { ... on CreateTeamSuccess { team { id } } } }`);
    const teamId = team.data!.createTeam.team.id as string;
    const userQ = `query($id: ID!) { user(id: $id) { name teams { totalCount } } }`;
    const teamQ = `query($id: ID!) { team(id: $id) { members { totalCount edges { node { id } } } } }`;
    const pageQ = `query($t: ID!) { users(filter: { teamId: $t }) { totalCount } }`;
    const read = async (r: Replica) => ({
      user: (await r.gql(userQ, { id: u.id })).data!.user,
      team: (await r.gql(teamQ, { id: teamId })).data!.team.members,
      page: (await r.gql(pageQ, { t: teamId })).data!.users.totalCount,
    });
    // Cached through b (and served from the cache the second time).
    expect(await read(b)).toEqual({ user: { name: 'Cache Test', teams: { totalCount: 0 } }, team: { totalCount: 0, edges: [] }, page: 0 });
    expect(await counted(b.app, () => read(b))).toMatchObject({ hit: 3, miss: 0 });

    // Writes through a, each answer selecting nothing but __typename.
    await a.gql(`mutation($id: ID!) { updateUser(input: { id: $id, name: "Renamed" }) { __typename } }`, { id: u.id });
    expect((await read(b)).user.name).toBe('Renamed');
    await a.gql(`mutation($t: ID!, $u: ID!) { addTeamMember(input: { teamId: $t, userId: $u }) { __typename } }`, { t: teamId, u: u.id });
    expect(await read(b)).toEqual({ user: { name: 'Renamed', teams: { totalCount: 1 } }, team: { totalCount: 1, edges: [{ node: { id: u.id } }] }, page: 1 });
    // A member the cached page did not hold.
    await a.gql(`mutation($t: ID!, $u: ID!) { addTeamMember(input: { teamId: $t, userId: $u }) { __typename } }`, { t: teamId, u: other.id });
    expect((await read(b)).page).toBe(2);
    // Deleting a user changes the count of every team they were in.
    await a.gql(`mutation($id: ID!) { deleteUser(input: { id: $id }) { __typename } }`, { id: other.id });
    expect((await read(b)).team.totalCount).toBe(1);
    await a.gql(`mutation($t: ID!, $u: ID!) { removeTeamMember(input: { teamId: $t, userId: $u }) { __typename } }`, { t: teamId, u: u.id });
    expect(await read(b)).toEqual({ user: { name: 'Renamed', teams: { totalCount: 0 } }, team: { totalCount: 0, edges: [] }, page: 0 });
  });

  it('a lookup cached as null sees the entity created through the other replica', async () => {
    const email = `later-${randomUUID()}@cache.example`;
    const q = `query($e: String!) { userByEmail(email: $e) { email } }`;
    expect((await b.gql(q, { e: email })).data!.userByEmail).toBeNull();
    expect(await counted(b.app, () => b.gql(q, { e: email }))).toMatchObject({ hit: 1 });
    await a.gql(CREATE_USER, { input: { email, name: 'Later' } });
    expect((await b.gql(q, { e: email })).data!.userByEmail).toEqual({ email });
  });

  it('a replica with stricter limits refuses a query another replica cached (limits are checked before the lookup)', async () => {
    // The same key on both: a shallow query cached through a is a hit through the strict replica.
    await cachedThrough(a, '{ me { id } }');
    expect(await counted(strict[0]!.app, () => strict[0]!.gql('{ me { id } }'))).toMatchObject({ hit: 1 });
    const deep = '{ me { teams { edges { node { id } } } } }';
    await cachedThrough(a, deep);
    const res = await strict[0]!.gql(deep);
    expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('Redis down', () => {
  // Port 1 on loopback: nothing listens, connections are refused at once.
  const t = useTestApp({ RESPONSE_CACHE: 'true', REDIS_URL: 'redis://127.0.0.1:1' });

  it('every request is answered from the database, fast; lookups count as errors', async () => {
    const started = Date.now();
    const counts = await counted(t.app, async () => {
      for (let i = 0; i < 3; i++) expect((await t.gql('{ users(first: 1) { totalCount } }')).errors).toBeUndefined();
    });
    expect(counts).toMatchObject({ hit: 0, error: 3 });
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

/** A read that looked up before a write (anywhere) and stores after it must not store its old answer. */
async function raceCheck(store: ResponseStore) {
  const key = `race-${randomUUID()}`;
  const racing = guardedCache(store);
  expect(await racing.get(key)).toBeFalsy();
  await store.invalidate([{ typename: 'User', id: randomUUID() }]);
  await racing.set(key, { data: { old: true } }, [], 60_000);
  expect(await store.get(key)).toBeFalsy();
  const quiet = guardedCache(store);
  expect(await quiet.get(key)).toBeFalsy();
  await quiet.set(key, { data: { fresh: true } }, [], 60_000);
  expect(await store.get(key)).toEqual({ data: { fresh: true } });
}

describe('a read that raced a write', () => {
  it('does not store its answer (memory store)', () => raceCheck(createMemoryStore({ maxEntries: 10, maxBytes: 1024 * 1024 })));
});

describe.skipIf(!redisUp)('the Redis store', () => {
  it('does not store the answer of a read that raced a write, on any replica', async () => {
    const store = await readyStore(100);
    await raceCheck(store);
  });

  const stores: ResponseStore[] = [];
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  afterAll(async () => {
    for (const s of stores) await s.dispose();
    redis.disconnect();
  });

  // The app's bound by default: an eighth of RESPONSE_CACHE_MAX_MB's default.
  async function readyStore(maxIndexSize: number, maxEntryBytes = maxEntryBytesOf(loadConfig({}).responseCache.maxBytes)) {
    const store = createRedisStore({ url: REDIS_URL, logger: pino({ level: 'silent' }), maxTtlMs: 60_000, maxIndexSize, maxEntryBytes });
    stores.push(store);
    // No offline queue: commands fail until the connection is ready.
    for (let i = 0; i < 100; i++) {
      try {
        await store.get('probe');
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    return store;
  }

  it('keys are prefixed, indexes expire, an index past its size is invalidated as a whole, a whole type without KEYS', async () => {
    const store = await readyStore(3);
    const type = `T${randomUUID().replace(/-/g, '')}`;
    const entity = { typename: type, id: 'a' };
    for (let i = 0; i < 3; i++) await store.set(`${type}-r${i}`, { data: { i } }, [entity], 60_000);
    expect(await store.get(`${type}-r0`)).toEqual({ data: { i: 0 } });
    expect(await redis.pttl(`uag:rc:${type}:a`)).toBeGreaterThan(50_000);
    expect(await redis.pttl(`uag:rc:${type}`)).toBeGreaterThan(50_000);
    expect(await redis.exists(`${type}:a`)).toBe(0);
    // The fourth response makes the index too big: every response in it goes.
    await store.set(`${type}-r3`, { data: { i: 3 } }, [entity], 60_000);
    for (let i = 0; i < 4; i++) expect(await store.get(`${type}-r${i}`)).toBeFalsy();
    await store.set(`${type}-r4`, { data: { i: 4 } }, [{ typename: type, id: 'b' }], 60_000);
    expect(await store.get(`${type}-r4`)).toEqual({ data: { i: 4 } });
    await store.invalidate([{ typename: type }]);
    expect(await store.get(`${type}-r4`)).toBeFalsy();
  });

  it('does not store an answer larger than its entry bound (nor index it)', async () => {
    const store = await readyStore(100, 50_000);
    const type = `T${randomUUID().replace(/-/g, '')}`;
    const rows = (n: number) => ({ data: { items: Array.from({ length: n }, (_, i) => ({ id: `${type}-${i}`, name: 'x'.repeat(20) })) } });
    await store.set(`${type}-big`, rows(1_000), [{ typename: type }], 60_000);
    expect(await store.get(`${type}-big`)).toBeFalsy();
    expect(await redis.exists(`uag:rc:${type}-big`, `uag:rc:${type}`)).toBe(0);
    await store.set(`${type}-small`, rows(10), [{ typename: type }], 60_000);
    expect(await store.get(`${type}-small`)).toEqual(rows(10));
  });
});

describe('every mutation notes what it makes stale', () => {
  it('each Mutation field resolver passes its result through noteWrite (a new one that does not would serve stale answers)', async () => {
    const { readFileSync, readdirSync } = await import('node:fs');
    const { schema } = await import('../src/schema/index.js');
    const dir = new URL('../src/schema/', import.meta.url);
    const source = readdirSync(dir)
      .filter((f: string) => f.endsWith('.ts'))
      .map((f: string) => readFileSync(new URL(f, dir), 'utf8'))
      .join('\n');
    const fields = Object.keys(schema.getMutationType()!.getFields());
    expect(fields.length).toBeGreaterThan(5);
    for (const field of fields) {
      const start = source.indexOf(`\n  ${field}: t.field(`);
      expect(start, field).toBeGreaterThan(0);
      const block = source.slice(start, source.indexOf('\n  }),', start));
      expect(block, field).toMatch(/resolve: async [^\n]*noteWrite\(ctx, /);
    }
  });
});
