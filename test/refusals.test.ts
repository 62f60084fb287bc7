import { describe, expect, it } from 'vitest';
import { type TestApp, useTestApp } from './helpers/app.js';

/**
 * Every refusal the service answers carries a JSON body `{"errors":[{"message","extensions":{"code"}}]}`
 * with a JSON content type, and leaks nothing; client mistakes are 4xx, never 500. Media types are
 * read as RFC 9110 defines them.
 */

const t = useTestApp();
const limited = useTestApp({ RATE_LIMIT_POINTS: '1' });

const QUERY = JSON.stringify({ query: '{ __typename }' });
const post = (app: TestApp, headers: Record<string, string>, body: string = QUERY, path = '/graphql') =>
  app.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers }, body });
const get = (params: Record<string, string>, headers: Record<string, string> = {}) =>
  t.fetch(`/graphql?${new URLSearchParams(params)}`, { headers: { accept: 'application/graphql-response+json', ...headers } });

interface Row {
  name: string;
  send: () => Promise<Response>;
  status: number;
  code: string;
  headers?: Record<string, string | RegExp>;
}

const rows: Row[] = [
  { name: 'an unknown path', send: () => t.fetch('/nope'), status: 404, code: 'NOT_FOUND' },
  { name: 'a GraphQL path variant', send: () => post(t, {}, QUERY, '/graphql/'), status: 404, code: 'NOT_FOUND' },
  { name: 'POST /health', send: () => t.fetch('/health', { method: 'POST' }), status: 405, code: 'METHOD_NOT_ALLOWED', headers: { allow: 'GET, HEAD' } },
  { name: 'DELETE /ready', send: () => t.fetch('/ready', { method: 'DELETE' }), status: 405, code: 'METHOD_NOT_ALLOWED', headers: { allow: 'GET, HEAD' } },
  { name: 'POST /metrics', send: () => t.fetch('/metrics', { method: 'POST' }), status: 405, code: 'METHOD_NOT_ALLOWED', headers: { allow: 'GET, HEAD' } },
  {
    name: 'PUT /graphql',
    send: () => t.fetch('/graphql', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: QUERY }),
    status: 405,
    code: 'BAD_REQUEST',
    headers: { allow: 'GET, POST' },
  },
  {
    name: 'a preflight without CORS',
    send: () => t.fetch('/graphql', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } }),
    status: 403,
    code: 'CORS_ORIGIN_NOT_ALLOWED',
  },
  { name: 'no token', send: () => post(t, { authorization: '' }), status: 401, code: 'UNAUTHENTICATED', headers: { 'www-authenticate': 'Bearer realm="user-api-gateway"' } },
  { name: 'a bad token', send: () => post(t, { authorization: 'Bearer a.b.c' }), status: 401, code: 'UNAUTHENTICATED', headers: { 'www-authenticate': /error="invalid_token"/ } },
  { name: 'an unacceptable Accept', send: () => post(t, { accept: 'text/xml' }), status: 406, code: 'NOT_ACCEPTABLE' },
  { name: 'Accept: JSON in another charset only', send: () => post(t, { accept: 'application/json; charset=iso-8859-1' }), status: 406, code: 'NOT_ACCEPTABLE' },
  {
    name: 'a body over MAX_BODY_BYTES',
    send: () => post(t, {}, JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(1_100_000) } })),
    status: 413,
    code: 'REQUEST_ENTITY_TOO_LARGE',
  },
  { name: 'a text/plain body', send: () => post(t, { 'content-type': 'text/plain' }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'JSON in another charset', send: () => post(t, { 'content-type': 'application/json; charset=iso-8859-1' }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'a malformed Content-Type', send: () => post(t, { 'content-type': ';;;' }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  {
    name: 'a spent rate limit',
    send: async () => {
      const token = await limited.token();
      await post(limited, { authorization: `Bearer ${token}` });
      return post(limited, { authorization: `Bearer ${token}` });
    },
    status: 429,
    code: 'RATE_LIMITED',
    headers: { 'retry-after': /^\d+$/ },
  },
  { name: 'malformed JSON (POST)', send: () => post(t, {}, '{"query": '), status: 400, code: 'BAD_REQUEST' },
  { name: 'malformed JSON (POST as Application/JSON)', send: () => post(t, { 'content-type': 'Application/JSON' }, '{"query": '), status: 400, code: 'BAD_REQUEST' },
  { name: 'a JSON string body (POST as Application/JSON)', send: () => post(t, { 'content-type': 'Application/JSON' }, '"{ __typename }"'), status: 400, code: 'BAD_REQUEST' },
  { name: 'malformed JSON in GET variables', send: () => get({ query: '{ __typename }', variables: '{"a":' }), status: 400, code: 'BAD_REQUEST' },
  { name: 'malformed JSON in GET extensions', send: () => get({ query: '{ __typename }', extensions: '{nope}' }), status: 400, code: 'BAD_REQUEST' },
  { name: 'GET variables that are not an object', send: () => get({ query: '{ __typename }', variables: '[1]' }), status: 400, code: 'BAD_REQUEST' },
];

const LEAKS = /stack|\bat \w+ \(|node_modules|prisma|postgres|pglite|SELECT|127\.0\.0\.1|localhost|SyntaxError/i;

describe('every refusal is JSON with a code', () => {
  it.each(rows)('$name → $status $code', async (row) => {
    const res = await row.send();
    expect(res.status).toBe(row.status);
    expect(res.headers.get('content-type')).toMatch(/^application\/(graphql-response\+)?json/);
    const text = await res.text();
    const body = JSON.parse(text) as { data?: unknown; errors: { message: unknown; extensions: { code: unknown } }[] };
    expect(body.data ?? null).toBeNull();
    expect(body.errors.length).toBeGreaterThan(0);
    for (const error of body.errors) expect(error).toMatchObject({ message: expect.any(String), extensions: { code: expect.any(String) } });
    expect(body.errors[0]!.extensions.code).toBe(row.code);
    for (const [name, value] of Object.entries(row.headers ?? {})) expect(res.headers.get(name)).toMatch(value instanceof RegExp ? value : new RegExp(`^${value}$`));
    expect(text).not.toMatch(LEAKS);
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });
});

describe('media types per RFC 9110', () => {
  it.each([
    ['Application/JSON'],
    ['application/json ; charset=utf-8'],
    ['APPLICATION/GRAPHQL+JSON;CHARSET=UTF-8'],
    ['application/json; charset="utf-8"'],
    ['application/json;charset=UTF-8'],
  ])('Content-Type %j is JSON', async (contentType) => {
    const res = await post(t, { 'content-type': contentType });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it.each([['Application/JSON'], ['application/json; charset=utf-8'], ['application/json;q=0.5, text/html'], ['*/*;q=0.1'], ['application/*'], ['text/html, */*;q=0.8']])(
    'Accept %j admits a JSON result',
    async (accept) => {
      const res = await post(t, { accept });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/json/);
    },
  );

  it('GET with well-formed variables and extensions still works', async () => {
    const res = await get({ query: 'query ($n: Int) { users(first: $n) { totalCount } }', variables: '{"n":1}', extensions: '{}' });
    expect(res.status).toBe(200);
    expect((await res.json()).data.users.totalCount).toEqual(expect.any(Number));
  });
});
