import type { parse, validate } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { useOperationLimits } from '../src/plugins/use-operation-limits.js';
import { schema } from '../src/schema/index.js';

/**
 * useOperationLimits is also the parse and validation cache (app.ts turns Yoga's off): one text is
 * parsed once and one document validated once, while the limits that depend on the variables are
 * still checked on every request, and refusals are as before on a hit as on a miss.
 */

/** Registered after useOperationLimits: counts the calls that reach its parse and validate functions. */
function counting() {
  const calls = { parse: 0, validate: 0 };
  const plugin: Plugin = {
    onParse({ parseFn, setParseFn }) {
      setParseFn(((source, options) => {
        calls.parse++;
        return parseFn(source, options);
      }) as typeof parse);
    },
    onValidate({ validateFn, setValidationFn }) {
      setValidationFn(((...args: Parameters<typeof validate>) => {
        calls.validate++;
        return validateFn(...args);
      }) as typeof validate);
    },
  };
  return { calls, plugin };
}

function server() {
  const { limits } = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) });
  const { calls, plugin } = counting();
  const yoga = createYoga({
    schema,
    parserAndValidationCache: false,
    maskedErrors: false,
    plugins: [useOperationLimits({ ...limits, maxListItems: 100 }), plugin],
  });
  const send = async (query: string, variables?: Record<string, unknown>) => {
    const res = await yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
    return { status: res.status, code: body.errors?.[0]?.extensions?.code, message: body.errors?.[0]?.message, data: body.data };
  };
  return { calls, send };
}

describe('the parse and validation cache of useOperationLimits', () => {
  it('parses and validates a text once, however often it is sent', async () => {
    const { calls, send } = server();
    for (let i = 0; i < 3; i++) expect(await send('{ __typename }')).toMatchObject({ status: 200, data: { __typename: 'Query' } });
    expect(calls).toEqual({ parse: 1, validate: 1 });
    await send('{ __typename  }');
    expect(calls).toEqual({ parse: 2, validate: 2 });
  });

  it('prices a cached document on every request: its variables decide', async () => {
    const { calls, send } = server();
    const query = 'query ($n: Int, $m: Int) { users(first: $n) { edges { node { teams(first: $m) { edges { node { members(first: $m) { totalCount } } } } } } } }';
    // A cost refusal is thrown before execution; a cheap price reaches execution (which has no database here).
    expect((await send(query, { n: 100, m: 100 })).message).toMatch(/^Query cost limit of 20000 exceeded/);
    expect((await send(query, { n: 1, m: 1 })).message ?? '').not.toMatch(/cost limit/);
    expect((await send(query, { n: 100, m: 100 })).message).toMatch(/^Query cost limit of 20000 exceeded/);
    expect(calls).toEqual({ parse: 1, validate: 1 });
  });

  it('keeps validation errors and limit refusals: the same answer on a hit, without validating again', async () => {
    const { calls, send } = server();
    const deep = `{ ${'me { teams(first: 1) { edges { node { members(first: 1) { edges { node { '.repeat(3)}id${' } } } } } } }'.repeat(3)} }`;
    for (const query of ['{ nope }', deep]) {
      const first = await send(query);
      expect(first).toMatchObject({ status: 400, code: 'GRAPHQL_VALIDATION_FAILED' });
      expect(await send(query)).toEqual(first);
    }
    expect(calls).toEqual({ parse: 2, validate: 2 });
  });

  it('keeps parse errors and document-limit refusals by text; a text over the length limit is refused before any lookup', async () => {
    const { calls, send } = server();
    const tooManyTokens = `{ ${'__typename '.repeat(3_001)}}`;
    const tooLong = `{ __typename }${' '.repeat(50_000)}`;
    for (const query of ['{ unclosed', tooManyTokens]) {
      const first = await send(query);
      expect(first.status).toBe(400);
      expect(await send(query)).toEqual(first);
    }
    expect(calls.parse).toBe(2);
    for (let i = 0; i < 2; i++) {
      expect(await send(tooLong)).toMatchObject({ status: 400, code: 'GRAPHQL_VALIDATION_FAILED', message: 'Query length limit of 50000 characters exceeded, found 50014.' });
    }
    expect(calls.parse).toBe(4);
    expect(calls.validate).toBe(0);
  });

  it('keeps at most a million characters of query text: large documents push older ones out', async () => {
    const { calls, send } = server();
    // ~40,000 characters each, within the length and token limits: 26 of them are more than a million.
    const large = (n: number) => `{ ${`__typename # ${'x'.repeat(1_000)}\n`.repeat(40)} n${n}: __typename }`;
    expect(large(0).length).toBeGreaterThan(40_000);
    expect(await send(large(0))).toMatchObject({ status: 200 });
    expect(await send(large(0))).toMatchObject({ status: 200 });
    expect(calls.parse).toBe(1);
    for (let n = 1; n <= 26; n++) expect(await send(large(n))).toMatchObject({ status: 200 });
    expect(calls.parse).toBe(27);
    // The first one was pushed out by size (far fewer than the 1,024 documents the cache may hold).
    await send(large(0));
    expect(calls.parse).toBe(28);
  });
});
