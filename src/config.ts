import { z } from 'zod';

/**
 * The only reader of `process.env`. Every variable is declared here once, validated together, and
 * turned into a typed read-only config; a bad value stops start-up with a message naming it.
 */
const boolean = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** An origin as browsers send it: scheme, host and port only (`https://app.example.com`, no slash). */
const isOrigin = (value: string) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
};
const origins = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
  )
  .refine((list) => list.every((o) => o === '*' || isOrigin(o)), 'each entry must be an origin (https://host[:port], no path or trailing slash) or *')
  .refine((list) => !list.includes('*') || list.length === 1, '* allows every origin and stands alone');

/**
 * `Type=ms` (or `Type.field=ms`) pairs, comma-separated: `User=30000,Team=120000`. 0 never caches a
 * response holding that type.
 */
const TTL_ENTRY = /^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)=(\d{1,9})$/;
const ttlMap = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean),
  )
  .refine(
    (list) => list.every((e) => TTL_ENTRY.test(e) && Number(TTL_ENTRY.exec(e)![2]) <= 86_400_000),
    'each entry must be Type=milliseconds or Type.field=milliseconds (at most 86400000)',
  )
  .transform((list) => Object.fromEntries(list.map((e) => TTL_ENTRY.exec(e)!.slice(1, 3)).map(([key, ms]) => [key!, Number(ms)])) as Record<string, number>);

/**
 * Plugins (and per-request context work) that DIAGNOSTIC_DISABLE_PLUGINS can switch off, to measure what
 * each costs (the benchmark's ablation). Never for serving: each one removes a protection or a signal.
 */
export const DIAGNOSTIC_PLUGINS = [
  'routing',
  'httpMetrics',
  'requestLogging',
  'httpHardening',
  'auth',
  'rateLimit',
  'probes',
  'graphqlMetrics',
  'operationLimits',
  'deadline',
  'masking',
  'errorStatus',
  'requestInfo',
  'compiledQueries',
] as const;
export type DiagnosticPlugin = (typeof DIAGNOSTIC_PLUGINS)[number];
/** DIAGNOSTIC_DISABLE_PLUGINS is refused unless DIAGNOSTIC_DISABLE_PLUGINS_ACK is exactly this. */
export const DIAGNOSTIC_ACK = 'i-am-benchmarking-and-this-server-is-unprotected';

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(0, 65_535).default(4000),
  GRAPHIQL: boolean.optional(),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' }).optional(),
  DB_POOL_MAX: int(1, 1000).default(10),
  DB_CONNECTION_TIMEOUT_MS: int(1, 600_000).default(5_000),
  DB_IDLE_TIMEOUT_MS: int(1, 3_600_000).default(10_000),
  DB_STATEMENT_TIMEOUT_MS: int(1, 3_600_000).default(10_000),
  DB_QUERY_TIMEOUT_MS: int(1, 3_600_000).optional(),
  DB_MAX_LIFETIME_S: int(1, 86_400).default(1_800),
  DB_STATEMENT_CACHE_SIZE: int(0, 10_000).default(100),
  EMBEDDED_DATA_DIR: z.string().min(1).default('./.data/pglite'),
  SEED_EMBEDDED: boolean.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  METRICS_PORT: int(1, 65_535).optional(),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(25_000),
  REQUEST_TIMEOUT_MS: int(100, 600_000).default(15_000),
  COMPILE_QUERIES: boolean.default(true),
  COMPILE_QUERIES_AFTER: int(0, 1_000).default(1),
  READINESS_TIMEOUT_MS: int(50, 60_000).default(1_000),
  TRUSTED_PROXY_HOPS: int(0, 10).default(0),
  CORS_ORIGINS: origins.optional(),
  JWT_SECRET: z
    .string()
    .refine((v) => Buffer.byteLength(v) >= 32, 'must be at least 32 bytes')
    .optional(),
  JWT_JWKS_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  JWT_CLOCK_TOLERANCE_S: int(0, 300).default(30),
  // At most a week: a subscription's end-of-token timer must stay within setTimeout's 24.8 days.
  JWT_MAX_TTL_S: int(60, 604_800).default(86_400),
  INTROSPECTION: boolean.optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  RATE_LIMIT_POINTS: int(1, 1_000_000).default(600),
  RATE_LIMIT_WINDOW_S: int(1, 3600).default(60),
  // 100 KB holds the longest document (GRAPHQL_MAX_QUERY_LENGTH) with its variables many times over, and
  // bounds JSON.parse: 1 MB of nested arrays blocks the event loop for ~80 ms, 100 KB for under 10.
  MAX_BODY_BYTES: int(1_000, 100_000_000).default(100_000),
  GRAPHQL_MAX_DEPTH: int(1, 100).default(12),
  GRAPHQL_MAX_ALIASES: int(1, 1000).default(30),
  GRAPHQL_MAX_DIRECTIVES: int(1, 1000).default(20),
  GRAPHQL_MAX_TOKENS: int(10, 1_000_000).default(3_000),
  GRAPHQL_MAX_QUERY_LENGTH: int(100, 1_000_000).default(50_000),
  GRAPHQL_MAX_SELECTIONS: int(1, 100_000).default(300),
  GRAPHQL_MAX_COST: int(1, 100_000_000).default(20_000),
  AMQP_URL: z.url({ protocol: /^amqps?$/, error: 'must be an amqp:// or amqps:// URL' }).optional(),
  // AMQP exchange names: letters, digits, - _ . : ; "amq." is reserved by the broker.
  AMQP_EXCHANGE: z
    .string()
    .regex(/^(?!amq\.)[A-Za-z0-9_.:-]{1,255}$/, 'letters, digits, - _ . : only, at most 255, not starting with "amq."')
    .default('user-api.events'),
  OUTBOX_POLL_INTERVAL_MS: int(10, 60_000).default(250),
  OUTBOX_BATCH_SIZE: int(1, 1000).default(100),
  OUTBOX_RETENTION_HOURS: int(1, 87_600).default(168),
  MAX_SUBSCRIPTIONS: int(1, 1_000_000).default(1_000),
  MAX_SUBSCRIPTIONS_PER_SUBJECT: int(1, 1_000_000).default(10),
  PROFILE_SERVICE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  PROFILE_SERVICE_BATCH: boolean.default(false),
  PROFILE_TIMEOUT_MS: int(1, 600_000).default(1_000),
  PROFILE_RETRIES: int(0, 10).default(2),
  PROFILE_RETRY_INITIAL_DELAY_MS: int(1, 60_000).default(50),
  PROFILE_RETRY_MAX_DELAY_MS: int(1, 60_000).default(500),
  // sony/gobreaker's policy as the seed had it: open after more than 3 consecutive failures, half-open
  // after 30 s, at most 5 probe requests (all must succeed to close).
  PROFILE_BREAKER_FAILURES: int(0, 1000).default(3),
  PROFILE_BREAKER_HALF_OPEN_AFTER_MS: int(1, 3_600_000).default(30_000),
  PROFILE_BREAKER_PROBES: int(1, 1000).default(5),
  PROFILE_MAX_CONCURRENT: int(1, 10_000).default(10),
  PROFILE_MAX_QUEUE: int(0, 100_000).default(100),
  SQL_BUDGET_PER_REQUEST: int(1, 100_000).default(10),
  IDEMPOTENCY_TTL_HOURS: int(1, 8_760).default(24),
  RESPONSE_CACHE: boolean.default(true),
  RESPONSE_CACHE_TTL_MS: int(1, 86_400_000).default(60_000),
  RESPONSE_CACHE_TTL_PER_TYPE: ttlMap.optional(),
  RESPONSE_CACHE_TTL_PROFILE_MS: int(0, 86_400_000).default(30_000),
  RESPONSE_CACHE_MAX_ENTRIES: int(1, 10_000_000).default(1_000),
  RESPONSE_CACHE_MAX_MB: int(1, 65_536).default(32),
  DIAGNOSTIC_DISABLE_PLUGINS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    )
    .refine((list) => list.every((p) => (DIAGNOSTIC_PLUGINS as readonly string[]).includes(p)), `each entry must be one of ${DIAGNOSTIC_PLUGINS.join(', ')}`)
    .optional(),
  DIAGNOSTIC_DISABLE_PLUGINS_ACK: z.string().optional(),
  // The OTLP/HTTP collector's base URL (spans go to <endpoint>/v1/traces); unset: tracing off.
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).max(255).default('user-api-gateway'),
});

export interface DatabaseConfig {
  /** PostgreSQL connection string; absent means the embedded PGlite database. */
  readonly url: string | undefined;
  readonly poolMax: number;
  readonly connectionTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly statementTimeoutMs: number;
  /**
   * Client-side limit on waiting for a query's answer. Past it the connection is dropped: the network
   * lost the query or the answer (a blackhole), and only this notices. Above the statement timeout, so
   * a slow statement is cancelled by the server first and its connection kept.
   */
  readonly queryTimeoutMs: number;
  /** A connection is retired after this long, so none outlives a failover or a silent network fault. */
  readonly maxLifetimeS: number;
  /**
   * How many distinct statements are prepared by name (parsed and planned once per connection, see
   * `statementNames` in pool.ts); 0 sends every statement unnamed (for PgBouncer in transaction mode).
   */
  readonly statementCacheSize: number;
  /** Longest interactive transaction (Prisma's `timeout`): a transaction never outlives its request. */
  readonly transactionTimeoutMs: number;
  /**
   * PostgreSQL's `idle_in_transaction_session_timeout`: the server ends a session that holds a
   * transaction open this long without a statement, i.e. whose client vanished, and frees its locks.
   */
  readonly idleInTransactionTimeoutMs: number;
  /** PGlite data directory, or `memory://` for an in-memory database. */
  readonly embeddedDataDir: string;
  /** Seed an embedded database the server creates with the sample dataset and the development admin. */
  readonly seedEmbedded: boolean;
}

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly http: {
    readonly host: string;
    readonly port: number;
    /** Serve /metrics on this port instead of the main one. */
    readonly metricsPort: number | undefined;
    /** Deadline of a GraphQL request; also caps the database statement timeout. */
    readonly requestTimeoutMs: number;
    /** How long a drain may wait for in-flight requests on SIGTERM. */
    readonly shutdownTimeoutMs: number;
    /** Longest a readiness check may take. */
    readonly readinessTimeoutMs: number;
    /**
     * Reverse proxies in front of the service whose `X-Forwarded-For` entries are believed: the client
     * address is the one this many hops back. 0: the TCP peer, the header is ignored.
     */
    readonly trustedProxyHops: number;
    /** Origins allowed cross-origin access (CORS), exact; `['*']` is any origin; empty is none. */
    readonly corsOrigins: readonly string[];
  };
  readonly graphiql: boolean;
  /**
   * Queries and mutations run as code compiled for them (graphql-jit, see use-compiled-queries.ts) once they have run
   * `after` times interpreted; undefined: every operation is interpreted.
   */
  readonly compiledQueries: { readonly after: number } | undefined;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly auth: AuthConfig;
  readonly limits: LimitsConfig;
  readonly database: DatabaseConfig;
  readonly events: EventsConfig;
  readonly sqlBudget: SqlBudgetConfig;
  readonly idempotency: IdempotencyConfig;
  readonly responseCache: ResponseCacheConfig;
  readonly profileService: ProfileServiceConfig;
  /** Benchmarking aid only (DIAGNOSTIC_DISABLE_PLUGINS): what is switched off; empty when serving. */
  readonly disabledPlugins: ReadonlySet<DiagnosticPlugin>;
  readonly tracing: TracingConfig;
}

/** The downstream profile service behind `User.profile` and the policies around its calls. */
export interface ProfileServiceConfig {
  /** Base URL (`GET {url}/users/{id}`); absent means `User.profile` is always null and nothing is called. */
  readonly url: string | undefined;
  /** Ask for a request's users in one call, `GET {url}/users?ids=a,b,c`, instead of one call per user. */
  readonly batch: boolean;
  /** Longest one call may take (at most the request deadline, whose abort also cancels it). */
  readonly timeoutMs: number;
  /** Further attempts after a retryable failure (network error, timeout, 429, 502, 503, 504). */
  readonly retries: number;
  readonly retryInitialDelayMs: number;
  readonly retryMaxDelayMs: number;
  /** The breaker opens after more than this many consecutive failed calls. */
  readonly breakerFailures: number;
  /** An open breaker lets probes through (half-open) after this long. */
  readonly breakerHalfOpenAfterMs: number;
  /** Probe calls a half-open breaker lets through; all must succeed for it to close, one failure reopens it. */
  readonly breakerProbes: number;
  /** Most calls in flight at once (bulkhead). */
  readonly maxConcurrent: number;
  /** Most calls waiting for a slot; past it a call fails at once. */
  readonly maxQueue: number;
}

/** The response cache of query results (see src/plugins/use-response-cache.ts). */
export interface ResponseCacheConfig {
  readonly enabled: boolean;
  /** Shared by every replica when set (REDIS_URL); each process caches in its own memory otherwise. */
  readonly redisUrl: string | undefined;
  /** Life of a cached response holding no type with a TTL of its own. */
  readonly ttlMs: number;
  /**
   * TTLs by type name or schema coordinate (`Type.field`); a response lives as long as the shortest
   * TTL among the types it holds. Includes `UserProfile` (RESPONSE_CACHE_TTL_PROFILE_MS).
   */
  readonly ttlPerType: Readonly<Record<string, number>>;
  /** Most responses kept in memory (the memory store only; least recently used go first). */
  readonly maxEntries: number;
  /** Most bytes of responses kept in memory, estimated (the memory store only; RESPONSE_CACHE_MAX_MB). */
  readonly maxBytes: number;
}

/** Idempotency keys of mutations (the `Idempotency-Key` header). */
export interface IdempotencyConfig {
  /** A key and its stored response are kept this long. */
  readonly ttlHours: number;
  /**
   * An in-flight key older than this was left by a request that died with its process (a request
   * never runs past its deadline): the next request with the key takes it over.
   */
  readonly abandonedAfterMs: number;
}

/** The N+1 alarm: SQL statements per GraphQL operation. */
export interface SqlBudgetConfig {
  /** Statements one query or mutation may send before it is reported. */
  readonly perRequest: number;
  /** Report (log a warning naming the operation and its most repeated statement); production only counts. */
  readonly warn: boolean;
}

/** OpenTelemetry tracing (see src/tracing/). */
export interface TracingConfig {
  /** OTLP/HTTP base URL; undefined: tracing is off and costs nothing. */
  readonly endpoint: string | undefined;
  /** `service.name` of the spans. */
  readonly serviceName: string;
}

/** The outbox relay, the pruner and the live event feed. */
export interface EventsConfig {
  /** RabbitMQ; absent means events stay in the outbox and live updates tail the outbox. */
  readonly amqpUrl: string | undefined;
  /** Durable topic exchange events are published to, routing key = event type. */
  readonly exchange: string;
  /** Pause between relay (and outbox tail) polls when there was nothing to do. */
  readonly pollIntervalMs: number;
  /** Most events one relay claims at once. */
  readonly batchSize: number;
  /** Published events are deleted this long after publishing. */
  readonly retentionHours: number;
  /** Live subscriptions (SSE streams) this process holds at once, and per token subject. */
  readonly maxSubscriptions: number;
  readonly maxSubscriptionsPerSubject: number;
}

/** How bearer tokens are verified. */
export interface AuthConfig {
  /** HS256 shared secret (at least 32 bytes), or undefined when JWKS is used. */
  readonly secret: string | undefined;
  /** RS256/ES256 keys from this JWKS endpoint (cached; refetched on an unknown key id). */
  readonly jwksUrl: string | undefined;
  readonly issuer: string | undefined;
  readonly audience: string | undefined;
  readonly clockToleranceS: number;
  /** Longest token lifetime accepted: `exp - iat`, or `exp - now` for a token without `iat`. */
  readonly maxTtlS: number;
  /** True when neither a secret nor a JWKS URL was configured (development/test only). */
  readonly usingDevelopmentSecret: boolean;
}

export interface LimitsConfig {
  readonly introspection: boolean;
  readonly hideSuggestions: boolean;
  readonly maxBodyBytes: number;
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxDirectives: number;
  readonly maxTokens: number;
  readonly maxQueryLength: number;
  readonly maxSelections: number;
  readonly maxCost: number;
  readonly rateLimit: { readonly points: number; readonly windowS: number; readonly redisUrl: string | undefined };
}

/**
 * The secret a development or test server uses when no JWT configuration is given, so a newcomer can
 * sign tokens with `npm run token`. Production refuses to start without real configuration.
 */
const DEVELOPMENT_JWT_SECRET = 'development-only-secret-do-not-use-in-production!';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Empty strings count as unset, as they do in most deployment tools. */
function withoutEmpty(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
}

/** Validates the environment; throws a ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const e = parseEnv(env);
  const problems: string[] = [];
  if (e.JWT_SECRET && e.JWT_JWKS_URL) problems.push('JWT_SECRET, JWT_JWKS_URL: set one of them, not both');
  if (e.NODE_ENV === 'production' && !e.JWT_SECRET && !e.JWT_JWKS_URL) {
    problems.push('JWT_SECRET or JWT_JWKS_URL: required in production (the server will not run unauthenticated)');
  }
  if (e.NODE_ENV === 'production' && e.JWT_JWKS_URL && (!e.JWT_ISSUER || !e.JWT_AUDIENCE)) {
    problems.push('JWT_ISSUER, JWT_AUDIENCE: required in production with JWT_JWKS_URL (tokens of other apps of the same provider must not pass)');
  }
  if (e.RESPONSE_CACHE_TTL_PER_TYPE && 'UserProfile' in e.RESPONSE_CACHE_TTL_PER_TYPE && withoutEmpty(env).RESPONSE_CACHE_TTL_PROFILE_MS !== undefined) {
    problems.push('RESPONSE_CACHE_TTL_PER_TYPE, RESPONSE_CACHE_TTL_PROFILE_MS: both set the TTL of UserProfile; set one of them');
  }
  if (e.DIAGNOSTIC_DISABLE_PLUGINS?.length && e.DIAGNOSTIC_DISABLE_PLUGINS_ACK !== DIAGNOSTIC_ACK) {
    problems.push(`DIAGNOSTIC_DISABLE_PLUGINS: switches protections off, for benchmarking only; refused unless DIAGNOSTIC_DISABLE_PLUGINS_ACK=${DIAGNOSTIC_ACK}`);
  }
  if (problems.length) throw new ConfigError(problems);
  const production = e.NODE_ENV === 'production';
  return Object.freeze({
    env: e.NODE_ENV,
    http: Object.freeze({
      host: e.HOST,
      port: e.PORT,
      metricsPort: e.METRICS_PORT,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      readinessTimeoutMs: e.READINESS_TIMEOUT_MS,
      trustedProxyHops: e.TRUSTED_PROXY_HOPS,
      corsOrigins: Object.freeze(e.CORS_ORIGINS ?? []),
    }),
    graphiql: e.GRAPHIQL ?? e.NODE_ENV !== 'production',
    compiledQueries: e.COMPILE_QUERIES ? Object.freeze({ after: e.COMPILE_QUERIES_AFTER }) : undefined,
    logLevel: e.LOG_LEVEL,
    auth: Object.freeze({
      secret: e.JWT_JWKS_URL ? undefined : (e.JWT_SECRET ?? DEVELOPMENT_JWT_SECRET),
      jwksUrl: e.JWT_JWKS_URL,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      clockToleranceS: e.JWT_CLOCK_TOLERANCE_S,
      maxTtlS: e.JWT_MAX_TTL_S,
      usingDevelopmentSecret: !e.JWT_SECRET && !e.JWT_JWKS_URL,
    }),
    limits: Object.freeze({
      introspection: e.INTROSPECTION ?? !production,
      hideSuggestions: production,
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxDirectives: e.GRAPHQL_MAX_DIRECTIVES,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      maxQueryLength: e.GRAPHQL_MAX_QUERY_LENGTH,
      maxSelections: e.GRAPHQL_MAX_SELECTIONS,
      maxCost: e.GRAPHQL_MAX_COST,
      rateLimit: Object.freeze({ points: e.RATE_LIMIT_POINTS, windowS: e.RATE_LIMIT_WINDOW_S, redisUrl: e.REDIS_URL }),
    }),
    database: databaseConfig(e),
    events: Object.freeze({
      amqpUrl: e.AMQP_URL,
      exchange: e.AMQP_EXCHANGE,
      pollIntervalMs: e.OUTBOX_POLL_INTERVAL_MS,
      batchSize: e.OUTBOX_BATCH_SIZE,
      retentionHours: e.OUTBOX_RETENTION_HOURS,
      maxSubscriptions: e.MAX_SUBSCRIPTIONS,
      maxSubscriptionsPerSubject: e.MAX_SUBSCRIPTIONS_PER_SUBJECT,
    }),
    profileService: Object.freeze({
      url: e.PROFILE_SERVICE_URL?.replace(/\/+$/, ''),
      batch: e.PROFILE_SERVICE_BATCH,
      // A call never outlives the request that made it.
      timeoutMs: Math.min(e.PROFILE_TIMEOUT_MS, e.REQUEST_TIMEOUT_MS),
      retries: e.PROFILE_RETRIES,
      retryInitialDelayMs: e.PROFILE_RETRY_INITIAL_DELAY_MS,
      retryMaxDelayMs: Math.max(e.PROFILE_RETRY_MAX_DELAY_MS, e.PROFILE_RETRY_INITIAL_DELAY_MS),
      breakerFailures: e.PROFILE_BREAKER_FAILURES,
      breakerHalfOpenAfterMs: e.PROFILE_BREAKER_HALF_OPEN_AFTER_MS,
      breakerProbes: e.PROFILE_BREAKER_PROBES,
      maxConcurrent: e.PROFILE_MAX_CONCURRENT,
      maxQueue: e.PROFILE_MAX_QUEUE,
    }),
    sqlBudget: Object.freeze({ perRequest: e.SQL_BUDGET_PER_REQUEST, warn: !production }),
    idempotency: Object.freeze({ ttlHours: e.IDEMPOTENCY_TTL_HOURS, abandonedAfterMs: 2 * e.REQUEST_TIMEOUT_MS }),
    tracing: Object.freeze({ endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: e.OTEL_SERVICE_NAME }),
    responseCache: Object.freeze({
      enabled: e.RESPONSE_CACHE,
      redisUrl: e.REDIS_URL,
      ttlMs: e.RESPONSE_CACHE_TTL_MS,
      ttlPerType: Object.freeze({ UserProfile: e.RESPONSE_CACHE_TTL_PROFILE_MS, ...e.RESPONSE_CACHE_TTL_PER_TYPE }),
      maxEntries: e.RESPONSE_CACHE_MAX_ENTRIES,
      maxBytes: e.RESPONSE_CACHE_MAX_MB * 1024 * 1024,
    }),
    disabledPlugins: new Set(e.DIAGNOSTIC_DISABLE_PLUGINS ?? []) as ReadonlySet<DiagnosticPlugin>,
  });
}

/**
 * Only the database settings, for tools that need nothing else (migrations, seeding): the rules that
 * keep the server from running unauthenticated do not apply to a migration job.
 */
export function loadDatabaseConfig(env: Record<string, string | undefined> = process.env): DatabaseConfig {
  return databaseConfig(parseEnv(env));
}

/**
 * Whether this is a production process, for what is built while modules load, before `loadConfig` runs
 * (the schema builder). NODE_ENV only, unvalidated: `loadConfig` reports a bad value.
 */
export function isProduction(env: Record<string, string | undefined> = process.env): boolean {
  return env.NODE_ENV === 'production';
}

type ParsedEnv = z.output<typeof envSchema>;

function parseEnv(env: Record<string, string | undefined>): ParsedEnv {
  const parsed = envSchema.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return parsed.data;
}

/** Margin of the client-side query timeout over the server's statement timeout. */
const QUERY_TIMEOUT_MARGIN_MS = 1_000;
/** Above our longest pause inside a transaction: the relay publishing the batch it claimed (up to 30 s). */
const IDLE_IN_TRANSACTION_FLOOR_MS = 60_000;

function databaseConfig(e: ParsedEnv): DatabaseConfig {
  // A statement never outlives the request that sent it.
  const statementTimeoutMs = Math.min(e.DB_STATEMENT_TIMEOUT_MS, e.REQUEST_TIMEOUT_MS);
  return Object.freeze({
    url: e.DATABASE_URL,
    poolMax: e.DB_POOL_MAX,
    connectionTimeoutMs: e.DB_CONNECTION_TIMEOUT_MS,
    idleTimeoutMs: e.DB_IDLE_TIMEOUT_MS,
    statementTimeoutMs,
    queryTimeoutMs: e.DB_QUERY_TIMEOUT_MS ?? statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS,
    maxLifetimeS: e.DB_MAX_LIFETIME_S,
    statementCacheSize: e.DB_STATEMENT_CACHE_SIZE,
    transactionTimeoutMs: e.REQUEST_TIMEOUT_MS,
    idleInTransactionTimeoutMs: Math.max(2 * e.REQUEST_TIMEOUT_MS, IDLE_IN_TRANSACTION_FLOOR_MS),
    embeddedDataDir: e.EMBEDDED_DATA_DIR,
    seedEmbedded: e.SEED_EMBEDDED ?? e.NODE_ENV === 'development',
  });
}
