import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestApp } from './helpers/app.js';
import { rawRequest, useListeningApp } from './helpers/http.js';

/**
 * One GraphQL route: every path Yoga would answer as GraphQL either is `/graphql` and gets every
 * check (no token → 401, a form body → 415, the rate limit), or it is a 404 with a JSON body. Sent
 * over a real socket, byte for byte, as a hostile client would.
 */

const POINTS = 3;
const t = useTestApp();
const server = useListeningApp(t);
const limited = useTestApp({ RATE_LIMIT_POINTS: String(POINTS) });
const limitedServer = useListeningApp(limited);

const QUERY = JSON.stringify({ query: 'query Probe { __typename }' });
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };

/** Paths that ARE the route once URL parsing is done (query string, dot segments, fragment). */
const CANONICAL = ['/graphql', '/graphql?x=1', '/graphql?x=/graphql/', '/./graphql', '/a/../graphql', '/graphql#fragment', '/graphql?x=/_yoga/health'];

/** Paths Yoga 5.24 answers as GraphQL (or GraphiQL) without being the route, and lookalikes. */
const NOT_THE_ROUTE = [
  '/graphql/',
  '//graphql',
  '/graphql/.',
  '/graphql/%2e',
  '/graphql//',
  '/graphql/?x=1',
  '/GRAPHQL',
  '/Graphql',
  '/graphql;x',
  '/graphql%2F',
  '/%67raphql',
  '/graphql%20',
  '/x/graphql',
  '/nope?/graphql',
  '/nope?x=/graphql/',
  '/health/graphql',
  '/_yoga/health',
  '/graphiql',
];

const expectNotFound = (res: { status: number; headers: Record<string, unknown>; body: string }) => {
  expect(res.status).toBe(404);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(JSON.parse(res.body)).toEqual({ errors: [{ message: 'Not found.', extensions: { code: 'NOT_FOUND' } }] });
};

describe('routes', () => {
  describe.each(CANONICAL)('%s is the GraphQL route and gets every check', (path) => {
    it('no token → 401', async () => {
      const res = await rawRequest(server.port(), 'POST', path, JSON_HEADERS, QUERY);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    });

    it('a form body, even with a valid token → 415', async () => {
      const res = await rawRequest(
        server.port(),
        'POST',
        path,
        { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${await t.token()}` },
        'query=%7B__typename%7D',
      );
      expect(res.status).toBe(415);
    });

    it('a valid token → 200, and the rate limit counts it', async () => {
      const authorization = `Bearer ${await limited.token({ sub: randomUUID() })}`;
      for (let i = 0; i < POINTS; i++) expect((await rawRequest(limitedServer.port(), 'POST', path, { ...JSON_HEADERS, authorization }, QUERY)).status).toBe(200);
      const spent = await rawRequest(limitedServer.port(), 'POST', '/graphql', { ...JSON_HEADERS, authorization }, QUERY);
      expect(spent.status).toBe(429);
    });
  });

  describe.each(NOT_THE_ROUTE)('%s is not a route: 404 with a JSON body, whatever the method or token', (path) => {
    it.each([
      ['POST JSON, no token', 'POST', JSON_HEADERS, QUERY],
      ['POST JSON, valid token', 'POST', JSON_HEADERS, QUERY],
      ['GET query, valid token', 'GET', { accept: 'application/json' }, undefined],
      ['GET as a browser (GraphiQL)', 'GET', { accept: 'text/html' }, undefined],
      ['POST form, no token', 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, 'query=%7B__typename%7D'],
    ] as const)('%s', async (name, method, headers, body) => {
      const withToken: Record<string, string> = name.includes('valid token') ? { authorization: `Bearer ${await t.token({ role: 'ADMIN' })}` } : {};
      const target = method === 'GET' && !path.includes('?') ? `${path}?query=${encodeURIComponent('query Probe { __typename }')}` : path;
      expectNotFound(await rawRequest(server.port(), method, target, { ...headers, ...withToken }, body));
    });
  });

  it('/metrics?/graphql is /metrics, which serves no GraphQL: POST is 405', async () => {
    const res = await rawRequest(server.port(), 'POST', '/metrics?/graphql', { ...JSON_HEADERS, authorization: `Bearer ${await t.token()}` }, QUERY);
    expect(res.status).toBe(405);
    expect(JSON.parse(res.body).errors[0].extensions.code).toBe('METHOD_NOT_ALLOWED');
    expect(res.headers.allow).toBe('GET, HEAD');
  });

  it('the probes answer on their exact paths only', async () => {
    for (const path of ['/health', '/metrics']) expect((await rawRequest(server.port(), 'GET', path)).status).toBe(200);
    // Readiness may say 503 on a loaded machine (its database ping has a deadline); it is not a 404.
    expect(JSON.parse((await rawRequest(server.port(), 'GET', '/ready')).body).status).toMatch(/^(ready|not_ready)$/);
    for (const path of ['/health/', '/HEALTH', '//ready', '/metrics/', '/metrics%2F']) expectNotFound(await rawRequest(server.port(), 'GET', path));
  });

  it('nothing was executed for a path that is not the route', () => {
    const executed = [...t.logs, ...limited.logs].filter((l) => l.msg === 'request' && l.operationName === 'Probe').map((l) => l.path);
    expect(executed.length).toBeGreaterThan(0);
    expect(new Set(executed)).toEqual(new Set(['/graphql']));
  });
});

describe('with METRICS_PORT set', () => {
  const m = useTestApp({ METRICS_PORT: '19464' });
  it('/metrics on the main listener is a JSON 404', async () => {
    const res = await m.fetch('/metrics');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ errors: [{ message: 'Not found.', extensions: { code: 'NOT_FOUND' } }] });
  });
});
