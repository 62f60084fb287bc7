import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const require = createRequire(import.meta.url);

/** The file `dependency` resolves to as `parent` requires it (npm may give a package its own copy). */
const resolveFrom = (parent: string, dependency: string) => createRequire(require.resolve(parent)).resolve(dependency);
/** The ES module build of a package whose CommonJS entry is `file` (…/cjs|lib/index.js → …/esm/index.js, …/dist/index.js → …/dist/index.mjs). */
const esmOf = (file: string) => import(pathToFileURL(file.replace(/(cjs|lib)\/index\.js$/, 'esm/index.js').replace(/\/dist\/index\.js$/, '/dist/index.mjs')).href);

describe('dependencies', () => {
  // GraphQL Armor 2.x declares graphql ^16 and npm would give each rule its own copy; package.json's
  // overrides hand them ours. One graphql per process: one GraphQLError class and Kind table for the
  // validation rules, and ~1.5 MiB less of an idle replica's heap than two extra copies of graphql 16.
  it.each(['@escape.tech/graphql-armor-max-depth', '@escape.tech/graphql-armor-max-aliases'])('%s runs on our graphql', (name) => {
    expect(resolveFrom(name, 'graphql')).toBe(require.resolve('graphql'));
  });
});

// patches/@whatwg-node+promise-helpers+1.3.2.patch (applied by postinstall and in the Dockerfile's deps
// stage): upstream's 2.0 handleMaybePromise, which calls its callbacks directly when nothing is a
// promise. Yoga 5, Envelop 5 and @whatwg-node/server 0.11 still depend on 1.x, whose version builds
// three promise-like wrappers with their closures per call, and they call it for every hook of every
// plugin on every request (about 40 KiB of a node-by-id request's allocation). README, "Patched dependencies".
describe('patched @whatwg-node/promise-helpers', () => {
  const fromPackage = (name: string) => resolveFrom(name, '@whatwg-node/promise-helpers');
  const helpers = () => esmOf(fromPackage('graphql-yoga')) as Promise<typeof import('@whatwg-node/promise-helpers')>;

  it('is the one copy Yoga, Envelop and the server adapter run on', () => {
    const yoga = fromPackage('graphql-yoga');
    expect(fromPackage('@envelop/core')).toBe(yoga);
    expect(fromPackage('@whatwg-node/server')).toBe(yoga);
  });

  it('calls a synchronous hook and its continuation directly, without promise wrappers between them', async () => {
    const { handleMaybePromise } = await helpers();
    let caller = '';
    const result = handleMaybePromise(
      () => 1,
      (value: number) => {
        // The frame below this callback: handleMaybePromise itself when patched; a fake promise's `then` when not.
        caller = new Error().stack!.split('\n')[2]!;
        return value + 1;
      },
    );
    expect(result).toBe(2);
    expect(caller).toMatch(/\bhandleMaybePromise\b/);
  });

  it('keeps the 1.x results: errors to the error callback, promises awaited, fake promises unwrapped', async () => {
    const { handleMaybePromise, fakePromise } = await helpers();
    const boom = new Error('boom');
    expect(
      handleMaybePromise(
        () => {
          throw boom;
        },
        () => 'no',
        (e) => e,
      ),
    ).toBe(boom);
    expect(() =>
      handleMaybePromise(
        () => {
          throw boom;
        },
        () => 'no',
      ),
    ).toThrow(boom);
    expect(() =>
      handleMaybePromise(
        () => 1,
        () => {
          throw boom;
        },
        () => 'swallowed',
      ),
    ).toThrow(boom);
    expect(
      handleMaybePromise(
        () => 1,
        (v) => fakePromise(v + 1),
      ),
    ).toBe(2);
    await expect(
      handleMaybePromise(
        () => Promise.resolve(1),
        (v) => v + 1,
      ),
    ).resolves.toBe(2);
    await expect(
      handleMaybePromise(
        () => Promise.reject(boom),
        () => 'no',
        (e) => e,
      ),
    ).resolves.toBe(boom);
  });
});

// patches/@pothos+selection-mapper+0.1.0.patch: plugin-prisma asks selection-mapper for a field's
// response path on every row (`cacheKey(type, info.path)`), and 0.1.0 memoised it in a module-level
// WeakMap keyed by graphql's path links: tens of thousands of entries on a users page, which every full
// GC walks as ephemerons (half of its pause). Patched, the memo is a symbol-keyed property of the link.
describe('patched @pothos/selection-mapper', () => {
  const mapper = () => esmOf(resolveFrom('@pothos/plugin-prisma', '@pothos/selection-mapper')) as Promise<{ cacheKey: (type: string, path: unknown) => string }>;
  const link = (prev: unknown, key: string | number) => ({ prev, key, typename: undefined });

  it('keys a path by its field names, list indices dropped, as 0.1.0 does', async () => {
    const { cacheKey } = await mapper();
    const users = link(undefined, 'users');
    const row = link(link(link(users, 'edges'), 3), 'node');
    expect(cacheKey('User', link(row, 'teams'))).toBe('User@users.edges.node.teams');
    expect(cacheKey('Query', users)).toBe('Query@users');
    expect(cacheKey('Query', undefined)).toBe('Query@');
    // A frozen link (no property can be added) is keyed all the same.
    expect(cacheKey('User', Object.freeze(link(Object.freeze(link(undefined, 'me')), 'name')))).toBe('User@me.name');
  });

  it('memoises on the path link itself, not in a module-level WeakMap', async () => {
    const { cacheKey } = await mapper();
    const path = link(link(undefined, 'users'), 0);
    cacheKey('User', path);
    const memo = Object.getOwnPropertySymbols(path).find((s) => s.description === 'pothos.responsePath');
    expect(memo).toBeDefined();
    expect((path as Record<symbol, unknown>)[memo!]).toBe('users');
  });
});

// patches/@pothos+core+4.15.1.patch: createContextCache (scope-auth's request cache, plugin-prisma's
// and plugin-relay's per-request state) kept its entries in a WeakMap keyed by the request's cache key,
// and their values hold the context. V8's young-generation collector kept those values alive whatever
// became of the key, so every request in flight when one ran went to the old generation whole (our
// schema in Yoga, node by id: 6.1 % of what a request allocated promoted, 1.5 % patched; the rest of the
// server's 6.4 % was its Maps and Sets of requests, see src/lib/slots.ts). Patched, an entry is a
// non-enumerable property of its key object, under a symbol of its cache.
describe('patched @pothos/core', () => {
  const core = () => import('@pothos/core');

  // patch-package patches the top-level copy only: a plugin given one of its own would run unpatched.
  it.each(['@pothos/plugin-scope-auth', '@pothos/plugin-prisma', '@pothos/plugin-relay'])('is the one copy %s runs on', (name) => {
    expect(resolveFrom(name, '@pothos/core')).toBe(require.resolve('@pothos/core'));
  });

  it('gives one entry per context key, made once, and a new one after delete', async () => {
    const { createContextCache, initContextCache } = await core();
    let made = 0;
    const cache = createContextCache((context: object, tag: string) => ({ context, tag, n: ++made }));
    const [a, b] = [initContextCache(), initContextCache()];
    const first = cache(a, 'x');
    expect(cache(a, 'ignored')).toBe(first);
    expect(first).toMatchObject({ context: a, tag: 'x', n: 1 });
    expect(cache(b, 'y')).toMatchObject({ context: b, n: 2 });
    cache.delete(a);
    expect(cache(a, 'z')).toMatchObject({ tag: 'z', n: 3 });
    // A context without a cache key is its own key; a frozen one still gets its entry.
    const plain = { user: 1 };
    expect(cache(plain, 'p')).toBe(cache(plain, 'q'));
    const frozen = Object.freeze({ user: 2 });
    expect(cache(frozen, 'f')).toBe(cache(frozen, 'g'));
  });

  it('keeps an entry on its key object, where no WeakMap holds it', async () => {
    const { createContextCache, initContextCache, contextCacheSymbol } = await core();
    const cache = createContextCache(() => ({ entry: true }));
    const context = initContextCache() as Record<symbol, object>;
    const set = vi.spyOn(WeakMap.prototype, 'set');
    try {
      const entry = cache(context);
      expect(set).not.toHaveBeenCalled();
      const key = context[contextCacheSymbol]!;
      const symbols = Object.getOwnPropertySymbols(key);
      expect(symbols).toHaveLength(1);
      expect((key as Record<symbol, unknown>)[symbols[0]!]).toBe(entry);
      expect(Object.keys(key)).toEqual([]);
    } finally {
      set.mockRestore();
    }
  });
});

// patches/@prisma+debug+7.10.1.patch: the driver adapter calls debug() for every statement (with
// logging off), and 7.10.1 decided each call anew (DEBUG split, each part regex-escaped) and kept its
// 100-call history with push + shift: ~0.57 µs a call against ~0.05 patched, and 5-8 % of node by id's
// CPU per request under load (three alternating pairs). Patched, enabled() is remembered per namespace
// until DEBUG changes, and the history is a ring of the same 100 calls.
describe('patched @prisma/debug', () => {
  const debugFile = () => resolveFrom(resolveFrom('@prisma/adapter-pg', '@prisma/driver-adapter-utils'), '@prisma/debug');
  const debugModule = () => esmOf(debugFile()) as Promise<typeof import('@prisma/debug')>;

  it('is the copy the driver adapter logs through', () => {
    expect(debugFile()).toBe(require.resolve('@prisma/debug'));
  });

  it('keeps the last 100 calls in order, as 7.10.1 does', async () => {
    const { Debug, clearLogs, getLogs } = await debugModule();
    const debug = Debug('uag:test');
    clearLogs();
    for (let i = 0; i < 250; i++) debug(`call ${i}`);
    const lines = getLogs(Number.MAX_SAFE_INTEGER).split('\n');
    expect(lines).toHaveLength(100);
    expect(lines[0]).toBe('uag:test call 150');
    expect(lines[99]).toBe('uag:test call 249');
    clearLogs();
    debug('after clearing');
    expect(getLogs()).toBe('uag:test after clearing');
  });

  it('answers enabled() from DEBUG as it is now, and decides a namespace once while DEBUG is unchanged', async () => {
    const { Debug } = await debugModule();
    const scope = globalThis as { DEBUG?: string };
    const before = scope.DEBUG;
    const split = vi.spyOn(String.prototype, 'split');
    try {
      scope.DEBUG = 'uag:*,-uag:quiet';
      expect(Debug.enabled('uag:loud')).toBe(true);
      expect(Debug.enabled('uag:quiet')).toBe(false);
      expect(Debug.enabled('other')).toBe(false);
      split.mockClear();
      expect(Debug.enabled('uag:loud')).toBe(true);
      expect(split).not.toHaveBeenCalled();
      scope.DEBUG = '';
      expect(Debug.enabled('uag:loud')).toBe(false);
    } finally {
      split.mockRestore();
      scope.DEBUG = before;
    }
  });
});

// patches/pg+8.23.1.patch: upstream's "Normalize query config without copying it" (node-postgres PR
// #3743, approved, not in a release yet). 8.23.1 copies every statement's config with its property
// descriptors before reading six fields of it: ~3 µs per Query against ~0.15 µs patched (a loop), on every
// statement. Patched, the Query reads the fields off the caller's config, which it still leaves unchanged.
describe('patched pg', () => {
  const Query = () =>
    require(resolveFrom('@prisma/adapter-pg', 'pg').replace(/index\.js$/, 'query.js')) as new (
      config: object | string,
      values?: unknown,
      callback?: unknown,
    ) => Record<string, unknown>;

  it('is the copy the driver adapter and our pool run on', () => {
    expect(resolveFrom('@prisma/adapter-pg', 'pg')).toBe(require.resolve('pg'));
  });

  it("reads a statement's config without copying it, and leaves it unchanged", () => {
    const fields = { name: 's1', text: 'SELECT $1::int', values: [1], rowMode: 'array' };
    const listed: string[] = [];
    const config = new Proxy(fields, {
      ownKeys: (target) => {
        listed.push('ownKeys');
        return Reflect.ownKeys(target);
      },
    });
    const callback = () => undefined;
    const query = new (Query())(config, undefined, callback);
    expect(query).toMatchObject({ name: 's1', text: 'SELECT $1::int', values: [1], _rowMode: 'array', callback });
    expect(listed).toEqual([]);
    expect(fields).toEqual({ name: 's1', text: 'SELECT $1::int', values: [1], rowMode: 'array' });
    // A text with values and a callback, as 8.23.1 takes them.
    expect(new (Query())('SELECT 1', [2], callback)).toMatchObject({ text: 'SELECT 1', values: [2], callback });
    expect(new (Query())('SELECT 1', callback)).toMatchObject({ text: 'SELECT 1', values: undefined, callback });
  });
});

// patches/graphql-jit+0.8.9.patch (ours): a compiled mutation made its result's promise inside the compiled
// function, whose scope holds the execution context (and through it the request's context). V8's
// young-generation collector kept that context past the request, though nothing held it strongly (a heap
// snapshot does not show it; a full collection freed it): under createUser's load 6-9 % of what a request
// allocated was promoted to the old generation, 1.5-2.4 % patched. A compiled query's promise, made by the
// runtime (`finalizeResult`), never did; the patch makes the mutation's there too (`finalizeSerialResult`).
// README, "Patched dependencies".
describe('patched graphql-jit', () => {
  const runtime = () => (require(require.resolve('graphql-jit').replace(/index\.js$/, 'runtime.js')) as { jitRuntime: Record<string, (...args: unknown[]) => unknown> }).jitRuntime;

  it("makes a compiled mutation's promise in the runtime, and still runs its fields one after the other", async () => {
    const { buildSchema, parse } = await import('graphql');
    const { compileQuery, isCompiledQuery } = await import('graphql-jit');
    const schema = buildSchema('type Query { read: Int } type Mutation { first: Int second: Int }');
    const order: string[] = [];
    const later = (name: string, value: number) => async () => {
      order.push(`${name} started`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      order.push(`${name} ended`);
      return value;
    };
    const fields = schema.getMutationType()!.getFields();
    fields.first!.resolve = later('first', 1);
    fields.second!.resolve = later('second', 2);
    const compiled = compileQuery(schema, parse('mutation { first second }'));
    if (!isCompiledQuery(compiled)) throw new Error('not compiled');
    const made = vi.spyOn(runtime(), 'finalizeSerialResult');
    try {
      expect(await compiled.query(undefined, {}, {})).toEqual({ data: { first: 1, second: 2 } });
      expect(made).toHaveBeenCalledTimes(1);
      expect(order).toEqual(['first started', 'first ended', 'second started', 'second ended']);
    } finally {
      made.mockRestore();
    }
  });
});
