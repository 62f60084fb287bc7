import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { type TestApp, useTestApp } from './helpers/app.js';

/**
 * CORS on purpose: no cross-origin access unless CORS_ORIGINS lists the origin; a listed origin is
 * echoed with `Vary: Origin`, never `*`, and never with credentials.
 */

const APP = 'https://app.example.com';
const ADMIN = 'https://admin.example.com:8443';
const EVIL = 'https://evil.example';

const closed = useTestApp();
const listed = useTestApp({ CORS_ORIGINS: `${APP}, ${ADMIN}` });
const anyOrigin = useTestApp({ CORS_ORIGINS: '*' });

const query = (app: TestApp, origin: string) =>
  app.fetch('/graphql', { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
const preflight = (app: TestApp, origin: string) =>
  app.fetch('/graphql', {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });

const corsHeaders = (res: Response) => [...res.headers.keys()].filter((h) => h.startsWith('access-control-'));

async function expectRefusedPreflight(res: Response) {
  expect(res.status).toBe(403);
  expect(corsHeaders(res)).toEqual([]);
  expect(await res.json()).toMatchObject({ errors: [{ extensions: { code: 'CORS_ORIGIN_NOT_ALLOWED' } }] });
}

describe('CORS_ORIGINS unset (the default): no cross-origin access', () => {
  it.each([[APP], [EVIL], ['null']])('a request from %s gets no CORS headers at all', async (origin) => {
    const res = await query(closed, origin);
    expect(res.status).toBe(200);
    expect(corsHeaders(res)).toEqual([]);
  });

  it.each([[APP], [EVIL]])('a preflight from %s is refused, without Access-Control-Allow-Origin', async (origin) => {
    await expectRefusedPreflight(await preflight(closed, origin));
  });
});

describe('CORS_ORIGINS lists origins', () => {
  it.each([[APP], [ADMIN]])('%s is echoed with Vary: Origin, no credentials', async (origin) => {
    const res = await query(listed, origin);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('access-control-expose-headers')).toContain('x-request-id');
  });

  it('a preflight from a listed origin is answered with what a page may send', async () => {
    const res = await preflight(listed, APP);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST');
    expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
  });

  it.each([[EVIL], ['null'], [`${APP}.evil.example`], ['http://app.example.com'], [`${APP}/`]])('%s is not listed: no CORS headers, preflight refused', async (origin) => {
    const res = await query(listed, origin);
    expect(corsHeaders(res)).toEqual([]);
    expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
    await expectRefusedPreflight(await preflight(listed, origin));
  });

  it('a preflight on a path that is not a route is a 404, even from a listed origin', async () => {
    const res = await listed.fetch('/graphql/', { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'POST' } });
    expect(res.status).toBe(404);
  });
});

describe('CORS_ORIGINS=*', () => {
  it('echoes any origin, never with credentials', async () => {
    const res = await query(anyOrigin, EVIL);
    expect(res.headers.get('access-control-allow-origin')).toBe(EVIL);
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect((await preflight(anyOrigin, EVIL)).status).toBe(204);
  });
});

describe('CORS_ORIGINS is validated', () => {
  it.each([['https://app.example.com/'], ['app.example.com'], ['https://app.example.com/path'], ['*, https://app.example.com'], ['null'], ['ftp://files.example.com']])(
    '%j is refused at start-up',
    (value) => {
      expect(() => loadConfig({ NODE_ENV: 'test', CORS_ORIGINS: value })).toThrow(ConfigError);
    },
  );

  it('a list is read, trimmed', () => {
    expect(loadConfig({ NODE_ENV: 'test', CORS_ORIGINS: ` ${APP} ,${ADMIN}` }).http.corsOrigins).toEqual([APP, ADMIN]);
    expect(loadConfig({ NODE_ENV: 'test' }).http.corsOrigins).toEqual([]);
  });
});
