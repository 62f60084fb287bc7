// The REST API's documentation page: Swagger UI served by this server from the swagger-ui-dist package
// (no CDN), over /api/v1/openapi.json, under the strict CSP. The browser part drives Debian's Chromium
// through puppeteer-core; without a Chromium it is skipped, saying so.
import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, describe, expect, it } from 'vitest';
import { useTestApp } from './helpers/app.js';
import { useListeningApp } from './helpers/http.js';

const t = useTestApp();
const DOCS = '/api/v1/docs/';

describe('the REST docs page', () => {
  it('is HTML without inline scripts or other origins, public, under a CSP of this server only', async () => {
    const res = await t.fetch(DOCS);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toMatch(/script-src 'self';/);
    expect(csp).toContain("connect-src 'self'");
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//);
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]!.trim());
    expect(scripts).toEqual([`src="${DOCS}swagger-ui-bundle.js"`, `src="${DOCS}start.js"`]);
    for (const file of ['swagger-ui-bundle.js', 'swagger-ui.css', 'start.js']) {
      const asset = await t.fetch(`${DOCS}${file}`);
      expect(asset.status, file).toBe(200);
      const etag = asset.headers.get('etag')!;
      expect((await t.fetch(`${DOCS}${file}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    }
    expect(await (await t.fetch(`${DOCS}start.js`)).text()).toContain('"/api/v1/openapi.json"');
  });

  it('answers GET and HEAD only, and 404 for files it does not have', async () => {
    const post = await t.fetch(DOCS, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await t.fetch(`${DOCS}index.html`)).status).toBe(404);
    expect((await t.fetch('/api/v1/docs')).status).toBe(401);
  });
});

const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const browserSuite = chromium ? 'the REST docs page in Chromium' : 'the REST docs page in Chromium (SKIPPED: no Chromium at /usr/bin/chromium)';
if (!chromium) process.stderr.write(`test/rest-docs.test.ts: ${browserSuite}\n`);

describe.skipIf(!chromium)(browserSuite, () => {
  const server = useListeningApp(t);
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  it('renders every operation of openapi.json from this server alone, without a CSP violation or an error', { timeout: 120_000 }, async () => {
    browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    const page = await browser.newPage();
    const offsite: string[] = [];
    const problems: string[] = [];
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.protocol.startsWith('http') && url.hostname !== '127.0.0.1') {
        offsite.push(request.url());
        return void request.abort('internetdisconnected');
      }
      return void request.continue();
    });
    page.on('console', (message) => {
      if (message.type() === 'error' || /Content.Security.Policy/i.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(`page error: ${String(error)}`));
    await page.evaluateOnNewDocument(() => {
      // eslint-disable-next-line no-console -- runs in the page; the console listener above collects it
      document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
    await page.goto(`http://127.0.0.1:${server.port()}${DOCS}`, { waitUntil: 'load', timeout: 60_000 });
    await page.waitForFunction(() => document.querySelectorAll('.opblock').length >= 5, { timeout: 60_000 });
    const operations = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.textContent?.replace(/\u200b/g, '')));
    expect(operations).toEqual(['/api/v1/users', '/api/v1/users', '/api/v1/users/{id}', '/api/v1/users/{id}', '/api/v1/users/{id}']);
    expect(offsite).toEqual([]);
    expect(problems).toEqual([]);
  });
});
