// GraphiQL as a developer meets it: served entirely by this server (offline, CSP 'self'), and in
// development signed in as the development admin. The browser part drives Debian's Chromium through
// puppeteer-core (.ci/run installs it); without a Chromium it is skipped, saying so.
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVELOPMENT_ADMIN } from '../src/dev-admin.js';
import { useTestApp } from './helpers/app.js';
import { type ServerProcess, spawnServer, stopServer, waitForPort } from './helpers/process.js';

const PROCESS_TIMEOUT = 240_000;

/** The Authorization value a GraphiQL page carries, if any. */
async function pageToken(fetch: (path: string, init?: RequestInit) => Promise<Response>): Promise<string | undefined> {
  const res = await fetch('/graphql', { headers: { accept: 'text/html', authorization: '' } });
  expect(res.status).toBe(200);
  const html = await res.text();
  // Only a JSON data block and external scripts: nothing inline to execute.
  const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]!.trim());
  expect(scripts).toEqual(['type="application/json" id="graphiql-options"', 'src="/graphiql/app.js"']);
  const options = JSON.parse(/<script type="application\/json" id="graphiql-options">([^<]*)<\/script>/.exec(html)![1]!);
  return options.additionalHeaders?.Authorization;
}

const claims = (bearer: string) => JSON.parse(Buffer.from(bearer.replace(/^Bearer /, '').split('.')[1]!, 'base64url').toString());

describe('the GraphiQL page in development, with the development secret', () => {
  const t = useTestApp({ NODE_ENV: 'development' });
  it('opens signed in: a fresh short-lived ADMIN token for the development admin, in its headers', async () => {
    const bearer = await pageToken(t.fetch);
    expect(bearer).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    const { sub, role, iat, exp } = claims(bearer!);
    expect({ sub, role }).toEqual({ sub: DEVELOPMENT_ADMIN.id, role: 'ADMIN' });
    expect(exp - iat).toBe(3600);
    const me = await t.gql('{ me { id } }', {}, { token: bearer!.slice('Bearer '.length) });
    expect(me.errors).toBeUndefined();
  });
});

describe('the GraphiQL page never carries a token', () => {
  const withSecret = useTestApp({ NODE_ENV: 'development', JWT_SECRET: 'a-real-secret-that-is-at-least-32-bytes' });
  const inTests = useTestApp({ NODE_ENV: 'test' });
  const inProduction = useTestApp({ NODE_ENV: 'production', GRAPHIQL: 'true', JWT_SECRET: 'a-real-secret-that-is-at-least-32-bytes' });
  it('with a real JWT_SECRET, outside development, or in production', async () => {
    expect(await pageToken(withSecret.fetch)).toBeUndefined();
    expect(await pageToken(inTests.fetch)).toBeUndefined();
    expect(await pageToken(inProduction.fetch)).toBeUndefined();
  });
});

const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const browserSuite = chromium ? 'GraphiQL in Chromium' : 'GraphiQL in Chromium (SKIPPED: no Chromium at /usr/bin/chromium; apt-get install chromium)';
if (!chromium) process.stderr.write(`test/graphiql.test.ts: ${browserSuite}\n`);

describe.skipIf(!chromium)(browserSuite, () => {
  let server: ServerProcess;
  let port: number;
  let browser: Browser;
  let page: Page;
  /** Requests to anywhere but this machine (all refused: the page must not need them). */
  const offsite: string[] = [];
  const requested: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    server = spawnServer({ NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', EMBEDDED_DATA_DIR: 'memory://' });
    port = await waitForPort(server);
    browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage();
    await page.setViewport({ width: 1600, height: 1000 });
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (!url.protocol.startsWith('http')) return void request.continue();
      if (url.hostname !== '127.0.0.1') {
        offsite.push(request.url());
        return void request.abort('internetdisconnected');
      }
      requested.push(url.pathname);
      return void request.continue();
    });
    const report = (where: string) => (message: { type(): string; text(): string }) => {
      if (message.type() === 'error' || /Content.Security.Policy/i.test(message.text())) problems.push(`${where}: ${message.text()}`);
    };
    page.on('console', report('console'));
    page.on('pageerror', (error) => problems.push(`page error: ${String(error)}`));
    page.on('workercreated', (worker) => worker.on('console', report('worker')));
    await page.evaluateOnNewDocument(() => {
      // eslint-disable-next-line no-console -- runs in the page; the console listener above collects it
      document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
  }, PROCESS_TIMEOUT);

  afterAll(async () => {
    await browser?.close();
    if (server) await stopServer(server, 'SIGKILL');
  });

  it('loads offline from this server alone, under its CSP, without a violation or an error', { timeout: PROCESS_TIMEOUT }, async () => {
    const response = await page.goto(`http://127.0.0.1:${port}/graphql`, { waitUntil: 'load', timeout: 120_000 });
    expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self';/);
    await page.waitForSelector('.graphiql-container', { timeout: 120_000 });
    // Monaco starts its workers as the editors mount: from this server, as plain scripts.
    await expect.poll(() => requested.filter((p) => p.endsWith('.worker.js')).length, { timeout: 60_000 }).toBeGreaterThan(0);
    expect(offsite).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('has the schema at once: the docs list the root types, with no "Error fetching schema"', { timeout: PROCESS_TIMEOUT }, async () => {
    await page.click('[aria-label="Show Documentation Explorer"]');
    await page.waitForFunction(() => document.querySelector('.graphiql-doc-explorer')?.textContent?.includes('query: Query'), { timeout: 60_000 });
    const docs = await page.$eval('.graphiql-doc-explorer', (e) => e.textContent ?? '');
    expect(docs).toContain('mutation: Mutation');
    expect(await page.evaluate(() => document.body.textContent ?? '')).not.toContain('Error fetching schema');
  });

  it('runs the query it opens with, as the development admin, and shows the result', { timeout: PROCESS_TIMEOUT }, async () => {
    await page.click('.graphiql-execute-button');
    const compact = () => page.$eval('.graphiql-response', (e) => (e.textContent ?? '').replace(/\s+/g, ''));
    await page.waitForFunction(() => /"email":"/.test((document.querySelector('.graphiql-response')?.textContent ?? '').replace(/\s+/g, '')), {
      timeout: 60_000,
    });
    const result = await compact();
    expect(result).toContain(`"me":{"email":"${DEVELOPMENT_ADMIN.email}","role":"ADMIN"}`);
    expect(result).toContain('"totalCount":26');
    expect(result).not.toContain('errors');
    expect(offsite).toEqual([]);
    expect(problems).toEqual([]);
  });
});
