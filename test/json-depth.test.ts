import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../src/request-body.js';
import { useTestApp } from './helpers/app.js';

/**
 * JSON nesting is bounded (MAX_JSON_DEPTH, 64) in POST bodies, in GET `variables`/`extensions` and in
 * REST bodies. JSON.parse takes any depth, but recursive code after it does not: variables nested
 * 40,000 deep (80 KB, under the body limit) overflowed the stack of the response cache's key builder and
 * answered 500 INTERNAL_SERVER_ERROR. Now a 400 BAD_REQUEST that names the limit, before anything runs.
 */

const nested = (depth: number, leaf = '"x"') => '['.repeat(depth) + leaf + ']'.repeat(depth);
const NODES = 'query ($ids: [ID!]!) { nodes(ids: $ids) { id } }';

describe('nestedDeeperThan', () => {
  it('measures arrays and objects, at any depth without recursion', () => {
    expect(nestedDeeperThan('x', 0)).toBe(false);
    expect(nestedDeeperThan({ a: [1, { b: 2 }] }, 3)).toBe(false);
    expect(nestedDeeperThan({ a: [1, { b: 2 }] }, 2)).toBe(true);
    expect(nestedDeeperThan(JSON.parse(nested(200_000)), 64)).toBe(true);
    expect(nestedDeeperThan(JSON.parse(nested(64)), 64)).toBe(false);
    expect(nestedDeeperThan(JSON.parse(nested(65)), 64)).toBe(true);
  });
});

describe('deeply nested JSON', () => {
  const t = useTestApp();

  async function post(path: string, body: string) {
    const response = await t.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' }, body });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  }

  it('POST variables 40,000 levels deep: 400 BAD_REQUEST, not a 500', async () => {
    const { status, body } = await post('/graphql', `{"query":${JSON.stringify(NODES)},"variables":{"ids":${nested(40_000)}}}`);
    expect(status).toBe(400);
    expect(body.errors).toEqual([expect.objectContaining({ message: `JSON nested deeper than ${MAX_JSON_DEPTH} levels.`, extensions: { code: 'BAD_REQUEST' } })]);
  });

  it('POST variables of an unknown name and extensions, deep: 400 as well', async () => {
    for (const body of [`{"query":"{ __typename }","variables":{"zzz":${nested(5_000)}}}`, `{"query":"{ __typename }","extensions":{"x":${nested(5_000)}}}`]) {
      const answer = await post('/graphql', body);
      expect([answer.status, answer.body.errors?.[0]?.extensions?.code]).toEqual([400, 'BAD_REQUEST']);
    }
  });

  it('at the limit the request is GraphQL’s to judge (a variable error, not a depth refusal)', async () => {
    // The body itself is one level, variables another, so 62 more levels make 64.
    const { status, body } = await post('/graphql', `{"query":${JSON.stringify(NODES)},"variables":{"ids":${nested(MAX_JSON_DEPTH - 2)}}}`);
    expect(body.errors?.[0]?.message).not.toContain('nested deeper');
    expect(body.errors?.[0]?.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
    expect(status).toBeLessThan(500);
  });

  it('GET variables deep: 400 BAD_REQUEST', async () => {
    const query = new URLSearchParams({ query: NODES, variables: `{"ids":${nested(3_000)}}` });
    const response = await t.fetch(`/graphql?${query}`, { headers: { accept: 'application/graphql-response+json' } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).errors[0]).toMatchObject({ message: `JSON nested deeper than ${MAX_JSON_DEPTH} levels.`, extensions: { code: 'BAD_REQUEST' } });
  });

  it('a REST body deep: 400 problem', async () => {
    const authorization = `Bearer ${await t.token({ role: 'ADMIN' })}`;
    const response = await t.fetch('/api/v1/users', { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: `{"email":${nested(40_000)}}` });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain(`JSON nested deeper than ${MAX_JSON_DEPTH} levels.`);
  });
});
