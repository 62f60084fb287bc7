import { createHash } from 'node:crypto';
import { type BuildResponseCacheKeyFunction, type Cache, type CacheEntityRecord, useResponseCache as useEnvelopResponseCache } from '@envelop/response-cache';
import stableStringify from 'fast-json-stable-stringify';
import { type ExecutionArgs, type ExecutionResult, getOperationAST, Kind, print, printSchema, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Counter } from 'prom-client';
import type { ResponseCacheConfig } from '../config.js';
import type { Viewer } from '../auth.js';
import type { Context } from '../context.js';
import type { Logger } from '../logger.js';
import { perOperation } from '../lib/operation-memo.js';
import type { Metrics } from '../metrics.js';
import { viewerOf } from '../request-info.js';
import { type CacheEntity, takeWrites } from '../response-cache/invalidation.js';
import { createMemoryStore, createRedisStore, maxEntryBytesOf, type ResponseStore } from '../response-cache/store.js';
import { schema } from '../schema/index.js';

export interface ResponseCacheOptions {
  config: ResponseCacheConfig;
  logger: Logger;
  metrics: Metrics;
}

export interface ResponseCache {
  /**
   * ETag and 304 Not Modified for GET queries. Register it before `useHttpMetrics` and
   * `useRequestLogging`: its onResponse turns a 200 into the 304, which they then count and log.
   */
  readonly conditionalGet: Plugin;
  /** The cache itself; register it after `useOperationLimits` (see `createResponseCache`). */
  readonly plugin: Plugin;
  readonly store: ResponseStore;
}

/**
 * The key @envelop/response-cache's `defaultBuildResponseCacheKey` makes (the same text, the same SHA-256
 * in hex: keys already in Redis stay valid), hashed by node:crypto at once. The default hashes with
 * WebCrypto's `subtle.digest`, a job on libuv's thread pool per request: on node by id, cache hits cost
 * 47 µs of CPU each in it, came slower than answering from the database (2877-3019 against 3341-3645
 * req/s) with a p99 of 20 ms against 8.
 */
export function responseCacheKey(params: Parameters<BuildResponseCacheKeyFunction>[0]): string {
  const text = [params.documentString, params.operationName ?? '', stableStringify(params.variableValues ?? {}), params.sessionId ?? ''].join('|');
  return createHash('sha256').update(text).digest('hex');
}

/** The per-viewer part of a cache key: the subject AND the role, so a role change never gets the old role's view. */
export const sessionOf = (viewer: Viewer | null): string | null => (viewer ? `${viewer.userId}|${viewer.role}` : null);

/** The root fields an operation selects (through fragments too), e.g. ['users', 'me']; once per document and name. */
const rootFields = perOperation<string[]>((document, operationName) => {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const found = new Set<string>();
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) found.add(s.name.value);
      else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const fragment = fragments.get(s.name.value);
        if (fragment) walk(fragment.selectionSet);
      }
    }
  };
  const operation = getOperationAST(document, operationName);
  if (operation) walk(operation.selectionSet);
  return { value: [...found], selected: operation != null };
});

interface GuardOptions {
  lookups?: Counter<'result'>;
  failed?: (operation: string, error: unknown) => void;
  /** More entities to index the response by (its root fields). */
  extraEntities?: () => CacheEntity[];
}

/**
 * The store as one request sees it: never throwing (the library does not await `set` and
 * `invalidate`), counting lookups, and storing a response only if no invalidation happened since its
 * lookup. In memory the check and the write are one synchronous step; in Redis one round trip apart
 * (a write landing exactly between them can still leave an old answer, for its TTL).
 */
export function guardedCache(store: ResponseStore, options: GuardOptions = {}, invalidate: Cache['invalidate'] = (e) => store.invalidate(e)): Cache {
  const { lookups, failed = () => undefined, extraEntities = () => [] } = options;
  let seen: number | undefined;
  return {
    async get(id) {
      try {
        const [cached, generation] = await store.lookup(id);
        seen = generation;
        lookups?.inc({ result: cached ? 'hit' : 'miss' });
        return cached;
      } catch (error) {
        lookups?.inc({ result: 'error' });
        failed('get', error);
        return undefined;
      }
    },
    async set(id, result, entities, ttl) {
      try {
        if (seen === undefined || (await store.generation()) !== seen) return;
        await store.set(id, result, [...entities, ...extraEntities()], ttl);
      } catch (error) {
        failed('set', error);
      }
    },
    invalidate,
  };
}

/** `If-None-Match` holds `etag` (weak or strong, or `*`). */
function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

const JSON_TYPES = /^application\/(graphql-response\+)?json\b/i;

/**
 * The response cache: `@envelop/response-cache` (its Envelop plugin, not the Yoga wrapper) over a
 * Redis store shared by every replica when REDIS_URL is set, memory otherwise (see `response-cache/`).
 *
 * Where it sits, and why the Envelop plugin: the lookup happens in onExecute, after the request was
 * authenticated and charged to its rate-limit budget (onRequest hooks of `useAuth`/`useRateLimit`)
 * and after the document was parsed, validated and passed the operation limits, cost included
 * (`useOperationLimits`). So a cached answer is served only to a request that would have been
 * executed. The Yoga wrapper (`@graphql-yoga/plugin-response-cache`) looks up in onParams, before
 * parsing: a hit would skip the operation limits; and its 304 answers any request whose If-None-Match
 * names a cached key, before the authentication refusal (a 401 comes in onRequestParse) and whoever
 * the viewer. Our ETag is a hash of the viewer and the body, checked against the answer this request gets.
 *
 * What is cached, and for whom:
 * - only query results without errors: a refusal (FORBIDDEN, a limit) or a partial answer never is;
 *   unauthenticated requests never reach execution (401 before parsing), and without a viewer the
 *   cache is off anyway; subscriptions (SSE) run through subscribe, never cached;
 * - keyed by the document, the variables, the operation name, the schema (a hash of its SDL, so two
 *   versions of the server during a rollout never serve each other's shapes) and the viewer: subject
 *   AND role (`sessionOf`);
 * - for RESPONSE_CACHE_TTL_MS, or the shortest TTL of RESPONSE_CACHE_TTL_PER_TYPE among the types the
 *   answer holds (UserProfile: RESPONSE_CACHE_TTL_PROFILE_MS).
 *
 * Invalidation: each response is indexed by the objects with an id it holds (`User:<global id>`) and
 * by its root fields (`Query:users`). A mutation invalidates what its resolvers noted
 * (`response-cache/invalidation.ts`) before its answer is sent, in the shared store, so the next read
 * through any replica sees the write; the library also invalidates the entities the mutation's
 * answer shows. A read that looked up before an invalidation (any, on any replica) does not store
 * its answer (`guardedCache`): it may hold the state before the write.
 *
 * A store that fails (Redis away or slow past 1 s) is a miss, never an error; an invalidation that
 * fails is logged, and what it missed expires with its TTL.
 */
export function createResponseCache({ config, logger, metrics }: ResponseCacheOptions): ResponseCache {
  const ttls = [config.ttlMs, ...Object.values(config.ttlPerType)];
  const store = config.redisUrl
    ? createRedisStore({ url: config.redisUrl, logger, maxTtlMs: Math.max(...ttls), maxEntryBytes: maxEntryBytesOf(config.maxBytes) })
    : createMemoryStore(config);
  const unknown = Object.keys(config.ttlPerType).filter((coordinate) => {
    const [type, field] = coordinate.split('.');
    const named = schema.getType(type!);
    // UserProfile (User.profile) has its TTL by default, whether or not this schema has the type yet.
    if (coordinate === 'UserProfile') return false;
    return !named || (field !== undefined && !(named as { getFields?: () => Record<string, unknown> }).getFields?.()[field]);
  });
  if (unknown.length) logger.warn({ coordinates: unknown }, 'RESPONSE_CACHE_TTL_PER_TYPE names types or fields the schema does not have');

  const lookups = new Counter({
    name: 'graphql_response_cache_lookups_total',
    help: 'Response cache lookups of queries, by result: hit, miss, or error (the store failed; answered as a miss).',
    labelNames: ['result'],
    registers: [metrics.registry],
  });
  const failures = new Counter({
    name: 'graphql_response_cache_store_errors_total',
    help: 'Response cache store operations that failed (get, set, invalidate).',
    labelNames: ['operation'],
    registers: [metrics.registry],
  });
  for (const result of ['hit', 'miss', 'error']) lookups.inc({ result }, 0);
  const failed = (operation: string, error: unknown) => {
    failures.inc({ operation });
    logger.debug({ err: error instanceof Error ? error.message : String(error), operation }, 'response cache: store operation failed');
  };

  /** The store, never throwing (the library does not await `set` and `invalidate`). */
  const invalidate = async (entities: Iterable<CacheEntityRecord>) => {
    try {
      await store.invalidate(entities);
    } catch (error) {
      failed('invalidate', error);
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'response cache: invalidation failed; stale entries expire with their TTL');
    }
  };
  const rootTags = new WeakMap<object, CacheEntity[]>();
  const cacheFor = (context: object) => guardedCache(store, { lookups, failed, extraEntities: () => rootTags.get(context) ?? [] }, invalidate);

  const schemaHash = createHash('sha256').update(printSchema(schema)).digest('base64url').slice(0, 16);
  const viewerOfContext = (context: unknown) => (context as Context).viewer;

  const plugin: Plugin = {
    onPluginInit({ addPlugin }) {
      addPlugin(
        useEnvelopResponseCache({
          cache: cacheFor,
          session: (context) => sessionOf(viewerOfContext(context)),
          enabled: (context) => viewerOfContext(context) !== null,
          ttl: config.ttlMs,
          ttlPerSchemaCoordinate: { ...config.ttlPerType },
          invalidateViaMutation: true,
          includeExtensionMetadata: false,
          // Yoga already has the document's text; printing the AST again would cost every request.
          getDocumentString: (args) => (args.contextValue as { params?: { query?: string } }).params?.query ?? print(args.document),
          buildResponseCacheKey: (params) => responseCacheKey({ ...params, sessionId: `${schemaHash}|${params.sessionId ?? ''}` }),
          shouldCacheResult: ({ result }) => !result.errors?.length,
        }),
      );
    },
    onExecute({ args }) {
      const context = args.contextValue as unknown as Context;
      if (!context.viewer) return;
      const { document, operationName } = args as ExecutionArgs;
      const operation = getOperationAST(document, operationName);
      if (operation?.operation === 'query') {
        rootTags.set(
          context,
          rootFields(document, operationName ?? undefined).map((id) => ({ typename: 'Query', id })),
        );
        return;
      }
      if (operation?.operation !== 'mutation') return;
      return {
        // Before the answer is sent: the next read, through any replica, finds nothing stale.
        async onExecuteDone() {
          const stale = takeWrites(context);
          if (stale.length) await invalidate(stale);
        },
      };
    },
    async onDispose() {
      await store.dispose();
    },
  };

  const etags = new WeakMap<Request, string>();
  const conditionalGet: Plugin = {
    onResultProcess({ request, result }) {
      if (request.method !== 'GET') return;
      const session = sessionOf(viewerOf(request));
      if (!session || !result || Array.isArray(result) || Symbol.asyncIterator in result) return;
      if ((result as ExecutionResult).errors?.length || !(result as ExecutionResult).data) return;
      const hash = createHash('sha256').update(session).update('\n').update(JSON.stringify(result)).digest('base64url');
      etags.set(request, `"${hash}"`);
    },
    onResponse({ request, response, setResponse, fetchAPI }) {
      const etag = etags.get(request);
      if (!etag || response.status !== 200 || !JSON_TYPES.test(response.headers.get('content-type') ?? '')) return;
      // Per viewer: a browser may keep it, nothing shared may; always revalidated.
      response.headers.set('cache-control', 'private, no-cache');
      response.headers.append('vary', 'Authorization');
      response.headers.set('etag', etag);
      if (!matches(request.headers.get('if-none-match'), etag)) return;
      const headers = new fetchAPI.Headers(response.headers);
      headers.delete('content-type');
      headers.delete('content-length');
      setResponse(new fetchAPI.Response(null, { status: 304, headers }));
    },
  };

  return { conditionalGet, plugin, store };
}
