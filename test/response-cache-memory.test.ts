import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildSchema, execute, type ExecutionResult, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createMemoryStore, estimateResponseBytes } from '../src/response-cache/store.js';

/**
 * The in-memory response cache is bounded by bytes, not only by count: one answer within the cost limit
 * can hold megabytes, and a count of a thousand of them would be gigabytes. Measured on the real heap
 * (a forced GC before and after), with results made by graphql-js's executor, as the cache gets them.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const schema = buildSchema(`
  type Query { users(first: Int!, offset: Int!): [User!]! }
  type User { id: ID! email: String! name: String! role: String! teamCount: Int! }
`);
const document = parse('query($first: Int!, $offset: Int!) { users(first: $first, offset: $offset) { id email name role teamCount } }');

/** A fresh flat string, as node-postgres decodes a column from the wire. */
const decoded = (text: string) => Buffer.from(text).toString('utf8');

/** An executor result of `first` users, every string a fresh one (as rows read from the database are). */
function page(first: number, offset = 0): ExecutionResult {
  const users = (args: { first: number; offset: number }) =>
    Array.from({ length: args.first }, (_, i) => ({
      id: decoded(`VXNlcjo${args.offset + i}`.padEnd(48, 'x')),
      email: decoded(`user-${args.offset + i}@example.com`),
      name: decoded(`User number ${args.offset + i}`),
      role: decoded(['ADMIN', 'MEMBER'][i % 2]!),
      teamCount: i,
    }));
  return execute({ schema, document, variableValues: { first, offset }, rootValue: { users } }) as ExecutionResult;
}

const entitiesOf = (result: ExecutionResult) => (result.data!.users as { id: string }[]).map(({ id }) => ({ typename: 'User', id }));

describe('estimateResponseBytes', () => {
  it('is within a factor of two of what an executor result holds on the heap', () => {
    const before = heapUsed();
    const results = Array.from({ length: 20 }, (_, i) => page(1_000, i * 1_000));
    const held = (heapUsed() - before) / results.length;
    const estimated = estimateResponseBytes(results[0]);
    expect(held).toBeGreaterThan(100_000);
    expect(estimated / held).toBeGreaterThan(0.5);
    expect(estimated / held).toBeLessThan(2);
  });

  it('stops counting past its limit', () => {
    const result = page(10_000);
    expect(estimateResponseBytes(result)).toBeGreaterThan(2_000_000);
    expect(estimateResponseBytes(result, 50_000)).toBeLessThan(200_000);
  });
});

describe('createMemoryStore', () => {
  it('keeps at most its byte budget of responses, however many are stored', () => {
    const maxBytes = 8 * 1024 * 1024;
    const store = createMemoryStore({ maxEntries: 1_000, maxBytes });
    const before = heapUsed();
    // 200 answers of ~0.6 MiB each, all under the count bound: ~120 MiB if only counted.
    for (let i = 0; i < 200; i++) {
      const result = page(1_000, i * 1_000);
      store.set(`response-${i}`, result, entitiesOf(result), 60_000);
    }
    const held = heapUsed() - before;
    expect(held).toBeLessThan(3 * maxBytes);
    // The most recent answers are the ones kept.
    expect(store.get('response-199')).toBeTruthy();
    expect(store.get('response-0')).toBeNull();
  });

  it('does not keep a response larger than an eighth of the budget', () => {
    const store = createMemoryStore({ maxEntries: 1_000, maxBytes: 1024 * 1024 });
    const big = page(2_000);
    store.set('big', big, entitiesOf(big), 60_000);
    expect(store.get('big')).toBeNull();
    const small = page(10);
    store.set('small', small, entitiesOf(small), 60_000);
    expect(store.get('small')).toBe(small);
  });

  it('counts the entity index a response adds toward the budget', () => {
    const maxBytes = 8 * 1024 * 1024;
    const store = createMemoryStore({ maxEntries: 1_000, maxBytes });
    const before = heapUsed();
    // Small answers naming many entities: the index, not the answer, is what grows (~150 MiB if only counted).
    for (let i = 0; i < 200; i++) {
      const entities = Array.from({ length: 2_500 }, (_, j) => ({ typename: 'User', id: decoded(`VXNlcjo${i}-${j}`.padEnd(48, 'x')) }));
      store.set(`response-${i}`, page(1), entities, 60_000);
    }
    expect(heapUsed() - before).toBeLessThan(3 * maxBytes);
    expect(store.get('response-199')).toBeTruthy();
  });

  it('invalidates by entity and by type, and a re-stored response answers again', async () => {
    const store = createMemoryStore({ maxEntries: 100, maxBytes: 8 * 1024 * 1024 });
    const a = page(2, 0);
    const b = page(2, 2);
    store.set('a', a, entitiesOf(a), 60_000);
    store.set('b', b, entitiesOf(b), 60_000);
    const generation = await store.generation();
    await store.invalidate([entitiesOf(a)[1]!]);
    expect(store.get('a')).toBeNull();
    expect(store.get('b')).toBe(b);
    expect(await store.generation()).toBe(generation + 1);
    // Replacing a response replaces its entities: `b` now names only `a`'s first user.
    store.set('b', b, [entitiesOf(a)[0]!], 60_000);
    await store.invalidate(entitiesOf(b));
    expect(store.get('b')).toBe(b);
    await store.invalidate([{ typename: 'User' }]);
    expect(store.get('b')).toBeNull();
    store.set('a', a, entitiesOf(a), 60_000);
    expect((await store.lookup('a'))[0]).toBe(a);
  });
});
