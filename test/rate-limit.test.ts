import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { type TestApp, useTestApp } from './helpers/app.js';
import { rawRequest, useListeningApp } from './helpers/http.js';
import { reachable, REDIS_URL } from './helpers/redis.js';

/**
 * Rate limiting that cannot lock out the innocent: a verified token draws on its subject's budget
 * only; no token or a refused one on the client address's, a separate budget. The client address is
 * the TCP peer, or with TRUSTED_PROXY_HOPS=n the n-th X-Forwarded-For entry from the right.
 */

const POINTS = 3;
const QUERY = JSON.stringify({ query: '{ __typename }' });

function useApp(env: Record<string, string> = {}) {
  const t = useTestApp({ RATE_LIMIT_POINTS: String(POINTS), ...env });
  const server = useListeningApp(t);
  const send = (headers: Record<string, string>) =>
    rawRequest(server.port(), 'POST', '/graphql', { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers }, QUERY);
  return { t, send };
}

const bearer = async (t: TestApp, sub = randomUUID()) => ({ authorization: `Bearer ${await t.token({ sub })}` });
const garbage = { authorization: 'Bearer not.a.token' };
const statuses = async (n: number, request: () => Promise<{ status: number }>) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await request()).status);
  return out;
};

describe('budgets (TRUSTED_PROXY_HOPS=0: the TCP peer)', () => {
  const { t, send } = useApp();

  it(`after ${POINTS} 401s from one address, its next bad or missing token gets 429, but a valid token from it is served`, async () => {
    expect(await statuses(POINTS, () => send(garbage))).toEqual(Array(POINTS).fill(401));
    const spent = await send(garbage);
    expect(spent.status).toBe(429);
    expect(JSON.parse(spent.body).errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(Number(spent.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await send({})).status).toBe(429);
    // Several users behind the same address (an ingress), each with their own budget.
    for (let i = 0; i < 3; i++) expect(await statuses(POINTS, async () => send(await bearer(t, `00000000-0000-4000-8000-00000000000${i}`)))).toEqual(Array(POINTS).fill(200));
  });

  it('X-Forwarded-For is ignored: forged entries do not open a new budget', async () => {
    const res = await send({ ...garbage, 'x-forwarded-for': '203.0.113.77' });
    expect(res.status).toBe(429);
  });
});

describe('TRUSTED_PROXY_HOPS=1 (one ingress)', () => {
  const { t, send } = useApp({ TRUSTED_PROXY_HOPS: '1' });

  it('the client is the last X-Forwarded-For entry; entries to its left are the client’s own and ignored', async () => {
    const client = { 'x-forwarded-for': '198.51.100.1' };
    expect(await statuses(POINTS, () => send({ ...garbage, ...client }))).toEqual(Array(POINTS).fill(401));
    expect((await send({ ...garbage, ...client })).status).toBe(429);
    // The same client forging a left-hand entry is still itself.
    expect((await send({ ...garbage, 'x-forwarded-for': '10.9.8.7, 198.51.100.1' })).status).toBe(429);
    // Another client behind the same ingress (same TCP peer) has its own budget.
    expect((await send({ ...garbage, 'x-forwarded-for': '198.51.100.2' })).status).toBe(401);
    expect((await send({ ...garbage, 'x-forwarded-for': '198.51.100.1, 198.51.100.3' })).status).toBe(401);
    // And a valid token from the spent address is served.
    expect((await send({ ...(await bearer(t)), ...client })).status).toBe(200);
  });

  it('a user spending their budget leaves no-token requests from the same address at 401 (separate budgets)', async () => {
    const client = { 'x-forwarded-for': '198.51.100.9' };
    const auth = await bearer(t);
    expect(await statuses(POINTS + 1, () => send({ ...auth, ...client }))).toEqual([...Array(POINTS).fill(200), 429]);
    expect((await send(client)).status).toBe(401);
  });

  it('without the header the TCP peer is the client', async () => {
    expect(await statuses(POINTS + 1, () => send(garbage))).toEqual([...Array(POINTS).fill(401), 429]);
  });
});

describe('TRUSTED_PROXY_HOPS=2 (a CDN in front of the ingress)', () => {
  const { send } = useApp({ TRUSTED_PROXY_HOPS: '2' });

  it('the client is the second entry from the right, through exactly two hops', async () => {
    const via = (client: string, cdn = '192.0.2.10') => ({ ...garbage, 'x-forwarded-for': `${client}, ${cdn}` });
    expect(await statuses(POINTS, () => send(via('198.51.100.20')))).toEqual(Array(POINTS).fill(401));
    expect((await send(via('198.51.100.20', '192.0.2.11'))).status).toBe(429);
    expect((await send({ ...garbage, 'x-forwarded-for': `203.0.113.5, ${'198.51.100.21'}, 192.0.2.10` })).status).toBe(401);
    expect((await send({ ...garbage, 'x-forwarded-for': '198.51.100.20, 198.51.100.21, 192.0.2.10' })).status).toBe(401);
  });
});

describe('TRUSTED_PROXY_HOPS is validated', () => {
  it('refuses what is not a small whole number', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).http).toMatchObject({ trustedProxyHops: 0 });
    for (const value of ['-1', '1.5', 'all', '11']) expect(() => loadConfig({ NODE_ENV: 'test', TRUSTED_PROXY_HOPS: value })).toThrow(ConfigError);
  });
});

describe.skipIf(!(await reachable(REDIS_URL)))('budgets in Redis, shared by replicas', () => {
  const a = useApp({ REDIS_URL, TRUSTED_PROXY_HOPS: '1' });
  const b = useApp({ REDIS_URL, TRUSTED_PROXY_HOPS: '1' });

  it('an address spent on one replica is spent on the other; a valid token from it is served by both', async () => {
    const counting = (app: TestApp) => app.logs.some((l) => l.msg === 'rate limit: counting in Redis');
    await expect.poll(() => counting(a.t) && counting(b.t), { timeout: 5_000 }).toBe(true);
    // A documentation address of its own per run: the Redis is shared with other test runs.
    const client = { 'x-forwarded-for': `2001:db8::${randomUUID().slice(0, 4)}` };
    expect((await a.send({ ...garbage, ...client })).status).toBe(401);
    expect((await b.send({ ...garbage, ...client })).status).toBe(401);
    expect((await a.send({ ...garbage, ...client })).status).toBe(401);
    expect((await b.send({ ...garbage, ...client })).status).toBe(429);
    expect((await a.send({ ...client })).status).toBe(429);
    expect((await a.send({ ...(await bearer(a.t)), ...client })).status).toBe(200);
    expect((await b.send({ ...(await bearer(b.t)), ...client })).status).toBe(200);
  });
});
