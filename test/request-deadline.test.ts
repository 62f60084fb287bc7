import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { requestSignal, useRequestDeadline } from '../src/plugins/use-request-deadline.js';

/** The deadline plugin on a tiny schema whose first mutation field outlives the deadline. */
function deadlineApp(timeoutMs: number, slowMs: number) {
  const seen = { sideEffects: 0, slowSawAbort: false };
  const yoga = createYoga({
    schema: createSchema<{ signal: AbortSignal }>({
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
    plugins: [useRequestDeadline() as Plugin],
    logging: false,
  });
  const run = async () => {
    const res = await yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { slow sideEffect }' }),
    });
    return res.json();
  };
  return { run, seen };
}

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

  it('lets work that fits in the deadline run to the end', async () => {
    const app = deadlineApp(2_000, 100);
    const body = await app.run();
    expect(body).toEqual({ data: { slow: true, sideEffect: true } });
    expect(app.seen).toEqual({ sideEffects: 1, slowSawAbort: false });
  });
});
