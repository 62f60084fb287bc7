import { contextCacheSymbol } from '@pothos/core';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createContext, shareLazyLogger } from '../src/context.js';
import { fuseHooks } from '../src/plugins/fuse-hooks.js';
import { useContextCache } from '../src/plugins/use-context-cache.js';
import { RequestSignal } from '../src/request-signal.js';

/**
 * The shapes of the objects made per request that V8's young-generation collector cares about: no
 * accessor made per request (each would give its object a hidden class of its own, kept in the old
 * generation with the request behind it), and no Pothos cache key left on a finished request's context.
 */
describe('objects made per request', () => {
  const logger = pino({ level: 'silent' });
  const prisma = {} as never;

  it("gives the context's lazy logger by one getter on the prototype, and copies one shared getter", () => {
    const a = createContext({ prisma, requestId: 'a', logger, signal: new RequestSignal() });
    const b = createContext({ prisma, requestId: 'b', logger, signal: new RequestSignal() });
    expect(Object.getOwnPropertyDescriptor(a, 'logger')).toBeUndefined();
    expect(Object.getPrototypeOf(a)).toBe(Object.getPrototypeOf(b));
    const [copyA, copyB] = [{ ...a }, { ...b }];
    shareLazyLogger(copyA, a);
    shareLazyLogger(copyB, b);
    const [getA, getB] = [Object.getOwnPropertyDescriptor(copyA, 'logger')?.get, Object.getOwnPropertyDescriptor(copyB, 'logger')?.get];
    expect(getA).toBeTypeOf('function');
    expect(getA).toBe(getB);
    expect((copyA as unknown as { logger: unknown }).logger).toBe(a.logger);
  });

  it("hands fused onRequest hooks a payload whose url is the prototype's getter", async () => {
    const payloads: object[] = [];
    const plugin: Plugin = {
      onRequest(payload) {
        payloads.push(payload);
        expect(payload.url.pathname).toBe('/graphql');
      },
    };
    const yoga = createYoga({ schema: createSchema({ typeDefs: 'type Query { hello: String }' }), plugins: fuseHooks([plugin, {}]) });
    for (let i = 0; i < 2; i++) await yoga.fetch('http://localhost/graphql?query={__typename}');
    expect(payloads).toHaveLength(2);
    for (const payload of payloads) expect(Object.getOwnPropertyDescriptor(payload, 'url')).toBeUndefined();
    expect(Object.getPrototypeOf(payloads[0])).toBe(Object.getPrototypeOf(payloads[1]));
  });

  it('keys Pothos caches by an object the context gives up when its result is complete', async () => {
    const seen: { during?: unknown; context?: Record<symbol, unknown> } = {};
    const yoga = createYoga({
      schema: createSchema({
        typeDefs: 'type Query { hello: String }',
        resolvers: {
          Query: { hello: (_: unknown, __: unknown, context: Record<symbol, unknown>) => ((seen.during = context[contextCacheSymbol]), (seen.context = context), 'world') },
        },
      }),
      plugins: [useContextCache()],
    });
    const res = await yoga.fetch('http://localhost/graphql?query={hello}');
    expect(await res.json()).toEqual({ data: { hello: 'world' } });
    expect(seen.during).toBeTypeOf('object');
    expect(seen.context?.[contextCacheSymbol]).toBeUndefined();
  });

  it('leaves the key on the context of a result that is still streaming', () => {
    const plugin = useContextCache();
    const context: Record<symbol, unknown> = {};
    (plugin.onContextBuilding as (p: { context: object }) => void)({ context });
    const key = context[contextCacheSymbol];
    const stream = { [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: true, value: undefined }) }) };
    const hooks = (plugin.onExecute as () => { onExecuteDone(p: unknown): void })();
    hooks.onExecuteDone({ result: stream, args: { contextValue: context } });
    expect(context[contextCacheSymbol]).toBe(key);
    hooks.onExecuteDone({ result: { data: {} }, args: { contextValue: context } });
    expect(context[contextCacheSymbol]).toBeUndefined();
  });
});
