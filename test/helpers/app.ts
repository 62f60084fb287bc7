import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { signToken } from '../../src/auth.js';
import { randomUUID } from 'node:crypto';
import { type Config, loadConfig } from '../../src/config.js';
import { type Database, openDatabase } from '../../src/db.js';
import { SQL_BUDGET_EXCEEDED } from '../../src/plugins/use-sql-budget.js';
import { pino } from 'pino';
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
  gql<T = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
    as?: { token: string | null },
  ): Promise<GraphQLResponse<T>>;
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

/**
 * Gives the calling test file its own database (a copy of the migrated template on PostgreSQL, an
 * in-memory PGlite otherwise) and an app over it, torn down after the file.
 */
export function useTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}): TestApp {
  const statements: string[] = [];
  const logs: Record<string, any>[] = [];
  let app: App | undefined;
  let config: Config | undefined;
  let adminToken = '';
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
    config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: url,
      EMBEDDED_DATA_DIR: 'memory://',
      DB_POOL_MAX: '25',
      LOG_LEVEL: 'debug',
      // Test files send hundreds of requests a minute as one ADMIN; the ones about the rate limit set it.
      RATE_LIMIT_POINTS: '1000000',
      ...env,
    });
    const db = await openDatabase(config.database);
    db.onQuery((e) => statements.push(e.query));
    const logger = pino({ level: config.logLevel }, { write: (line: string) => logs.push(JSON.parse(line)) });
    app = createApp(config, db, logger);
    adminToken = await signToken(config.auth, { sub: randomUUID(), role: 'ADMIN' });
  });

  afterAll(async () => {
    // The app's own shutdown order (events, Yoga, pool); idempotent, so a test may have closed it already.
    await app?.close();
    await proxy?.close();
    if (template && dbName) await dropDatabase(template.serverUrl, dbName);
  });

  const current = () => {
    if (!app) throw new Error('useTestApp: the app is only ready inside tests');
    return app;
  };

  const fetch = (path: string, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    if (path.startsWith('/graphql') && !headers.has('authorization')) headers.set('authorization', `Bearer ${adminToken}`);
    if (headers.get('authorization') === '') headers.delete('authorization');
    return Promise.resolve(current().yoga.fetch(new Request(`http://localhost${path}`, { ...init, headers })));
  };

  return {
    get app() {
      return current();
    },
    get db() {
      return current().db;
    },
    get proxy() {
      if (!proxy) throw new Error('useTestApp: pass { viaProxy: true } on PostgreSQL to get a proxy');
      return proxy;
    },
    statements,
    logs,
    resetStatements: () => statements.splice(0, statements.length),
    fetch,
    get config() {
      if (!config) throw new Error('useTestApp: the config is only ready inside tests');
      return config;
    },
    token: ({ role = 'USER', sub = randomUUID() } = {}) => signToken(current() && config!.auth, { sub, role }),
    gql: (query, variables, as) => postGraphQL(fetch, adminToken, query, variables, as),
    allowSqlOverBudget: () => {
      overBudgetAllowed = true;
    },
  };
}
