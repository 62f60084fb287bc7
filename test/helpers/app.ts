import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { signToken } from '../../src/auth.js';
import { randomUUID } from 'node:crypto';
import { type Config, loadConfig } from '../../src/config.js';
import { type Database, openDatabase } from '../../src/db.js';
import { SQL_BUDGET_EXCEEDED } from '../../src/plugins/use-sql-budget.js';
import { pino } from 'pino';
import { traceLogFields, type Tracing } from '../../src/tracing/index.js';
import { createDatabase, databaseUrl, dropDatabase, uniqueDatabaseName } from './postgres.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

export interface GraphQLResponse<T = Record<string, any>> {
  data?: T;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
}

export interface TestApp {
  readonly app: App;
  readonly db: Database;
  /** Every log line the app wrote, parsed (level from LOG_LEVEL, default debug). */
  readonly logs: Record<string, any>[];
  /** Every SQL statement Prisma sent since the last `resetStatements()`. */
  readonly statements: string[];
  resetStatements(): void;
  /**
   * POSTs a GraphQL operation through `yoga.fetch`, in-process, as an ADMIN unless `as` names another
   * caller (a token from `token()`, or null for no token at all).
   */
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, as?: { token: string | null }): Promise<GraphQLResponse<T>>;
  /** `yoga.fetch` on a path; /graphql requests carry the ADMIN token unless they set authorization. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** A token the app accepts. */
  token(claims?: { role?: 'USER' | 'ADMIN'; sub?: string }): Promise<string>;
  readonly config: Config;
  /** With `{ viaProxy: true }` on PostgreSQL: the TCP proxy between the app and the database. */
  readonly proxy: TcpProxy;
  /**
   * The current test may send operations past SQL_BUDGET_PER_REQUEST (it exceeds the budget on
   * purpose); otherwise such an operation fails the test that sent it.
   */
  allowSqlOverBudget(): void;
}

/** POSTs an operation to /graphql as ADMIN (`adminToken`), as another caller, or with no token (`{ token: null }`). */
export async function postGraphQL(
  fetch: (path: string, init?: RequestInit) => Promise<Response>,
  adminToken: string,
  query: string,
  variables?: Record<string, unknown>,
  as?: { token: string | null },
): Promise<GraphQLResponse<any>> {
  const authorization = as === undefined ? `Bearer ${adminToken}` : as.token === null ? '' : `Bearer ${as.token}`;
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResponse<any>;
}

export interface TestAppOptions {
  /** Connect through a TCP proxy the test can cut (PostgreSQL only). */
  viaProxy?: boolean;
  /** 'allow': no test of this file fails for an operation past SQL_BUDGET_PER_REQUEST. Default 'enforce'. */
  sqlBudget?: 'enforce' | 'allow';
}

/** An app over its own database connection, as the test helpers build one (see `buildTestApp`). */
export interface BuiltTestApp {
  readonly app: App;
  readonly config: Config;
  /** Every log line the app wrote, parsed. */
  readonly logs: Record<string, any>[];
  /** Every SQL statement Prisma sent (the caller empties it as it likes). */
  readonly statements: string[];
  /** `yoga.fetch` on a path, with the ADMIN token where `authorize` says (unless the request sets authorization; '' removes it). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** POSTs an operation as ADMIN, as another caller or with no token (`{ token: null }`). */
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, as?: { token: string | null }): Promise<GraphQLResponse<T>>;
  /** A token the app accepts. */
  token(claims?: { role?: 'USER' | 'ADMIN'; sub?: string }): Promise<string>;
}

export interface BuildTestAppOptions {
  /** Where `fetch` adds the ADMIN token: only to /graphql requests (default), or to every path. */
  authorize?: 'graphql' | 'all';
  /** The subject of the ADMIN token `fetch` and `gql` send (random otherwise): replicas of one test share it. */
  adminSubject?: string;
  /** Arrays to collect into (the caller's own, e.g. shared for a whole file); new ones otherwise. */
  statements?: string[];
  logs?: Record<string, any>[];
  /** Tracing (createTracing with a test exporter): the app makes spans; log lines carry trace ids. */
  tracing?: Tracing;
}

/**
 * The one way the helpers build a test app: `loadConfig` over the test defaults and `env`, the database,
 * a logger into `logs`, every statement into `statements`, and an ADMIN token. The caller closes it
 * (`app.close()`).
 */
export async function buildTestApp(env: Record<string, string | undefined>, options: BuildTestAppOptions = {}): Promise<BuiltTestApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    EMBEDDED_DATA_DIR: 'memory://',
    LOG_LEVEL: 'debug',
    // Tests write through SQL and read through GraphQL; the cache's own tests turn it on. The whole
    // suite can run with it on: TEST_RESPONSE_CACHE=true (writes through mutations must not be stale).
    RESPONSE_CACHE: process.env.TEST_RESPONSE_CACHE ?? 'false',
    // Every query and mutation compiled (graphql-jit) from its first execution, so the suite runs the
    // compiled path; subscriptions stay interpreted. TEST_COMPILE_QUERIES=false runs it all interpreted.
    COMPILE_QUERIES: process.env.TEST_COMPILE_QUERIES ?? 'true',
    COMPILE_QUERIES_AFTER: '0',
    ...env,
  });
  const { statements = [], logs = [] } = options;
  const db = await openDatabase(config.database);
  db.onQuery((e) => statements.push(e.query));
  const mixin = options.tracing ? { mixin: traceLogFields } : {};
  const logger = pino({ level: config.logLevel, ...mixin }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const app = createApp(config, db, logger, { tracing: options.tracing });
  const token = ({ role = 'USER', sub = randomUUID() }: { role?: 'USER' | 'ADMIN'; sub?: string } = {}) => signToken(config.auth, { sub, role });
  const adminToken = await token({ role: 'ADMIN', sub: options.adminSubject });
  const authorizeAll = options.authorize === 'all';
  const fetch = (path: string, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    if ((authorizeAll || path.startsWith('/graphql')) && !headers.has('authorization')) headers.set('authorization', `Bearer ${adminToken}`);
    if (headers.get('authorization') === '') headers.delete('authorization');
    return Promise.resolve(app.yoga.fetch(new Request(`http://localhost${path}`, { ...init, headers })));
  };
  return {
    app,
    config,
    logs,
    statements,
    fetch,
    token,
    gql: (query, variables, as) => postGraphQL(fetch, adminToken, query, variables, as),
  };
}

/**
 * Gives the calling test file its own database (a copy of the migrated template on PostgreSQL, an
 * in-memory PGlite otherwise) and an app over it, torn down after the file.
 */
export function useTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}): TestApp {
  // The same arrays for the whole file: a test may keep a reference to them.
  const statements: string[] = [];
  const logs: Record<string, any>[] = [];
  let built: BuiltTestApp | undefined;
  let dbName: string | undefined;
  let proxy: TcpProxy | undefined;
  const template = inject('pgTemplate');
  // The N+1 alarm: the app logs each operation past the budget (outside production); a test that sent
  // one fails here, with the operation and its repeated statement, unless it allowed it.
  let logsBeforeTest = 0;
  let overBudgetAllowed = false;
  beforeEach(() => {
    logsBeforeTest = logs.length;
    overBudgetAllowed = options.sqlBudget === 'allow';
  });
  afterEach(() => {
    const over = logs.slice(logsBeforeTest).filter((l) => l.msg === SQL_BUDGET_EXCEEDED);
    if (over.length === 0 || overBudgetAllowed) return;
    const lines = over.map(
      (l) => `  ${l.operationType} ${l.operationName ?? '(anonymous)'}: ${l.statements} statements (budget ${l.budget}), ${l.repeatedTimes}× ${l.repeatedStatement}`,
    );
    throw new Error(`SQL statement budget exceeded (call allowSqlOverBudget() if on purpose):\n${lines.join('\n')}`);
  });

  beforeAll(async () => {
    let url: string | undefined;
    if (template) {
      dbName = uniqueDatabaseName('uag_test');
      await createDatabase(template.serverUrl, dbName, template.name);
      url = databaseUrl(template.serverUrl, dbName);
      if (options.viaProxy) {
        const target = new URL(url);
        proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
        target.hostname = '127.0.0.1';
        target.port = String(proxy.port);
        url = target.toString();
      }
    }
    built = await buildTestApp(
      {
        DATABASE_URL: url,
        DB_POOL_MAX: '25',
        // Test files send hundreds of requests a minute as one ADMIN; the ones about the rate limit set it.
        RATE_LIMIT_POINTS: '1000000',
        ...env,
      },
      { statements, logs },
    );
  });

  afterAll(async () => {
    // The app's own shutdown order (events, Yoga, pool); idempotent, so a test may have closed it already.
    await built?.app.close();
    await proxy?.close();
    if (template && dbName) await dropDatabase(template.serverUrl, dbName);
  });

  const current = () => {
    if (!built) throw new Error('useTestApp: the app is only ready inside tests');
    return built;
  };

  return {
    get app() {
      return current().app;
    },
    get db() {
      return current().app.db;
    },
    get proxy() {
      if (!proxy) throw new Error('useTestApp: pass { viaProxy: true } on PostgreSQL to get a proxy');
      return proxy;
    },
    statements,
    logs,
    resetStatements: () => statements.splice(0, statements.length),
    fetch: (path, init) => current().fetch(path, init),
    get config() {
      if (!built) throw new Error('useTestApp: the config is only ready inside tests');
      return built.config;
    },
    token: (claims) => current().token(claims),
    gql: (query, variables, as) => current().gql(query, variables, as),
    allowSqlOverBudget: () => {
      overBudgetAllowed = true;
    },
  };
}
