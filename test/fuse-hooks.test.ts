import type { ExecutionResult } from 'graphql';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { fuseHooks } from '../src/plugins/fuse-hooks.js';

type Trace = string[];

/**
 * Four plugins that record every hook call, with what it saw, into `trace`; `behaviour` adds the
 * effects under test (ending the request, replacing the result or the response, going async).
 */
function recordingPlugins(trace: Trace, behaviour: { endAt?: number; asyncAt?: number; rejectAt?: number; setResultAt?: number; setResponseAt?: number } = {}): Plugin[] {
  return [0, 1, 2, 3].map((n) => ({
    onRequest({ request, endResponse, fetchAPI, url }) {
      trace.push(`request ${n} ${url.pathname} ${request.headers.get('x-test') ?? ''}`);
      if (behaviour.endAt === n) endResponse(fetchAPI.Response.json({ ended: n }, { status: 418 }));
      if (behaviour.rejectAt === n) return Promise.reject(new Error(`hook ${n} failed`));
      if (behaviour.asyncAt === n)
        return new Promise<void>((resolve) =>
          setTimeout(() => {
            trace.push(`request ${n} resolved`);
            resolve();
          }, 5),
        );
      return undefined;
    },
    onExecute() {
      trace.push(`execute ${n}`);
    },
    onResultProcess({ result, setResult }) {
      const data = (result as ExecutionResult).data as Record<string, unknown> | undefined;
      trace.push(`result ${n} ${JSON.stringify(data)}`);
      if (behaviour.setResultAt === n) setResult({ data: { hello: `set by ${n}` } });
    },
    onResponse({ response, setResponse, fetchAPI }) {
      trace.push(`response ${n} ${response.status} ${response.headers.get('x-by') ?? ''}`);
      if (behaviour.setResponseAt === n) setResponse(new fetchAPI.Response('{"replaced":true}', { status: 202, headers: { 'x-by': String(n) } }));
      else response.headers.set(`x-seen-${n}`, '1');
    },
  }));
}

async function run(fused: boolean, behaviour: Parameters<typeof recordingPlugins>[1] = {}) {
  const trace: Trace = [];
  const plugins = recordingPlugins(trace, behaviour);
  const yoga = createYoga({
    schema: createSchema({ typeDefs: 'type Query { hello: String }', resolvers: { Query: { hello: () => 'world' } } }),
    plugins: fused ? fuseHooks(plugins) : plugins,
    logging: false,
    maskedErrors: true,
  });
  // yoga.fetch rejects when a hook does (the node:http listener turns that into a 500).
  const response = await Promise.resolve()
    .then(() =>
      yoga.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-test': 'yes' },
        body: JSON.stringify({ query: '{ hello }' }),
      }),
    )
    .catch((error: unknown) => new Response(`threw: ${(error as Error).message}`, { status: 599 }));
  const headers = [...response.headers].filter(([name]) => name.startsWith('x-')).sort();
  return { trace, status: response.status, body: await response.text(), headers };
}

describe('fuseHooks', () => {
  it('calls every onRequest, onResultProcess and onResponse in plugin order, each seeing the request, and keeps the other hooks', async () => {
    const fused = await run(true);
    expect(fused.trace).toEqual([
      'request 0 /graphql yes',
      'request 1 /graphql yes',
      'request 2 /graphql yes',
      'request 3 /graphql yes',
      'execute 0',
      'execute 1',
      'execute 2',
      'execute 3',
      'result 0 {"hello":"world"}',
      'result 1 {"hello":"world"}',
      'result 2 {"hello":"world"}',
      'result 3 {"hello":"world"}',
      'response 0 200 ',
      'response 1 200 ',
      'response 2 200 ',
      'response 3 200 ',
    ]);
    expect(fused.headers.map(([name]) => name)).toEqual(['x-seen-0', 'x-seen-1', 'x-seen-2', 'x-seen-3']);
    expect(fused).toEqual(await run(false));
  });

  it('endResponse ends the onRequest chain: the later onRequest hooks do not run, every onResponse does', async () => {
    const fused = await run(true, { endAt: 1 });
    expect(fused.trace).toEqual(['request 0 /graphql yes', 'request 1 /graphql yes', 'response 0 418 ', 'response 1 418 ', 'response 2 418 ', 'response 3 418 ']);
    expect(fused.status).toBe(418);
    expect(fused.body).toBe('{"ended":1}');
    expect(fused).toEqual(await run(false, { endAt: 1 }));
  });

  it('a hook that returns a promise holds the later ones until it settles', async () => {
    const fused = await run(true, { asyncAt: 1 });
    expect(fused.trace.slice(0, 5)).toEqual(['request 0 /graphql yes', 'request 1 /graphql yes', 'request 1 resolved', 'request 2 /graphql yes', 'request 3 /graphql yes']);
    expect(fused).toEqual(await run(false, { asyncAt: 1 }));
  });

  it('a rejected promise ends the request with that rejection, as unfused', async () => {
    const fused = await run(true, { rejectAt: 2 });
    expect(fused.trace).toEqual(['request 0 /graphql yes', 'request 1 /graphql yes', 'request 2 /graphql yes']);
    expect(fused.body).toBe('threw: hook 2 failed');
    expect(fused).toEqual(await run(false, { rejectAt: 2 }));
  });

  it('a later hook sees the result and the response an earlier one set', async () => {
    const fused = await run(true, { setResultAt: 1, setResponseAt: 2 });
    expect(fused.trace).toContain('result 2 {"hello":"set by 1"}');
    expect(fused.trace).toContain('response 3 202 2');
    expect(fused.status).toBe(202);
    expect(fused.body).toBe('{"replaced":true}');
    // The response set by hook 2 is the one hook 3 marked; the marks of 0 and 1 were on the one replaced.
    expect(fused.headers).toEqual([
      ['x-by', '2'],
      ['x-seen-3', '1'],
    ]);
    expect(fused).toEqual(await run(false, { setResultAt: 1, setResponseAt: 2 }));
  });

  it('leaves out plugins that had only fused hooks, and fuses nothing when no plugin has them', () => {
    const only: Plugin = { onResponse: () => undefined };
    const other: Plugin = { onExecute: () => undefined, onResponse: () => undefined };
    const [fused, ...rest] = fuseHooks([only, other]);
    expect(Object.keys(fused!)).toEqual(['onResponse']);
    expect(rest).toHaveLength(1);
    expect(Object.keys(rest[0]!)).toEqual(['onExecute']);
    expect(fuseHooks([{ onExecute: () => undefined }])[0]).toEqual({});
  });
});
