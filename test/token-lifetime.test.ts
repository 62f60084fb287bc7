import { createHmac, randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { createTokenVerifier, InvalidTokenError, signToken } from '../src/auth.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { toGlobalId } from '../src/ids.js';
import { type TestApp, useTestApp } from './helpers/app.js';
import { sseReader } from './helpers/events.js';
import { snapshot } from './helpers/snapshot.js';

/**
 * Tokens with a bounded life (issue 9, point 8): a token living longer than JWT_MAX_TTL_S (24 h by
 * default) or issued in the future is refused; a live subscription ends when its token expires.
 * And what a role change or a deleted user means for tokens already issued, as the README says.
 */

const t = useTestApp();
const short = useTestApp({ JWT_MAX_TTL_S: '600' });

const now = () => Math.floor(Date.now() / 1000);
const HOUR = 3600;
const DAY = 24 * HOUR;

/** An HS256 JWT with any claims (jose's SignJWT refuses to make some of the bad ones). */
function jwt(app: TestApp, claims: Record<string, unknown>) {
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', app.config.auth.secret!).update(input).digest('base64url')}`;
}
const admin = (claims: Record<string, unknown>) => ({ sub: randomUUID(), role: 'ADMIN', ...claims });

const CREATE_USER = 'mutation { createUser(input: { email: "lifetime@example.com", name: "Lifetime" }) { __typename } }';

async function send(app: TestApp, token: string, query = CREATE_USER, variables?: Record<string, unknown>) {
  const res = await app.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { res, body: (await res.json()) as { data?: Record<string, any>; errors?: { extensions?: { code?: string } }[] } };
}

describe('lifetimes over JWT_MAX_TTL_S, and tokens from the future, are refused', () => {
  it.each([
    ['exp: 1e300', () => admin({ iat: now(), exp: 1e300 })],
    ['exp - iat one second over 24 h', () => admin({ iat: now(), exp: now() + DAY + 1 })],
    ['iat a year ahead', () => admin({ iat: now() + 365 * DAY, exp: now() + 365 * DAY + HOUR })],
    ['iat two minutes ahead (the leeway is 30 s)', () => admin({ iat: now() + 120, exp: now() + HOUR })],
    ['no iat, exp 25 h away', () => admin({ exp: now() + 25 * HOUR })],
    ['no iat, exp: 1e300', () => admin({ exp: 1e300 })],
  ])('%s → 401 invalid_token, nothing written', async (_name, claims) => {
    const before = await snapshot(t);
    const { res, body } = await send(t, jwt(t, claims()));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="user-api-gateway", error="invalid_token"');
    expect(body).toEqual({ errors: [{ message: 'The access token is invalid or expired.', extensions: { code: 'UNAUTHENTICATED' } }] });
    expect(await snapshot(t)).toEqual(before);
  });

  it.each([
    ['exp - iat exactly 24 h', () => admin({ iat: now(), exp: now() + DAY })],
    ['iat 10 s ahead (within the leeway)', () => admin({ iat: now() + 10, exp: now() + HOUR })],
    ['no iat, exp an hour away', () => admin({ exp: now() + HOUR })],
  ])('%s is accepted', async (_name, claims) => {
    const { res } = await send(t, jwt(t, claims()), '{ __typename }');
    expect(res.status).toBe(200);
  });

  it('JWT_MAX_TTL_S sets the bound: 600 s refuses a 1 h token and accepts a 10 min one', async () => {
    expect((await send(short, jwt(short, admin({ iat: now(), exp: now() + HOUR })), '{ __typename }')).res.status).toBe(401);
    expect((await send(short, jwt(short, admin({ iat: now(), exp: now() + 600 })), '{ __typename }')).res.status).toBe(200);
  });

  it('JWT_MAX_TTL_S is checked at start-up: at least a minute, at most a week', () => {
    expect(loadConfig({}).auth.maxTtlS).toBe(86_400);
    for (const bad of ['0', '59', '604801', 'a day']) expect(() => loadConfig({ JWT_MAX_TTL_S: bad })).toThrow(ConfigError);
  });
});

describe('the verified-token cache', () => {
  it('never serves a viewer past its exp', async () => {
    const config = loadConfig({ JWT_CLOCK_TOLERANCE_S: '0' }).auth;
    const verify = createTokenVerifier(config);
    const exp = now() + 2;
    const token = jwt(t, { sub: randomUUID(), role: 'USER', iat: now(), exp });
    const viewer = await verify(token);
    expect(viewer.expiresAt).toBe(exp * 1000);
    await expect(verify(token)).resolves.toBe(viewer); // from the cache
    await vi.waitFor(() => expect(verify(token)).rejects.toBeInstanceOf(InvalidTokenError), { timeout: 10_000, interval: 100 });
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
  });
});

describe('a live subscription ends when its token expires', () => {
  it('the SSE stream of a token with ~2 s left completes by itself', async () => {
    const exp = now() + 2;
    const token = await signToken(t.config.auth, { sub: randomUUID(), role: 'ADMIN' }, exp);
    const res = await t.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'subscription { events { id } }' }),
    });
    expect(res.status).toBe(200);
    const sse = sseReader(res);
    try {
      const ending = sse.next(15_000); // reading is what starts the subscription
      await vi.waitFor(() => expect(t.app.events.subscribers).toBe(1), { timeout: 10_000 });
      const end = await ending;
      expect(['complete', 'end']).toContain(end.event);
      expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
      expect(t.app.events.subscribers).toBe(0);
    } finally {
      await sse.cancel();
    }
  });
});

// ---- what the README says about tokens already issued ---------------------------------------------------

describe('tokens already issued, after a role change or a deletion', () => {
  const UPDATE_SELF = 'mutation ($i: UpdateUserInput!) { updateUser(input: $i) { __typename } }';

  it("a demoted ADMIN's token keeps ADMIN rights until it expires; a promoted USER's token stays USER", async () => {
    const demoted = await t.db.prisma.user.create({ data: { email: 'demoted@example.com', name: 'Demoted', role: 'ADMIN' } });
    const promoted = await t.db.prisma.user.create({ data: { email: 'promoted@example.com', name: 'Promoted' } });
    const adminToken = await t.token({ role: 'ADMIN', sub: demoted.id });
    const userToken = await t.token({ role: 'USER', sub: promoted.id });
    await t.db.prisma.user.update({ where: { id: demoted.id }, data: { role: 'USER' } });
    await t.db.prisma.user.update({ where: { id: promoted.id }, data: { role: 'ADMIN' } });
    expect((await send(t, adminToken)).body.data).toEqual({ createUser: { __typename: 'CreateUserSuccess' } });
    const refused = await send(t, userToken, 'mutation { createUser(input: { email: "promoted-2@example.com", name: "P" }) { __typename } }');
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it("a deleted user's token still authenticates: me is null, reads work, writes to themselves find nobody, team rights are gone", async () => {
    const user = await t.db.prisma.user.create({ data: { email: 'deleted@example.com', name: 'Deleted' } });
    const team = await t.db.prisma.team.create({ data: { slug: 'deleted-owner', name: 'Deleted owner' } });
    await t.db.prisma.membership.create({ data: { userId: user.id, teamId: team.id, role: 'OWNER' } });
    const token = await t.token({ role: 'USER', sub: user.id });
    await t.db.prisma.user.delete({ where: { id: user.id } });

    const read = await send(t, token, '{ me { id } users(first: 1) { totalCount } }');
    expect(read.res.status).toBe(200);
    expect(read.body.data).toEqual({ me: null, users: { totalCount: expect.any(Number) } });
    const update = await send(t, token, UPDATE_SELF, { i: { id: toGlobalId('User', user.id), name: 'Back' } });
    expect(update.body.data).toEqual({ updateUser: { __typename: 'NotFoundError' } });
    const add = await send(t, token, 'mutation ($i: AddTeamMemberInput!) { addTeamMember(input: $i) { __typename } }', {
      i: { teamId: toGlobalId('Team', team.id), userId: toGlobalId('User', user.id) },
    });
    expect(add.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
