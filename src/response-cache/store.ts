import { type Cache, type CacheEntityRecord } from '@envelop/response-cache';
import { createRedisCache } from '@envelop/response-cache-redis';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { ExecutionResult } from 'graphql';
import type { Logger } from '../logger.js';

/**
 * A response store the plugin reads and writes; `dispose` closes its connection, if any.
 * `generation` grows with every invalidation (before it deletes anything), across replicas for Redis:
 * a response read from the database is stored only if no invalidation happened since its lookup
 * (see `lookup`), so a read that raced a write does not store the old answer.
 */
export interface ResponseStore extends Cache {
  readonly kind: 'memory' | 'redis';
  /** The cached response (or nothing) and the generation at that moment, in one round trip. */
  lookup(id: string): Promise<[ExecutionResult | null | undefined, number]>;
  generation(): Promise<number>;
  dispose(): Promise<void>;
}

/** Prefix of every key the cache writes in Redis (the rate limiter's are `uag:rl:`). */
export const REDIS_KEY_PREFIX = 'uag:rc:';

export interface MemoryStoreLimits {
  /** Most responses kept. */
  maxEntries: number;
  /** Most bytes kept, as estimated by `estimateResponseBytes`; a response over an eighth of it is not kept. */
  maxBytes: number;
}

/**
 * Each process on its own: an LRU of responses, each with its TTL, bounded by count AND by size.
 * `@envelop/response-cache`'s in-memory cache (whose entity index this follows) counts entries only,
 * and one answer within the cost limit can hold megabytes (10,000 edges: ~5 MiB of heap), so a
 * thousand of them would be gigabytes. Here every response is weighed once, when stored, with the
 * entity index it adds, and the least recently used ones go until the total fits `maxBytes`.
 */
export function createMemoryStore({ maxEntries, maxBytes }: MemoryStoreLimits): ResponseStore {
  const maxEntrySize = maxEntryBytesOf(maxBytes);
  /** Entity (`User`, `User:<id>`) → the responses holding it, and back. */
  const responsesOf = new Map<string, Set<string>>();
  const entitiesOf = new Map<string, string[]>();
  const forget = (responseId: string) => {
    for (const entity of entitiesOf.get(responseId) ?? []) {
      const responses = responsesOf.get(entity);
      responses?.delete(responseId);
      if (responses?.size === 0) responsesOf.delete(entity);
    }
    entitiesOf.delete(responseId);
  };
  const responses = new LRUCache<string, ExecutionResult>({
    max: maxEntries,
    maxSize: maxBytes,
    maxEntrySize,
    allowStale: false,
    // Called for every way a response leaves: evicted, expired, replaced, deleted.
    dispose: (_result, responseId) => forget(responseId),
  });
  let generation = 0;
  return {
    kind: 'memory',
    get: (id) => responses.get(id) ?? null,
    set(responseId, result, collectedEntities, ttl) {
      const entities = new Set<string>();
      for (const { typename, id } of collectedEntities) {
        entities.add(typename);
        if (id != null) entities.add(`${typename}:${id}`);
      }
      let size = estimateResponseBytes(result, maxEntrySize);
      for (const entity of entities) size += ENTITY_OVERHEAD + entity.length;
      responses.delete(responseId);
      if (size > maxEntrySize) return;
      responses.set(responseId, result, { ttl, size });
      const list = [...entities];
      entitiesOf.set(responseId, list);
      for (const entity of list) {
        let holders = responsesOf.get(entity);
        if (!holders) responsesOf.set(entity, (holders = new Set()));
        holders.add(responseId);
      }
    },
    invalidate(entities) {
      generation++;
      for (const { typename, id } of entities) {
        for (const responseId of [...(responsesOf.get(id == null ? typename : `${typename}:${id}`) ?? [])]) responses.delete(responseId);
      }
    },
    lookup: (id) => Promise.resolve([responses.get(id), generation]),
    generation: () => Promise.resolve(generation),
    dispose: () => Promise.resolve(),
  };
}

/** The largest answer either store keeps: an eighth of the memory budget (RESPONSE_CACHE_MAX_MB). */
export const maxEntryBytesOf = (maxBytes: number) => Math.floor(maxBytes / 8);

/**
 * Heap bytes one entity adds to the index besides its characters: a Map entry and a Set of its own when
 * no other response names it, an array slot (measured: ~300 bytes for a 48-character id).
 */
const ENTITY_OVERHEAD = 240;

/**
 * Roughly the V8 heap a JSON-shaped value holds (an object's header and its property slots, a string's
 * header and characters, a number's box), counted until `limit` is passed: the caller only needs to know
 * that it is larger. Calibrated against heap snapshots of executor results (test/response-cache-memory):
 * within a factor of two, on the high side for results of short strings.
 */
export function estimateResponseBytes(value: unknown, limit = Infinity): number {
  let size = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0 && size <= limit) {
    const item = pending.pop();
    if (typeof item === 'string') size += 24 + item.length;
    else if (item === null || typeof item !== 'object') size += 8;
    else if (Array.isArray(item)) {
      size += 32 + 8 * item.length;
      for (const element of item) pending.push(element);
    } else {
      // graphql-js builds results as prototype-less objects, which V8 keeps as hash tables.
      size += 64;
      for (const key in item) {
        size += 48;
        pending.push((item as Record<string, unknown>)[key]);
      }
    }
  }
  return size;
}

export interface RedisStoreOptions {
  url: string;
  logger: Logger;
  /** The longest TTL a response can get: the entity indexes live this long after their last write. */
  maxTtlMs: number;
  /** An index holding more responses than this is invalidated as a whole. Default 100,000. */
  maxIndexSize?: number;
  /**
   * A response estimated larger than this (`estimateResponseBytes`) is not stored: one answer within the
   * cost limit can hold megabytes, and the rate limit allows hundreds a minute per caller. The app passes
   * `maxEntryBytesOf(RESPONSE_CACHE_MAX_MB)`, the memory store's bound on one answer.
   */
  maxEntryBytes: number;
}

/**
 * Shared by every replica: `@envelop/response-cache-redis` over a connection of its own, set up like the
 * rate limiter's (no offline queue, so a command fails at once while Redis is away and the plugin
 * answers from the database), with three changes:
 * - every key is under REDIS_KEY_PREFIX (ioredis `keyPrefix`), beside the rate limiter's;
 * - the entity indexes (`User:<id>` → responses, `User` → responses, `operations:<response>`) expire
 *   `maxTtlMs` after their last write; the library gives them no TTL, so they would grow forever.
 *   Under steady traffic an index is written all the time and keeps the ids of expired responses too,
 *   so one that passes `maxIndexSize` is invalidated as a whole: its answers are dropped (and cached
 *   again on the next reads), which is always safe, and the index starts over;
 * - invalidating a whole type (`{ typename }` without id) reads the type's index instead of running
 *   the library's `KEYS User:*`, a scan of the whole Redis keyspace that blocks the server.
 */
export function createRedisStore({ url, logger, maxTtlMs, maxIndexSize = 100_000, maxEntryBytes }: RedisStoreOptions): ResponseStore {
  const redis = new Redis(url, {
    keyPrefix: REDIS_KEY_PREFIX,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    // A slow Redis must not hold requests: past this a lookup counts as a miss.
    commandTimeout: 1_000,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
  });
  let up: boolean | undefined;
  redis.on('error', (err: Error) => {
    if (up === false) return;
    up = false;
    logger.warn({ err: err.message }, 'response cache: cannot reach Redis; requests are answered from the database');
  });
  redis.on('ready', () => {
    logger.info(up === false ? 'response cache: Redis available again' : 'response cache: in Redis');
    up = true;
  });
  // The library is typed against ioredis 5 and its own copy of @envelop/response-cache (graphql 16
  // types); the commands it sends (get, set PX, sadd, smembers, del, pipeline) are the same in ioredis 6.
  const inner = createRedisCache({ redis: redis }) as unknown as Cache;
  const operationsKey = (responseId: string) => `operations:${responseId}`;
  const GENERATION = 'generation';

  const invalidate = async (entities: Iterable<CacheEntityRecord>) => {
    // First: a read that looked up before this point and stores after it is refused.
    await redis.incr(GENERATION);
    const byId: CacheEntityRecord[] = [];
    const types: string[] = [];
    for (const entity of entities) {
      if (entity.id != null) byId.push(entity);
      else types.push(entity.typename);
    }
    if (byId.length) await inner.invalidate(byId);
    for (const typename of types) {
      const responseIds = await redis.smembers(typename);
      await redis.del(typename, ...responseIds, ...responseIds.map(operationsKey));
    }
  };

  return {
    kind: 'redis',
    get: (responseId) => inner.get(responseId),
    async lookup(responseId) {
      const replies = (await redis.pipeline().get(responseId).get(GENERATION).exec()) ?? [];
      for (const [error] of replies) if (error) throw error;
      const [text, generation] = replies.map(([, value]) => value as string | null);
      return [text ? (JSON.parse(text) as ExecutionResult) : undefined, Number(generation ?? 0)];
    },
    generation: async () => Number((await redis.get(GENERATION)) ?? 0),
    async set(responseId, result, entities, ttl) {
      if (estimateResponseBytes(result, maxEntryBytes) > maxEntryBytes) return;
      const records = [...entities];
      await inner.set(responseId, result, records, ttl);
      const indexes = new Set<string>([operationsKey(responseId)]);
      for (const { typename, id } of records) {
        indexes.add(typename);
        if (id != null) indexes.add(`${typename}:${id}`);
      }
      indexes.delete(operationsKey(responseId));
      const keys = [...indexes];
      const pipeline = redis.pipeline();
      pipeline.pexpire(operationsKey(responseId), maxTtlMs);
      for (const key of keys) pipeline.pexpire(key, maxTtlMs).scard(key);
      const replies = (await pipeline.exec()) ?? [];
      // Global IDs are base64 and root fields are names: the first ':' separates type and id.
      const full = keys
        .filter((_, i) => Number(replies[2 + 2 * i]?.[1] ?? 0) > maxIndexSize)
        .map((key) => (key.includes(':') ? { typename: key.slice(0, key.indexOf(':')), id: key.slice(key.indexOf(':') + 1) } : { typename: key }));
      if (full.length) await invalidate(full);
    },
    invalidate,
    async dispose() {
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}
