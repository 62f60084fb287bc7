// User.profile through the whole server, with a real profile service on 127.0.0.1 (see
// test/helpers/profile-service.ts): batching (one downstream call per request), DataLoader dedup,
// DOWNSTREAM_UNAVAILABLE partial errors with the rest of the data intact and nothing of the downstream
// leaked, the breaker shedding load, metrics, /ready, and the service unset.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { useTestApp, type TestApp } from './helpers/app.js';
import { DOWNSTREAM_SECRET_TEXT, type FakeProfileService, profileOf, startProfileService } from './helpers/profile-service.js';

const PAGE = /* GraphQL */ `
  query Page($search: String!) {
    users(first: 50, filter: { search: $search }) {
      totalCount
      edges { node { id name email profile { avatarUrl bio locale updatedAt } } }
    }
  }
`;
const PAGE_WITHOUT_PROFILE = PAGE.replace('profile { avatarUrl bio locale updatedAt }', '');

/** Creates `n` users whose names carry `tag`, with a profile at the service for all but the last. */
async function seedUsers(t: TestApp, service: FakeProfileService, tag: string, n: number) {
  const users = [];
  for (let i = 0; i < n; i++) {
    users.push(await t.db.prisma.user.create({ data: { email: `${tag}.${i}@example.com`, name: `${tag} ${i}` } }));
  }
  for (const user of users.slice(0, -1)) service.profiles.set(user.id, profileOf(user.id));
  return users;
}

/** A service started before the app, whose URL the app's configuration gets. */
function useProfileService(env: Record<string, string>) {
  const holder: { service?: FakeProfileService } = {};
  beforeAll(async () => {
    holder.service = await startProfileService();
    env.PROFILE_SERVICE_URL = `${holder.service.url}/`;
  });
  afterAll(() => holder.service?.close());
  return () => holder.service!;
}

describe('with a profile service in batch mode', () => {
  const env: Record<string, string> = { PROFILE_SERVICE_BATCH: 'true', PROFILE_RETRIES: '0', PROFILE_BREAKER_FAILURES: '1000' };
  const service = useProfileService(env);
  const t = useTestApp(env);
  beforeEach(() => service().reset());

  it('asks the service once per request for all users of the page, and adds no SQL', async () => {
    const users = await seedUsers(t, service(), 'batchpage', 7);
    t.resetStatements();
    const without = await t.gql(PAGE_WITHOUT_PROFILE, { search: 'batchpage' });
    const sqlWithout = t.statements.length;
    t.resetStatements();
    const res = await t.gql(PAGE, { search: 'batchpage' });
    expect(res.errors).toBeUndefined();
    expect(t.statements.length).toBe(sqlWithout);
    expect(without.data!.users.totalCount).toBe(7);

    expect(service().calls).toHaveLength(1);
    expect(service().calls[0]!.ids.sort()).toEqual(users.map((u) => u.id).sort());
    const profiles = res.data!.users.edges.map((e: any) => e.node.profile);
    expect(profiles.filter((p: unknown) => p === null)).toHaveLength(1);
    expect(profiles.find((p: unknown) => p !== null)).toEqual({
      avatarUrl: expect.stringMatching(/^https:\/\/avatars\.example\.com\//),
      bio: expect.stringMatching(/^bio of /),
      locale: 'en-GB',
      updatedAt: '2026-01-02T03:04:05.000Z',
    });
  });

  it('asks for a user seen twice in a request once (DataLoader dedup)', async () => {
    const [user] = await seedUsers(t, service(), 'dedup', 2);
    const page = await t.gql(PAGE_WITHOUT_PROFILE, { search: 'dedup.0' });
    const id = page.data!.users.edges[0].node.id;
    service().reset();
    const res = await t.gql(
      `query ($id: ID!, $search: String!) {
        a: user(id: $id) { profile { bio } }
        b: user(id: $id) { profile { bio } }
        c: node(id: $id) { ... on User { profile { bio } } }
        users(filter: { search: $search }) { edges { node { profile { bio } } } }
      }`,
      { id, search: 'dedup.0' },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.a.profile.bio).toBe(`bio of ${user!.id}`);
    expect(service().calls).toEqual([{ url: `/users?ids=${user!.id}`, ids: [user!.id] }]);
  });

  it('a failing service makes profile null with DOWNSTREAM_UNAVAILABLE; the rest is intact and nothing leaks', async () => {
    await seedUsers(t, service(), 'failing', 3);
    for (const behaviour of [{ kind: 'fail', status: 500 }, { kind: 'fail', status: 503 }, { kind: 'bad' }] as const) {
      service().behave(behaviour);
      const logsBefore = t.logs.length;
      const response = await t.fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: JSON.stringify({ query: PAGE, variables: { search: 'failing' } }),
      });
      expect(response.status).toBe(200);
      const text = await response.text();
      const res = JSON.parse(text);
      expect(res.data.users.totalCount).toBe(3);
      expect(res.data.users.edges.map((e: any) => e.node.name).sort()).toEqual(['failing 0', 'failing 1', 'failing 2']);
      expect(res.data.users.edges.every((e: any) => e.node.profile === null)).toBe(true);
      expect(res.errors).toHaveLength(3);
      for (const error of res.errors) {
        expect(error.extensions.code).toBe('DOWNSTREAM_UNAVAILABLE');
        expect(error.path).toEqual(['users', 'edges', expect.any(Number), 'node', 'profile']);
        expect(error.message).not.toMatch(/Unexpected/);
      }
      const logs = JSON.stringify(t.logs.slice(logsBefore));
      for (const secret of [DOWNSTREAM_SECRET_TEXT, 'internal-detail', service().url, `:${service().port}`, '127.0.0.1']) {
        expect(text).not.toContain(secret);
        expect(logs).not.toContain(secret);
      }
      expect(t.logs.slice(logsBefore).filter((l) => l.msg === 'profile-service: call failed')).toHaveLength(1);
    }
  });

  it('counts calls by outcome, shows the breaker state and the queue in /metrics, and the service on /ready', async () => {
    await seedUsers(t, service(), 'metrics', 2);
    service().behave({ kind: 'ok' });
    await t.gql(PAGE, { search: 'metrics' });
    const metrics = await (await t.fetch('/metrics')).text();
    expect(metrics).toMatch(/^downstream_call_duration_seconds_count\{dependency="profile-service",outcome="success"\} [1-9]/m);
    expect(metrics).toMatch(/^downstream_call_duration_seconds_count\{dependency="profile-service",outcome="http"\} [1-9]/m);
    expect(metrics).toMatch(/^downstream_circuit_state\{dependency="profile-service"\} 0$/m);
    expect(metrics).toMatch(/^downstream_bulkhead_queue_length\{dependency="profile-service"\} 0$/m);
    expect(metrics).toMatch(/^dataloader_batch_size_count\{loader="profileByUserId"\} [1-9]/m);
    const ready = await t.fetch('/ready');
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as any).checks['profile-service']).toEqual({ status: 'up', critical: false });
  });
});

describe('one call per user without batch mode', () => {
  const env: Record<string, string> = { PROFILE_RETRIES: '0', PROFILE_TIMEOUT_MS: '10000' };
  const service = useProfileService(env);
  const t = useTestApp(env);
  beforeEach(() => service().reset());

  it('calls /users/{id} once per distinct user, all within the one request', async () => {
    const users = await seedUsers(t, service(), 'single', 4);
    const res = await t.gql(PAGE, { search: 'single' });
    expect(res.errors).toBeUndefined();
    expect(
      service()
        .calls.map((c) => c.url)
        .sort(),
    ).toEqual(users.map((u) => `/users/${u.id}`).sort());
    expect(res.data!.users.edges.filter((e: any) => e.node.profile === null)).toHaveLength(1);
  });

  it("the request's signal (here: the client going away) cancels the calls in flight", async () => {
    await seedUsers(t, service(), 'gone', 2);
    service().behave({ kind: 'hang' });
    const client = new AbortController();
    const pending = t
      .fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: PAGE, variables: { search: 'gone' } }),
        signal: client.signal,
      })
      .catch((error: unknown) => error);
    await vi.waitFor(() => expect(service().inFlight).toBe(2));
    client.abort();
    await pending;
    // Both calls were abandoned long before PROFILE_TIMEOUT_MS, and not counted against the service.
    await vi.waitFor(() => expect(service().abandoned).toBe(2), { timeout: 5_000 });
    expect(t.app.profiles?.state).toBe('closed');
    service().release();
  });
});

describe('an open breaker sheds load', () => {
  const env: Record<string, string> = {
    PROFILE_SERVICE_BATCH: 'true',
    PROFILE_RETRIES: '0',
    PROFILE_TIMEOUT_MS: '1500',
    PROFILE_BREAKER_FAILURES: '1',
    // Long enough that the shedding below ends before it, even on a loaded machine.
    PROFILE_BREAKER_HALF_OPEN_AFTER_MS: '4000',
    PROFILE_BREAKER_PROBES: '1',
  };
  const service = useProfileService(env);
  const t = useTestApp(env);

  it('requests answer at once without calling the service, /ready stays 200, and it closes again', async () => {
    await seedUsers(t, service(), 'shed', 2);
    service().behave({ kind: 'hang' });
    // Two timeouts: more than one consecutive failure opens the breaker.
    for (let i = 0; i < 2; i++) {
      const res = await t.gql(PAGE, { search: 'shed' });
      expect(res.errors?.[0]?.extensions?.code).toBe('DOWNSTREAM_UNAVAILABLE');
    }
    expect(t.app.profiles?.state).toBe('open');
    expect(t.logs.filter((l) => l.msg === 'profile-service: circuit breaker open, calls are shed')).toHaveLength(1);
    const calls = service().calls.length;

    const timed = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const started = performance.now();
        const res = await t.gql(PAGE, { search: 'shed' });
        return { res, ms: performance.now() - started };
      }),
    );
    // Each below one timeout: nothing waited for the service.
    expect(Math.max(...timed.map((r) => r.ms))).toBeLessThan(1500);
    const shed = timed.map((r) => r.res);
    for (const res of shed) {
      expect(res.data!.users.totalCount).toBe(2);
      expect(res.errors!.map((e) => e.extensions?.code)).toEqual(['DOWNSTREAM_UNAVAILABLE', 'DOWNSTREAM_UNAVAILABLE']);
    }
    expect(service().calls.length).toBe(calls);

    const metrics = await (await t.fetch('/metrics')).text();
    expect(metrics).toMatch(/^downstream_circuit_state\{dependency="profile-service"\} 2$/m);
    expect(metrics).toMatch(/^downstream_call_duration_seconds_count\{dependency="profile-service",outcome="circuit_open"\} 10$/m);
    const ready = await t.fetch('/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { 'profile-service': { status: 'down', critical: false } } });

    service().release();
    service().behave({ kind: 'ok' });
    await vi.waitFor(
      async () => {
        const res = await t.gql(PAGE, { search: 'shed' });
        expect(res.errors).toBeUndefined();
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(t.app.profiles?.state).toBe('closed');
    expect(t.logs.filter((l) => l.dependency === 'profile-service' && l.state).map((l) => l.state)).toEqual(['open', 'halfOpen', 'closed']);
  });
});

describe('without PROFILE_SERVICE_URL', () => {
  const t = useTestApp();

  it('profile is null without errors, and the service is not on /ready', async () => {
    await t.db.prisma.user.create({ data: { email: 'noservice@example.com', name: 'noservice' } });
    const res = await t.gql(PAGE, { search: 'noservice' });
    expect(res.errors).toBeUndefined();
    expect(res.data!.users.edges[0].node.profile).toBeNull();
    expect(t.app.profiles).toBeUndefined();
    const ready = (await (await t.fetch('/ready')).json()) as any;
    expect(Object.keys(ready.checks)).not.toContain('profile-service');
  });
});
