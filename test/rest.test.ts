import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { renderOpenApi } from '../src/rest/openapi.js';
import { useTestApp } from './helpers/app.js';
import { onPostgres } from './helpers/database.js';
import { LEAK, makeUser, NO_UUID, unique } from './helpers/fixtures.js';
import { expectDocumented, OPENAPI_FILE, type RestResponse } from './helpers/openapi.js';
import { toGlobalId } from '../src/ids.js';

const t = useTestApp();
const USERS = '/api/v1/users';
const USER = '/api/v1/users/{id}';
const pathOf = (gid: string) => `${USERS}/${encodeURIComponent(gid)}`;

let admin: string;
beforeAll(async () => {
  admin = await t.token({ role: 'ADMIN' });
});

interface Call {
  token?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One REST call; `token` null sends none, default ADMIN. The body is parsed when there is one. */
async function call(method: string, path: string, { token, body, headers = {} }: Call = {}): Promise<RestResponse> {
  const h: Record<string, string> = { ...headers };
  const bearer = token === undefined ? admin : token;
  h.authorization = bearer === null ? '' : `Bearer ${bearer}`;
  if (body !== undefined && !h['content-type']) h['content-type'] = 'application/json';
  const res = await t.fetch(path, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : undefined };
}

/** The checks every problem gets: RFC 9457 shape, the status in the body, a code, nothing leaked. */
function expectProblem(res: RestResponse, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.body).toMatchObject({ status, code, type: `urn:user-api-gateway:problem:${code}` });
  expect(typeof res.body.title).toBe('string');
  expect(typeof res.body.detail).toBe('string');
  expect(res.text).not.toMatch(LEAK);
}

const outboxOf = (uuid: string) => t.db.prisma.outboxEvent.findMany({ where: { aggregateId: uuid }, orderBy: { seq: 'asc' }, select: { type: true, payload: true } });

describe('REST: GET /api/v1/users/{id}', () => {
  it('answers the user (GraphQL fields) with its version as ETag', async () => {
    const user = await makeUser(t);
    const res = await call('GET', pathOf(user.gid), { token: await t.token({ role: 'USER' }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"1"');
    expect(res.body).toMatchObject({ id: user.gid, email: user.email, version: 1, role: 'USER' });
    expectDocumented('GET', USER, res);
  });

  it('404 NOT_FOUND for an ID no user has, and for one that is not a user ID', async () => {
    for (const id of [toGlobalId('User', NO_UUID), toGlobalId('Team', NO_UUID), 'garbage', 'x'.repeat(100)]) {
      const res = await call('GET', pathOf(id));
      expectProblem(res, 404, 'NOT_FOUND');
      expectDocumented('GET', USER, res);
    }
  });

  it('an ID over its bound is refused as GraphQL refuses it: 400 on GET and DELETE, 422 ValidationError on PUT', async () => {
    const long = pathOf('x'.repeat(101));
    const put = await call('PUT', long, { body: { name: 'X' } });
    expectProblem(put, 422, 'ValidationError');
    expectDocumented('PUT', USER, put);
    for (const method of ['GET', 'DELETE']) {
      const res = await call(method, long);
      expect(res.status, method).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.body.code).toBe('BAD_USER_INPUT');
      expect(res.text).not.toMatch(LEAK);
      expectDocumented(method, USER, res);
    }
  });

  it('401 UNAUTHENTICATED without a token or with a bad one, with WWW-Authenticate', async () => {
    const user = await makeUser(t);
    const none = await call('GET', pathOf(user.gid), { token: null });
    expectProblem(none, 401, 'UNAUTHENTICATED');
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expectDocumented('GET', USER, none);
    const bad = await call('GET', pathOf(user.gid), { token: 'not.a.jwt' });
    expectProblem(bad, 401, 'UNAUTHENTICATED');
    expect(bad.headers.get('www-authenticate')).toContain('invalid_token');
    expect(bad.headers.get('x-request-id')).toBeTruthy();
  });
});

describe('REST: GET /api/v1/users', () => {
  it('pages with first/after, filters by search and role, counts across pages', async () => {
    const tag = unique('page');
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await makeUser(t, tag));
    const first = await call('GET', `${USERS}?first=2&search=${tag}`);
    expect(first.status).toBe(200);
    expectDocumented('GET', USERS, first);
    expect(first.body.totalCount).toBe(3);
    expect(first.body.items.map((u: any) => u.id)).toEqual(made.slice(0, 2).map((u) => u.gid));
    expect(first.body.pageInfo.hasNextPage).toBe(true);
    const second = await call('GET', `${USERS}?first=2&search=${tag}&after=${encodeURIComponent(first.body.pageInfo.endCursor)}`);
    expect(second.body.items.map((u: any) => u.id)).toEqual([made[2]!.gid]);
    expect(second.body.pageInfo.hasNextPage).toBe(false);
    const admins = await call('GET', `${USERS}?search=${tag}&role=ADMIN`);
    expect(admins.body).toMatchObject({ items: [], totalCount: 0 });
    const desc = await call('GET', `${USERS}?search=${tag}&orderBy=CREATED_AT&direction=DESC`);
    expect(desc.body.items.map((u: any) => u.id)).toEqual(made.map((u) => u.gid).reverse());
  });

  it('400 for what GraphQL refuses (a bad role, a non-integer size, a bad cursor) and for unknown parameters', async () => {
    for (const query of ['role=ROOT', 'first=abc', 'first=1.5', 'after=nope', 'colour=red', 'first=1&first=2', 'direction=ASC']) {
      const res = await call('GET', `${USERS}?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(['BAD_USER_INPUT', 'BAD_REQUEST']).toContain(res.body.code);
      expect(res.text).not.toMatch(LEAK);
      expectDocumented('GET', USERS, res);
    }
  });
});

describe('REST: POST /api/v1/users', () => {
  it('201 with Location and ETag; the same event as GraphQL createUser is written', async () => {
    const email = `${unique('new')}@example.com`;
    const res = await call('POST', USERS, { body: { email: email.toUpperCase(), name: 'New One' } });
    expect(res.status, res.text).toBe(201);
    expectDocumented('POST', USERS, res);
    expect(res.body).toMatchObject({ email, name: 'New One', role: 'USER', version: 1 });
    expect(res.headers.get('location')).toBe(pathOf(res.body.id));
    expect(res.headers.get('etag')).toBe('"1"');
    const uuid = (await t.db.prisma.user.findUniqueOrThrow({ where: { email } })).id;
    const events = await outboxOf(uuid);
    expect(events.map((e) => e.type)).toEqual(['user.created']);
    // The Location answers the same user.
    const read = await call('GET', res.headers.get('location')!);
    expect(read.body).toEqual(res.body);
  });

  it('422 ValidationError with fieldErrors, 409 EmailTakenError; nothing written', async () => {
    const before = await t.db.prisma.user.count();
    const invalid = await call('POST', USERS, { body: { email: 'not-an-email', name: '   ' } });
    expectProblem(invalid, 422, 'ValidationError');
    expectDocumented('POST', USERS, invalid);
    expect(invalid.body.fieldErrors.map((f: any) => f.path)).toEqual(
      expect.arrayContaining([
        ['input', 'email'],
        ['input', 'name'],
      ]),
    );
    const existing = await makeUser(t);
    const taken = await call('POST', USERS, { body: { email: existing.email, name: 'Dup' } });
    expectProblem(taken, 409, 'EmailTakenError');
    expectDocumented('POST', USERS, taken);
    expect(taken.body.email).toBe(existing.email);
    expect(await t.db.prisma.user.count()).toBe(before + 1);
  });

  it('403 FORBIDDEN for a USER (the GraphQL rule), nothing written', async () => {
    const email = `${unique('forbidden')}@example.com`;
    const res = await call('POST', USERS, { token: await t.token({ role: 'USER' }), body: { email, name: 'No' } });
    expectProblem(res, 403, 'FORBIDDEN');
    expectDocumented('POST', USERS, res);
    expect(await t.db.prisma.user.count({ where: { email } })).toBe(0);
  });

  it('400 for invalid JSON, a non-object, an unknown or missing field; 415 for a form; 413 past MAX_BODY_BYTES', async () => {
    for (const body of ['{nope', '[]', '"x"', JSON.stringify({ email: 'a@b.co', name: 'A', admin: true }), JSON.stringify({ name: 'A' })]) {
      const res = await call('POST', USERS, { body });
      expect(res.status, body).toBe(400);
      expect(['BAD_REQUEST', 'BAD_USER_INPUT']).toContain(res.body.code);
      expect(res.text).not.toMatch(LEAK);
      expectDocumented('POST', USERS, res);
    }
    const form = await call('POST', USERS, { body: 'email=a@b.co', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expectProblem(form, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectDocumented('POST', USERS, form);
    const huge = await call('POST', USERS, { body: { email: 'a@b.co', name: 'x'.repeat(t.config.limits.maxBodyBytes) } });
    expectProblem(huge, 413, 'REQUEST_ENTITY_TOO_LARGE');
    expectDocumented('POST', USERS, huge);
  });
});

describe('REST: PUT /api/v1/users/{id}', () => {
  it('200 with If-Match at the current version: version and ETag grow, a user.updated event is written', async () => {
    const user = await makeUser(t);
    const res = await call('PUT', pathOf(user.gid), { body: { name: 'Renamed' }, headers: { 'if-match': '"1"' } });
    expect(res.status, res.text).toBe(200);
    expectDocumented('PUT', USER, res);
    expect(res.body).toMatchObject({ name: 'Renamed', version: 2 });
    expect(res.headers.get('etag')).toBe('"2"');
    expect((await outboxOf(user.id)).map((e) => e.type)).toEqual(['user.updated']);
  });

  it('412 VersionConflictError for a stale If-Match, with currentVersion; nothing written', async () => {
    const user = await makeUser(t);
    await call('PUT', pathOf(user.gid), { body: { name: 'First' } });
    const res = await call('PUT', pathOf(user.gid), { body: { name: 'Second' }, headers: { 'if-match': '"1"' } });
    expectProblem(res, 412, 'VersionConflictError');
    expectDocumented('PUT', USER, res);
    expect(res.body.currentVersion).toBe(2);
    expect((await t.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).name).toBe('First');
  });

  it('400 for an If-Match that is not one strong tag, or a body naming id or expectedVersion', async () => {
    const user = await makeUser(t);
    for (const [ifMatch, body] of [
      ['W/"1"', { name: 'A' }],
      ['"1", "2"', { name: 'A' }],
      ['"1"', { name: 'A', expectedVersion: 1 }],
      ['*', { id: 'x' }],
    ] as const) {
      const res = await call('PUT', pathOf(user.gid), { body, headers: { 'if-match': ifMatch } });
      expectProblem(res, 400, 'BAD_REQUEST');
      expectDocumented('PUT', USER, res);
    }
    expect((await t.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).version).toBe(1);
  });

  it('a USER may rename themselves, not change their role nor another user: 403 (the GraphQL rule)', async () => {
    const self = await makeUser(t);
    const other = await makeUser(t);
    const token = await t.token({ role: 'USER', sub: self.id });
    const own = await call('PUT', pathOf(self.gid), { token, body: { name: 'Me' } });
    expect(own.status, own.text).toBe(200);
    for (const [gid, body] of [
      [self.gid, { role: 'ADMIN' }],
      [other.gid, { name: 'You' }],
    ] as const) {
      const res = await call('PUT', pathOf(gid), { token, body });
      expectProblem(res, 403, 'FORBIDDEN');
      expectDocumented('PUT', USER, res);
    }
    expect((await t.db.prisma.user.findUniqueOrThrow({ where: { id: other.id } })).version).toBe(1);
  });

  it('404 NotFoundError, 422 ValidationError, 409 EmailTakenError', async () => {
    const missing = await call('PUT', pathOf(toGlobalId('User', NO_UUID)), { body: { name: 'X' } });
    expectProblem(missing, 404, 'NotFoundError');
    expectDocumented('PUT', USER, missing);
    const user = await makeUser(t);
    const other = await makeUser(t);
    const invalid = await call('PUT', pathOf(user.gid), { body: { email: 'bad' } });
    expectProblem(invalid, 422, 'ValidationError');
    expectDocumented('PUT', USER, invalid);
    const taken = await call('PUT', pathOf(user.gid), { body: { email: other.email } });
    expectProblem(taken, 409, 'EmailTakenError');
    expectDocumented('PUT', USER, taken);
  });
});

describe('REST: DELETE /api/v1/users/{id}', () => {
  it('204 and a user.deleted event; then 404; a USER gets 403', async () => {
    const user = await makeUser(t);
    const forbidden = await call('DELETE', pathOf(user.gid), { token: await t.token({ role: 'USER' }) });
    expectProblem(forbidden, 403, 'FORBIDDEN');
    expectDocumented('DELETE', USER, forbidden);
    const res = await call('DELETE', pathOf(user.gid));
    expect(res.status).toBe(204);
    expectDocumented('DELETE', USER, res);
    expect((await outboxOf(user.id)).map((e) => e.type)).toEqual(['user.deleted']);
    const again = await call('DELETE', pathOf(user.gid));
    expectProblem(again, 404, 'NotFoundError');
    expectDocumented('DELETE', USER, again);
  });
});

describe('REST: routing', () => {
  it('HEAD is GET without the content: same status and headers (ETag), no body, nothing written', async () => {
    const user = await makeUser(t);
    const get = await call('GET', pathOf(user.gid));
    const head = await call('HEAD', pathOf(user.gid));
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers.get('etag')).toBe(get.headers.get('etag'));
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
    const list = await call('HEAD', `${USERS}?first=2`);
    expect(list.status).toBe(200);
    expect(list.text).toBe('');
    // Refusals keep their status and headers too.
    const missing = await call('HEAD', pathOf(toGlobalId('User', NO_UUID)));
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(missing.text).toBe('');
    expect((await call('HEAD', `${USERS}?first=-1`)).status).toBe(400);
    expect(await outboxOf(user.id)).toEqual([]);
  });

  it('405 with Allow for other methods, 404 problem for other paths under /api/v1/, 406 for an Accept it cannot meet', async () => {
    const patch = await call('PATCH', pathOf('x'), { body: {} });
    expectProblem(patch, 405, 'METHOD_NOT_ALLOWED');
    expect(patch.headers.get('allow')).toBe('GET, HEAD, PUT, DELETE');
    const del = await call('DELETE', USERS);
    expect(del.headers.get('allow')).toBe('GET, HEAD, POST');
    for (const path of ['/api/v1/teams', '/api/v1/users/a/b', '/api/v1/users/', '/api/v1/']) expectProblem(await call('GET', path), 404, 'NOT_FOUND');
    expectProblem(await call('GET', USERS, { headers: { accept: 'text/html' } }), 406, 'NOT_ACCEPTABLE');
    expect((await call('GET', USERS, { headers: { accept: 'application/problem+json, application/json' } })).status).toBe(200);
    // Outside the prefix, exactly as written: not REST, the server's plain 404.
    for (const path of ['/api/v1', '/API/v1/users', '/api/v2/users']) expect((await call('GET', path)).status, path).toBe(404);
  });
});

describe('openapi.json', () => {
  it('is checked in as src/rest/openapi.ts builds it (npm run openapi:print)', () => {
    expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(renderOpenApi());
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(JSON.parse(renderOpenApi()));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('is served at /api/v1/openapi.json without a token', async () => {
    const res = await call('GET', '/api/v1/openapi.json', { token: null });
    expect(res.status).toBe(200);
    expect(res.text).toBe(renderOpenApi());
  });
});

describe('REST: the checks of the GraphQL route apply', () => {
  const limited = useTestApp({ RATE_LIMIT_POINTS: '2' });
  it('the rate limit: the third request of a subject is 429 RATE_LIMITED as problem+json, with Retry-After; GraphQL shares the budget', async () => {
    const user = await makeUser(limited);
    const token = await limited.token({ role: 'USER' });
    const get = () => limited.fetch(pathOf(user.gid), { headers: { authorization: `Bearer ${token}` } });
    expect((await get()).status).toBe(200);
    expect((await limited.gql('{ me { id } }', {}, { token })).errors).toBeUndefined();
    const res = await get();
    const text = await res.text();
    const spent: RestResponse = { status: res.status, headers: res.headers, text, body: JSON.parse(text) };
    expectProblem(spent, 429, 'RATE_LIMITED');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(spent.body.retryAfterS).toBeGreaterThan(0);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expectDocumented('GET', USER, spent);
  });

  it('requests are counted in the HTTP metrics under the REST route', async () => {
    const metrics = await (await t.fetch('/metrics')).text();
    expect(metrics).toMatch(/http_requests_total\{[^}]*route="\/api\/v1\/"[^}]*status="201"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/http_requests_total\{method="DELETE",route="\/api\/v1\/",status="204"\} [1-9]/);
  });
});

describe.skipIf(!onPostgres)('REST: the database goes away', () => {
  const down = useTestApp({ DB_CONNECTION_TIMEOUT_MS: '500', DB_IDLE_TIMEOUT_MS: '60000' }, { viaProxy: true });
  it('503 SERVICE_UNAVAILABLE as problem+json, nothing leaked, logged with the request id (as GraphQL)', async () => {
    const user = await makeUser(down);
    const get = () => down.fetch(pathOf(user.gid), { headers: { authorization: `Bearer ${admin}` } });
    down.proxy.cut();
    try {
      const res = await get();
      const text = await res.text();
      const failed: RestResponse = { status: res.status, headers: res.headers, text, body: JSON.parse(text) };
      expectProblem(failed, 503, 'SERVICE_UNAVAILABLE');
      expect(text).not.toMatch(/127\.0\.0\.1|postgres|timeout|ECONN/i);
      expectDocumented('GET', USER, failed);
      const requestId = res.headers.get('x-request-id');
      expect(down.logs.some((l) => l.requestId === requestId && l.msg === 'database unavailable: no connection in time')).toBe(true);
    } finally {
      down.proxy.restore();
    }
    await vi.waitFor(async () => expect((await get()).status).toBe(200), { timeout: 20_000, interval: 200 });
  });
});

describe('REST: writes invalidate the response cache like GraphQL mutations', () => {
  const cached = useTestApp({ RESPONSE_CACHE: 'true' });
  it('a GraphQL read cached before a REST PUT sees the change after it, and a REST GET too', async () => {
    const user = await makeUser(cached);
    const read = () => cached.gql<{ user: { name: string } }>('query ($id: ID!) { user(id: $id) { name } }', { id: user.gid });
    expect((await read()).data?.user.name).toBe('User user');
    expect((await read()).data?.user.name).toBe('User user');
    const bearer = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
    const put = await cached.fetch(pathOf(user.gid), { method: 'PUT', headers: bearer, body: JSON.stringify({ name: 'Changed over REST' }) });
    expect(put.status).toBe(200);
    expect((await read()).data?.user.name).toBe('Changed over REST');
    const get = await cached.fetch(pathOf(user.gid), { headers: bearer });
    expect(((await get.json()) as { name: string }).name).toBe('Changed over REST');
  });
});
