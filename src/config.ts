import { z } from 'zod';

/**
 * The only reader of `process.env`. Every variable is declared here once, validated together, and
 * turned into a typed read-only config; a bad value stops start-up with a message naming it.
 */
const boolean = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(0, 65_535).default(4000),
  GRAPHIQL: boolean.optional(),
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
    .optional(),
  DB_POOL_MAX: int(1, 1000).default(10),
  DB_CONNECTION_TIMEOUT_MS: int(1, 600_000).default(5_000),
  DB_IDLE_TIMEOUT_MS: int(1, 3_600_000).default(10_000),
  DB_STATEMENT_TIMEOUT_MS: int(1, 3_600_000).default(10_000),
  EMBEDDED_DATA_DIR: z.string().min(1).default('./.data/pglite'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  METRICS_PORT: int(1, 65_535).optional(),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(25_000),
  REQUEST_TIMEOUT_MS: int(100, 600_000).default(15_000),
  READINESS_TIMEOUT_MS: int(50, 60_000).default(1_000),
});

export type Env = z.input<typeof envSchema>;

export interface DatabaseConfig {
  /** PostgreSQL connection string; absent means the embedded PGlite database. */
  readonly url: string | undefined;
  readonly poolMax: number;
  readonly connectionTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly statementTimeoutMs: number;
  /** PGlite data directory, or `memory://` for an in-memory database. */
  readonly embeddedDataDir: string;
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
  };
  readonly graphiql: boolean;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly database: DatabaseConfig;
}

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
  const parsed = envSchema.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  return Object.freeze({
    env: e.NODE_ENV,
    http: Object.freeze({
      host: e.HOST,
      port: e.PORT,
      metricsPort: e.METRICS_PORT,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      readinessTimeoutMs: e.READINESS_TIMEOUT_MS,
    }),
    graphiql: e.GRAPHIQL ?? e.NODE_ENV !== 'production',
    logLevel: e.LOG_LEVEL,
    database: Object.freeze({
      url: e.DATABASE_URL,
      poolMax: e.DB_POOL_MAX,
      connectionTimeoutMs: e.DB_CONNECTION_TIMEOUT_MS,
      idleTimeoutMs: e.DB_IDLE_TIMEOUT_MS,
      // A statement never outlives the request that sent it.
      statementTimeoutMs: Math.min(e.DB_STATEMENT_TIMEOUT_MS, e.REQUEST_TIMEOUT_MS),
      embeddedDataDir: e.EMBEDDED_DATA_DIR,
    }),
  });
}
