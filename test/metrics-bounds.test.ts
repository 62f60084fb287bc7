import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type TestApp, useTestApp } from './helpers/app.js';

/**
 * Bounded metrics: an operation name gets a label value of its own only once an operation of that
 * name passed authentication and validation, names are at most 64 characters (longer ones fold into
 * "other"), at most 100 of them; a flood of random names cannot grow /metrics.
 */

const t = useTestApp();
const prod = useTestApp({ NODE_ENV: 'production', JWT_SECRET: 'a-production-test-secret-of-at-least-32-bytes' });

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_';
const randomName = (length: number) => Array.from({ length }, () => LETTERS[randomInt(LETTERS.length)]).join('');

const post = (app: TestApp, body: object, headers: Record<string, string> = {}, path = '/graphql') =>
  app.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers }, body: JSON.stringify(body) });

const metricsText = async (app: TestApp) => (await app.fetch('/metrics')).text();
/** Every operationName label value in a /metrics body. */
const operationLabels = (text: string) => new Set([...text.matchAll(/operationName="([^"]*)"/g)].map((m) => m[1]!));

describe('operation name labels', () => {
  it('a name gets its label once its operation executed; refused ones and raw operationName parameters do not', async () => {
    const valid = `Valid${randomName(8)}`;
    const invalid = `Invalid${randomName(8)}`;
    const unselected = `Unselected${randomName(8)}`;
    const unauthenticated = `NoToken${randomName(8)}`;
    expect((await post(t, { query: `query ${invalid} { nope }` })).status).toBe(400);
    expect((await post(t, { query: 'query A { __typename }', operationName: unselected })).status).toBe(400);
    expect((await post(t, { query: `query ${unauthenticated} { __typename }` }, { authorization: '' })).status).toBe(401);
    expect((await post(t, { query: `query ${unauthenticated} { __typename }` }, {}, '/graphql/')).status).toBe(404);
    expect((await post(t, { query: `query ${valid} { __typename }` })).status).toBe(200);
    const labels = operationLabels(await metricsText(t));
    expect(labels).toContain(valid);
    for (const name of [invalid, unselected, unauthenticated]) expect(labels).not.toContain(name);
  });

  it('names longer than 64 characters fold into "other", in metrics; logs cut them', async () => {
    // Under GRAPHQL_MAX_QUERY_LENGTH (50,000): the document runs, and its name is still no label.
    const long = `L${randomName(40_000)}`;
    const at64 = `M${randomName(63)}`;
    const before = t.logs.length;
    for (const name of [long, at64]) expect((await post(t, { query: `query ${name} { __typename }` })).status).toBe(200);
    const labels = operationLabels(await metricsText(t));
    expect(labels).toContain(at64);
    expect([...labels].some((l) => l.startsWith('L'))).toBe(false);
    const logged = t.logs.slice(before).flatMap((l) => (l.msg === 'request' && typeof l.operationName === 'string' ? [l.operationName as string] : []));
    expect(logged).toContain(at64);
    expect(Math.max(...logged.map((n) => n.length))).toBeLessThanOrEqual(65);
  });

  it('production without GraphiQL: a browser-looking GET without a token is 401, not executed', async () => {
    const name = `Sneaky${randomName(8)}`;
    const res = await prod.fetch(`/graphql?query=${encodeURIComponent(`query ${name} { __typename }`)}`, {
      headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8', authorization: '' },
    });
    expect(res.status).toBe(401);
    expect(await metricsText(prod)).not.toContain(name);
  });
});

describe('a flood of operation names', () => {
  // A body limit above the default 100 KB, so the 300 KB names reach GraphQL and its metrics.
  const flood = useTestApp({ MAX_BODY_BYTES: '1000000' });

  it('10,000 random names (anonymous, bad token, valid and invalid documents, long names) keep /metrics under 1 MB', async () => {
    const token = await flood.token({ role: 'ADMIN' });
    const kinds = [
      // Authenticated and valid: each new name would be a label; the long ones go first.
      (name: string) => post(flood, { query: `query ${name} { __typename }` }, { authorization: `Bearer ${token}` }),
      (name: string) => post(flood, { query: `query ${name} { nope }` }, { authorization: `Bearer ${token}` }),
      (name: string) => post(flood, { query: 'query Q { __typename }', operationName: name }, { authorization: `Bearer ${token}` }),
      (name: string) => post(flood, { query: `query ${name} { __typename }` }, { authorization: '' }),
      (name: string) => post(flood, { query: `query ${name} { __typename }` }, { authorization: 'Bearer not.a.token' }),
      (name: string) => post(flood, { query: `query ${name} { __typename }` }, { authorization: '' }, '//graphql'),
      (name: string) => flood.fetch(`/graphql?query=${encodeURIComponent(`query ${name} { __typename }`)}`, { headers: { accept: 'text/html, */*', authorization: '' } }),
    ];
    const TOTAL = 10_000;
    const BATCH = 50;
    const statuses = new Map<number, number>();
    for (let start = 0; start < TOTAL; start += BATCH) {
      const batch = Array.from({ length: BATCH }, (_, j) => {
        const i = start + j;
        // The first requests carry the longest names (300 KB, as in the report), then 1 in 10 is 1-4 KB.
        const length = i < 4 ? 300_000 : i % 10 === 0 ? 1_000 + randomInt(3_000) : 1 + randomInt(40);
        return kinds[i % kinds.length]!(`N${randomName(length)}`).then(async (res) => {
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        });
      });
      await Promise.all(batch);
    }
    // Every kind was exercised: executed, refused by validation, unauthenticated, not a route.
    expect([...statuses.keys()].sort()).toEqual([200, 400, 401, 404]);
    const text = await metricsText(flood);
    expect(text.length).toBeLessThan(1_000_000);
    const labels = operationLabels(text);
    expect(labels.size).toBeLessThanOrEqual(103); // 100 names, "other", "anonymous" and "Q"
    for (const label of labels) expect(label.length).toBeLessThanOrEqual(64);
  }, 300_000);
});
