import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { createTokenVerifier } from './auth.js';
import { createClientAddress } from './client-address.js';
import type { Config } from './config.js';
import { type Context, createContext, shareLazyLogger } from './context.js';
import { SharedLookups } from './loaders/index.js';
import { SharedCreates } from './resolvers/users.js';
import { corsOption } from './cors.js';
import type { Database } from './db.js';
import { CIRCUIT_GAUGE } from './downstream/policy.js';
import { createProfileClient, PROFILE_DEPENDENCY, type ProfileClient } from './downstream/profile-client.js';
import { createEvents, createPruner, type Events } from './events/index.js';
import { pruneExpired } from './idempotency/store.js';
import { graphiqlOptions, renderGraphiQL } from './graphiql.js';
import { createLifecycle, type Lifecycle } from './lifecycle.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { pluginSwitch } from './plugins/diagnostic-switch.js';
import { useApiDocs } from './plugins/use-api-docs.js';
import { useAuth } from './plugins/use-auth.js';
import { useContentNegotiation } from './plugins/use-content-negotiation.js';
import { useContextCache } from './plugins/use-context-cache.js';
import { maskError, useMaskedErrorReporting } from './plugins/use-error-masking.js';
import { useErrorStatus } from './plugins/use-error-status.js';
import { fuseHooks } from './plugins/fuse-hooks.js';
import { useGraphiQLAssets } from './plugins/use-graphiql-assets.js';
import { useGraphQLMetrics } from './plugins/use-graphql-metrics.js';
import { useHealth } from './plugins/use-health.js';
import { useIdempotency } from './plugins/use-idempotency.js';
import { useHttpMetrics } from './plugins/use-http-metrics.js';
import { useMetricsEndpoint } from './plugins/use-metrics-endpoint.js';
import { useOperationLimits } from './plugins/use-operation-limits.js';
import { useRateLimit } from './plugins/use-rate-limit.js';
import { useReadiness } from './plugins/use-readiness.js';
import type { ReadinessCheck } from './readiness.js';
import { useRequestErrorStatus } from './plugins/use-request-error-status.js';
import { useCompiledQueries } from './plugins/use-compiled-queries.js';
import { RequestSignal, requestSignal, useRequestDeadline } from './plugins/use-request-deadline.js';
import { useRequestLogging } from './plugins/use-request-logging.js';
import { useRest } from './plugins/use-rest.js';
import { createResponseCache } from './plugins/use-response-cache.js';
import { MAX_LIST_ITEMS } from './resolvers/validation.js';
import { useRouting } from './plugins/use-routing.js';
import { useSecurityHeaders } from './plugins/use-security-headers.js';
import { useSqlBudget } from './plugins/use-sql-budget.js';
import { tracedSchema, useTracing } from './plugins/use-tracing.js';
import { requestIdOf, viewerOf } from './request-info.js';
import { ALL_ROUTES, ROUTES } from './routes.js';
import { schema } from './schema/index.js';
import type { Tracing } from './tracing/index.js';

/**
 * An endpoint no request URL can end with (a space is always percent-encoded): Yoga 5 installs its
 * own health check at any URL ending in `healthCheckEndpoint`, before our plugins; /health is ours.
 */
const NO_YOGA_HEALTH_CHECK = '/ yoga health check: off';

/** The app and its lifecycle: `start`, `listen`, and `close` (also `await using`), which own the order. */
export interface App extends Lifecycle, AsyncDisposable {
  readonly yoga: YogaServerInstance<Record<string, unknown>, Context>;
  readonly db: Database;
  readonly metrics: Metrics;
  /** Outbox relay, live event feed and pruner; `start` starts them, `close` stops them. */
  readonly events: Events;
  /** The profile service client; absent when PROFILE_SERVICE_URL is unset. */
  readonly profiles: ProfileClient | undefined;
  /** Readiness turns 503 and live subscriptions end from now on: the first step of `close`. */
  beginShutdown(): void;
}

export interface AppOptions {
  /** OpenTelemetry (createTracing); absent: no spans and no tracing code on the request path. */
  readonly tracing?: Tracing;
}

/** Builds the Yoga app over an open database, without listening (tests call `yoga.fetch`). */
export function createApp(config: Config, db: Database, logger: Logger, { tracing }: AppOptions = {}): App {
  let shuttingDown = false;
  let profiles: ProfileClient | undefined;
  // The backlog is read at scrape time, when `events` exists.
  const metrics = createMetrics({
    poolStats: () => db.poolStats(),
    outboxBacklog: () => events.backlog(),
    downstreamQueues: (): Record<string, number> => (profiles ? { [PROFILE_DEPENDENCY]: profiles.queueLength } : {}),
  });
  const { url: profileUrl } = config.profileService;
  if (profileUrl) {
    const dependency = PROFILE_DEPENDENCY;
    profiles = createProfileClient(
      { ...config.profileService, url: profileUrl },
      {
        logger,
        onCall: (outcome, seconds) => metrics.downstreamCallDuration.observe({ dependency, outcome }, seconds),
        onStateChange: (state) => metrics.downstreamCircuitState.set({ dependency }, CIRCUIT_GAUGE[state]),
      },
    );
    metrics.downstreamCircuitState.set({ dependency }, CIRCUIT_GAUGE.closed);
  }
  const events: Events = createEvents({ config: config.events, db, logger, metrics, tracer: tracing?.tracer });
  // Traced, raw statements go through Prisma's client too, so @prisma/instrumentation shows each one.
  if (tracing) db.rawThroughClient = true;
  db.onQuery((e) => metrics.dbQueryDuration.observe(e.durationMs / 1000));
  const onBatch = (loader: string, size: number) => metrics.loaderBatchSize.observe({ loader }, size);
  // Lookups by key share their statements across concurrent requests, but not when traced: a shared
  // statement belongs to no request, so its span would have no request's trace to go in.
  const lookups = tracing ? undefined : new SharedLookups(db.prisma, onBatch);
  // createUser's inserts are grouped across concurrent requests likewise (and not when traced).
  const creates = tracing ? undefined : new SharedCreates(db.prisma, (size) => onBatch('createUser', size));
  const cors = corsOption(config.http.corsOrigins);
  // Response cache (RESPONSE_CACHE): ETag/304 first of the response hooks, the cache after the limits.
  const responseCache = config.responseCache.enabled ? createResponseCache({ config: config.responseCache, logger, metrics }) : undefined;
  // --- diagnostic ablation (DIAGNOSTIC_DISABLE_PLUGINS; empty unless deliberately set) ---
  const { on, off } = pluginSwitch(config.disabledPlugins, logger);

  const yoga = createYoga<Record<string, unknown>, Context>({
    schema: tracing ? tracedSchema(schema, tracing.tracer) : schema,
    graphqlEndpoint: ROUTES.graphql,
    // Served from this server (no CDN); in development it opens signed in (see graphiql.ts).
    graphiql: graphiqlOptions(config),
    renderGraphiQL,
    landingPage: false,
    healthCheckEndpoint: NO_YOGA_HEALTH_CHECK,
    cors,
    maskedErrors: { maskError, isDev: false },
    // The body limit (MAX_BODY_BYTES) is useContentNegotiation's JSON parser's: Yoga's streams every body
    // through a TransformStream, whatever its Content-Length (see request-body.ts). Off with that plugin
    // only in a diagnostic run (DIAGNOSTIC_DISABLE_PLUGINS, unprotected by definition), which then
    // measures what the plugin costs, not Yoga's limit.
    maxRequestBodySize: false,
    // JSON bodies only (useContentNegotiation refuses other POSTs first); one operation per request.
    multipart: false,
    batching: false,
    // useOperationLimits is the parse and validation cache (one hook per phase); Yoga's only without it.
    parserAndValidationCache: off('operationLimits'),
    logging: {
      debug: (...args) => logger.debug({ args }, 'yoga'),
      info: (...args) => logger.info({ args }, 'yoga'),
      warn: (...args) => logger.warn({ args }, 'yoga'),
      // Masked errors are logged by useMaskedErrorReporting, with the request id.
      error: (...args) => logger.debug({ args }, 'yoga error'),
    },
    context: (initial) => {
      const { request } = initial;
      const requestId = off('requestInfo') ? 'diagnostic' : requestIdOf(request);
      const context = createContext({
        prisma: db.prisma,
        requestId,
        logger,
        viewer: viewerOf(request),
        signal: off('deadline') ? new RequestSignal() : requestSignal(request, config.http.requestTimeoutMs),
        onBatch,
        lookups,
        creates,
        events: events.feed,
        profiles,
      });
      // Yoga merges `context` into `initial` (Object.assign), which skips the lazy logger.
      shareLazyLogger(initial, context);
      return context;
    },
    // Their onRequest / onResultProcess / onResponse hooks run as one hook each (see fuse-hooks.ts).
    plugins: fuseHooks([
      // Wraps the whole request (its instrumentation), so every other plugin runs inside its span.
      ...(tracing ? [useTracing({ tracer: tracing.tracer })] : []),
      // First: classifies the request once; other paths are 404 before anything else runs.
      ...on('routing', () =>
        useRouting({
          routes: ALL_ROUTES.filter((r) => !(r === 'metrics' && config.http.metricsPort !== undefined) && !(r === 'graphiqlAssets' && !config.graphiql)),
          cors: cors !== false,
        }),
      ),
      // Before the metrics and the request log, which then count and log its 304s.
      ...(responseCache ? [responseCache.conditionalGet] : []),
      // Its onResponse answers replays and refusals first, so metrics, logs and headers see the final
      // response; its claim runs in onParams, after authentication and the rate limit (onRequest).
      useIdempotency({ db, logger, ...config.idempotency, maxTokens: config.limits.maxTokens }),
      ...on('httpMetrics', () => useHttpMetrics({ metrics })),
      ...on('requestLogging', () => useRequestLogging({ logger })),
      // 406/415 before authentication; request errors answer 4xx whatever the Accept header; headers on every response.
      ...on('httpHardening', () => useContentNegotiation({ maxBodyBytes: config.limits.maxBodyBytes })),
      ...on('httpHardening', () => useRequestErrorStatus()),
      ...on('httpHardening', () => useSecurityHeaders()),
      ...on('auth', () => useAuth({ verify: createTokenVerifier(config.auth), logger })),
      // After useAuth: a verified token draws on its subject's budget, anything else on its address's.
      ...on('rateLimit', () => useRateLimit({ ...config.limits.rateLimit, logger, clientAddress: createClientAddress(config.http.trustedProxyHops) })),
      // After the rate limit: the REST API (/api/v1/), each route a fixed operation run through Yoga.
      useRest({ logger, maxBodyBytes: config.limits.maxBodyBytes }),
      ...on('probes', () => useHealth()),
      ...(config.graphiql ? [useGraphiQLAssets()] : []),
      useApiDocs(),
      ...on('probes', () =>
        useReadiness({
          checks: [{ name: 'database', check: () => db.ping() }, ...events.readinessChecks, ...profileReadiness(profiles)],
          timeoutMs: config.http.readinessTimeoutMs,
          isShuttingDown: () => shuttingDown,
        }),
      ),
      ...(config.http.metricsPort === undefined ? on('probes', () => useMetricsEndpoint({ metrics })) : []),
      ...on('graphqlMetrics', () => useGraphQLMetrics({ metrics })),
      // After the metrics, so the parse/validate phases of refused operations are still observed.
      ...on('operationLimits', () => useOperationLimits({ ...config.limits, maxListItems: MAX_LIST_ITEMS })),
      // Before every plugin that wraps the executor (the response cache, the SQL budget): it replaces
      // the executor, so it must be the one they wrap, not wrap them.
      ...(config.compiledQueries
        ? on('compiledQueries', () =>
            useCompiledQueries({
              after: config.compiledQueries!.after,
              onCompile: (operationName) => logger.debug({ operationName }, 'query compiled'),
              onCompileError: (operationName, errors) => logger.warn({ operationName, errors }, 'query not compiled; it runs interpreted'),
            }),
          )
        : []),
      // After authentication, the rate limit and the operation limits: a hit is served only to a
      // request that would have run (see createResponseCache).
      ...(responseCache ? [responseCache.plugin] : []),
      ...on('deadline', () => useRequestDeadline()),
      // Pothos' per-request caches under a key the context gives up when the result is complete.
      useContextCache(),
      // Operations that reach execution only: their statements are counted per operation.
      useSqlBudget({ db, metrics, budget: config.sqlBudget.perRequest, warn: config.sqlBudget.warn }),
      ...on('masking', () => useMaskedErrorReporting({ logger })),
      ...on('errorStatus', () => useErrorStatus()),
    ]),
  });
  const beginShutdown = () => {
    shuttingDown = true;
    // Live subscriptions (SSE) would otherwise hold the drain until its deadline.
    events.endSubscriptions();
  };
  const idempotencyPruner = createPruner({
    db,
    logger,
    retentionHours: config.idempotency.ttlHours,
    rows: { deleteBatch: (size) => pruneExpired(db.prisma, size), name: 'expired idempotency keys' },
  });
  const lifecycle = createLifecycle({ config, logger, yoga, db, events, metrics, beginShutdown, background: [idempotencyPruner] });
  return {
    yoga,
    db,
    metrics,
    events,
    profiles,
    beginShutdown,
    ...lifecycle,
    [Symbol.asyncDispose]: async () => {
      await lifecycle.close();
    },
  };
}

/**
 * The profile service on /ready: down while its breaker is open, and never critical, because without
 * it only `User.profile` is null. Its breaker is read, not the service pinged: probes stay the breaker's.
 */
function profileReadiness(profiles: ProfileClient | undefined): ReadinessCheck[] {
  if (!profiles) return [];
  const check = () => (profiles.state === 'open' ? Promise.reject(new Error('circuit open')) : Promise.resolve());
  return [{ name: PROFILE_DEPENDENCY, critical: false, check }];
}
