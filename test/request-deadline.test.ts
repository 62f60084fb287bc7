import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { useErrorStatus } from '../src/plugins/use-error-status.js';
import { RequestSignal, requestSignal, requestTimeoutError, useRequestDeadline, watchedRequests } from '../src/plugins/use-request-deadline.js';

/** The deadline plugin on a tiny schema whose first mutation field outlives the deadline. */
function deadlineApp(timeoutMs: number, slowMs: number) {
  const seen = { sideEffects: 0, slowSawAbort: false };
  const yoga = createYoga({
    schema: createSchema<{ signal: RequestSignal }>({
      typeDefs: 'type Query { ok: Boolean } type Mutation { slow: Boolean  sideEffect: Boolean }',
      resolvers: {
        Mutation: {
          slow: async (_root, _args, ctx) => {
            await new Promise((r) => setTimeout(r, slowMs));
            seen.slowSawAbort = ctx.signal.aborted;
            return true;
          },
          sideEffect: () => {
            seen.sideEffects++;
            return true;
          },
        },
      },
    }),
    context: ({ request }) => ({ signal: requestSignal(request, timeoutMs) }),
    plugins: [useRequestDeadline() as Plugin, useErrorStatus()],
    logging: false,
  });
  const send = (query: string, accept = 'application/json') =>
    yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept },
      body: JSON.stringify({ query }),
    });
  const run = async () => (await send('mutation { slow sideEffect }')).json();
  return { run, send, seen, yoga };
}

describe('RequestSignal', () => {
  it('aborts once, tells its listeners once, and forgets a removed listener', () => {
    const signal = new RequestSignal();
    const heard: string[] = [];
    const removed = () => heard.push('removed');
    signal.addEventListener('abort', () => heard.push('first'));
    signal.addEventListener('abort', removed);
    signal.removeEventListener('abort', removed);
    expect(() => signal.throwIfAborted()).not.toThrow();
    const reason = requestTimeoutError();
    signal.abort(reason);
    signal.abort(new Error('later'));
    expect({ aborted: signal.aborted, reason: signal.reason, heard }).toEqual({ aborted: true, reason, heard: ['first'] });
    expect(() => signal.throwIfAborted()).toThrow(reason);
  });

  it('gives a real AbortSignal that follows it, made before or after the abort', () => {
    const before = new RequestSignal();
    const early = before.asAbortSignal();
    expect(before.asAbortSignal()).toBe(early);
    expect(early.aborted).toBe(false);
    before.abort('gone');
    expect({ aborted: early.aborted, reason: early.reason as unknown }).toEqual({ aborted: true, reason: 'gone' });
    const after = new RequestSignal();
    after.abort('late');
    expect(after.asAbortSignal().reason).toBe('late');
  });
});

describe('the request deadline reaches resolvers', () => {
  it('as an aborted AbortSignal in the context, and the executor starts nothing after it', async () => {
    const app = deadlineApp(100, 300);
    const body = await app.run();
    expect(body.errors?.[0]?.extensions?.code).toBe('REQUEST_TIMEOUT');
    // Let the slow resolver wake up and look at its signal.
    await new Promise((r) => setTimeout(r, 400));
    expect(app.seen.slowSawAbort).toBe(true);
    expect(app.seen.sideEffects).toBe(0);
  });

  it('lets work that fits in the deadline run to the end, and forgets the request once answered', async () => {
    const app = deadlineApp(2_000, 100);
    const body = await app.run();
    expect(body).toEqual({ data: { slow: true, sideEffect: true } });
    expect(app.seen).toEqual({ sideEffects: 1, slowSawAbort: false });
    // One sweep timer watches every request in flight; an answered one leaves nothing behind.
    expect(watchedRequests()).toBe(0);
  });

  it('when the client goes away, within a sweep, and the executor starts nothing after it', async () => {
    const app = deadlineApp(10_000, 300);
    const client = new AbortController();
    const sent = Promise.resolve(
      app.yoga.fetch(
        new Request('http://localhost/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ query: 'mutation { slow sideEffect }' }),
          signal: client.signal,
        }),
      ),
    ).catch(() => undefined);
    setTimeout(() => client.abort(), 50);
    await sent;
    await new Promise((r) => setTimeout(r, 450));
    expect(app.seen.slowSawAbort).toBe(true);
    expect(app.seen.sideEffects).toBe(0);
    expect(watchedRequests()).toBe(0);
  });
});

describe('the HTTP status of a request that timed out', () => {
  it('is 504 for application/graphql-response+json when there is no data, 200 for application/json', async () => {
    const app = deadlineApp(100, 300);
    const strict = await app.send('mutation { slow sideEffect }', 'application/graphql-response+json');
    expect(strict.status).toBe(504);
    const body = await strict.json();
    expect(body.data ?? null).toBeNull();
    expect(body.errors).toEqual([{ message: 'The request took too long and was cancelled.', extensions: { code: 'REQUEST_TIMEOUT' } }]);
    const lenient = await app.send('mutation { slow sideEffect }');
    expect(lenient.status).toBe(200);
    expect((await lenient.json()).errors?.[0]?.extensions).toEqual({ code: 'REQUEST_TIMEOUT' });
  });

  it('stays 200 when part of the data came back', async () => {
    const yoga = createYoga({
      schema: createSchema({
        typeDefs: 'type Query { ok: Boolean  late: Boolean }',
        resolvers: { Query: { ok: () => true, late: () => Promise.reject(requestTimeoutError()) } },
      }),
      plugins: [useErrorStatus()],
      logging: false,
    });
    const res = await yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: '{ ok late }' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ data: { ok: true, late: null }, errors: [{ extensions: { code: 'REQUEST_TIMEOUT' } }] });
  });
});
