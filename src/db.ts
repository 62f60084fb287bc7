import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlMigrationAwareDriverAdapterFactory, SqlQuery, SqlQueryable, Transaction } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { DatabaseConfig } from './config.js';
import { openEmbeddedDatabase } from './embedded/index.js';
import { type Prisma, PrismaClient } from './generated/prisma/client.js';
import { applyMigrations } from './migrations.js';
import { cancelStatements, createPool, statementNames } from './pool.js';
import { argTypeOf, rowsOf } from './raw-rows.js';
import { StatementTally, statementScope } from './statement-scope.js';

export { PrismaClient, StatementTally };

/** What a pool can tell about itself; absent for the embedded database (one in-process connection). */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/** A SQL statement as Prisma sent it to the database. */
export interface QueryEvent {
  readonly query: string;
  readonly durationMs: number;
}

export interface DatabaseOptions {
  /** Apply pending migrations before returning (always done for the embedded database). */
  readonly migrate?: boolean;
}

export interface Database {
  readonly kind: 'postgresql' | 'embedded';
  /** True when this open created the embedded database (a new directory, or memory://): migrated and empty. */
  readonly created: boolean;
  readonly prisma: PrismaClient;
  readonly adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  /** The pg pool behind Prisma when on PostgreSQL. */
  readonly pool: pg.Pool | undefined;
  /** Connections of the pool; undefined for the embedded database (one in-process connection). */
  poolStats(): PoolStats | undefined;
  /** Subscribes to every statement Prisma sends (metrics time them, tests count them). */
  onQuery(listener: (event: QueryEvent) => void): () => void;
  /**
   * Runs `fn` with `tally` as its statement tally: every statement Prisma sends from `fn`'s async
   * context (its awaits, promise callbacks, timers, DataLoader batches it schedules) is added to it.
   * A statement belongs to the async context that sent it; see README, "SQL statement budget".
   */
  tally<T>(tally: StatementTally, fn: () => T): T;
  /**
   * For a unit of work answered before its statements ended (its deadline passed): cancels those
   * still running on PostgreSQL (a CancelRequest each) and resolves once every one has ended, with
   * its rows or the cancellation. With the scope's signal aborted, none starts after this (but a
   * ROLLBACK), so a request answered REQUEST_TIMEOUT leaves no statement running behind it.
   */
  settle(tally: StatementTally): Promise<void>;
  /**
   * Whether `queryRows` sends its statements through Prisma's client (`$queryRaw`) rather than straight
   * to the driver adapter: set when tracing is on, so @prisma/instrumentation traces every statement.
   */
  rawThroughClient: boolean;
  /** Cheap round trip used by readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the database the configuration names: PostgreSQL through a bounded `pg` pool when a URL is set,
 * otherwise the embedded PGlite database (migrated on open). Everything above the adapter is the same.
 */
export async function openDatabase(config: DatabaseConfig, options: DatabaseOptions = {}): Promise<Database> {
  const driver = await openDriver(config);
  try {
    if (options.migrate || driver.kind === 'embedded') await driver.migrate();
  } catch (error) {
    await driver.close().catch(() => undefined);
    throw error;
  }
  return wrap(driver, config);
}

/** Applies pending migrations to the configured database; returns the names applied. */
export async function migrateDatabase(config: DatabaseConfig, log?: (message: string) => void): Promise<string[]> {
  // A new embedded database is made by initdb here, not copied from the template: the migration tool
  // applies (and reports) each migration itself.
  const driver = await openDriver(config, { fromTemplate: false });
  try {
    return await driver.migrate(log);
  } finally {
    await driver.close();
  }
}

interface Driver {
  readonly kind: Database['kind'];
  readonly created: boolean;
  readonly adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  readonly pool: pg.Pool | undefined;
  migrate(log?: (message: string) => void): Promise<string[]>;
  readonly close: () => Promise<void>;
}

async function openDriver(config: DatabaseConfig, { fromTemplate = true } = {}): Promise<Driver> {
  if (config.url) {
    const url = config.url;
    const pool = createPool(config);
    const adapterFactory = new PrismaPg(pool, { statementNameGenerator: statementNames(config.statementCacheSize) });
    return {
      kind: 'postgresql',
      created: false,
      adapterFactory,
      pool,
      // The URL lets the migrator hold PostgreSQL's advisory lock on its own session, so replicas take turns.
      migrate: async (log) => (await applyMigrations(adapterFactory, { connectionString: url, log })).applied,
      close: () => pool.end(),
    };
  }
  // Held by this process alone; a new one starts from the migrated template.
  const embedded = await openEmbeddedDatabase(config.embeddedDataDir, { fromTemplate });
  const adapterFactory = new PrismaPGlite(embedded.pglite);
  return {
    kind: 'embedded',
    created: embedded.created,
    adapterFactory,
    pool: undefined,
    migrate: async (log) => (await applyMigrations(adapterFactory, { log })).applied,
    close: embedded.close,
  };
}

/**
 * `factory` with every statement its adapters (and their transactions) run kept in the scope of the
 * async context that sends it (`statementScope`): counted as running until answered, refused once the
 * scope's request was aborted (but a ROLLBACK), and reported to `observe` once it succeeded. The same
 * statements as Prisma's `query` log events (COMMIT and ROLLBACK included; BEGIN is the adapter's own
 * on both, unreported by either, but a transaction is not started for an aborted scope). Observed here
 * rather than through the events because Prisma's query logging made a findMany by id 49 µs slower
 * (543 against 494 µs, benchmark machine); node by id and createUser, one statement each, took 20 µs
 * less per request this way (in-process A/B).
 */
function observedFactory(factory: SqlDriverAdapterFactory, observe: (tally: StatementTally | undefined, sql: string, durationMs: number) => void): SqlDriverAdapterFactory {
  const watch = (queryable: SqlQueryable, transaction: boolean) => {
    for (const method of ['queryRaw', 'executeRaw'] as const) {
      const run = queryable[method].bind(queryable) as (query: SqlQuery) => Promise<unknown>;
      // An own property over the prototype's method: the adapter's private fields still see `this`.
      (queryable as unknown as Record<string, unknown>)[method] = async (query: SqlQuery) => {
        const tally = statementScope.getStore();
        // The request was answered: nothing more runs for it but a ROLLBACK, and a transaction of its
        // ends with ROLLBACK, not COMMIT (Prisma's release after a failed COMMIT would hand the
        // connection back mid-transaction).
        const refused = tally?.signal?.aborted === true && query.sql !== ROLLBACK.sql;
        if (refused && !(transaction && query.sql === 'COMMIT')) throw tally.signal.reason;
        const sent = refused ? ROLLBACK : query;
        tally?.start();
        const start = performance.now();
        let result;
        try {
          result = await run(sent);
        } finally {
          tally?.end();
        }
        observe(tally, sent.sql, performance.now() - start);
        if (refused) throw tally.signal.reason;
        return result;
      };
    }
  };
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    async connect() {
      const adapter = await factory.connect();
      watch(adapter, false);
      const startTransaction = adapter.startTransaction.bind(adapter);
      adapter.startTransaction = async (isolationLevel) => {
        const tally = statementScope.getStore();
        if (tally?.signal?.aborted) throw tally.signal.reason;
        tally?.start();
        let transaction: Transaction;
        try {
          transaction = await startTransaction(isolationLevel);
        } finally {
          tally?.end();
        }
        watch(transaction, true);
        return transaction;
      };
      return adapter;
    },
  };
}

const ROLLBACK: SqlQuery = { sql: 'ROLLBACK', args: [], argTypes: [] };

/** The direct runner of each client openDatabase made. */
const direct = new WeakMap<object, <T>(statement: Prisma.Sql) => Promise<T[]>>();

/**
 * `prisma.$queryRaw(statement)`: the same rows (values of the same types), the same statement scope,
 * counting, refusal after a deadline, cancellation and metrics, but for a client made by openDatabase
 * sent straight to Prisma's driver adapter (@prisma/adapter-pg, or PGlite's), past the client's
 * request pipeline: 141 against 251 µs of CPU per statement by id, and 335 for a findMany (in-process,
 * sequential; pg alone: 129). A transaction's client (`tx`) is not such a client: its statements go
 * through `$queryRaw`, on the transaction's connection.
 */
export function queryRows<T>(prisma: Pick<PrismaClient, '$queryRaw'>, statement: Prisma.Sql): Promise<T[]> {
  const run = direct.get(prisma);
  return run ? run<T>(statement) : prisma.$queryRaw<T[]>(statement);
}

function wrap({ kind, created, adapterFactory, pool, close: closeDriver }: Driver, config: DatabaseConfig): Database {
  const listeners = new Set<(event: QueryEvent) => void>();
  let closing: Promise<void> | undefined;
  const observe = (tally: StatementTally | undefined, query: string, durationMs: number) => {
    if (tally) {
      tally.count++;
      tally.texts?.push(query);
    }
    if (listeners.size === 0) return;
    const event = { query, durationMs };
    for (const listener of listeners) listener(event);
  };
  const observed = observedFactory(adapterFactory, observe);
  const prisma = new PrismaClient({
    adapter: observed,
    // Other formats capture a stack trace (\`new Error()\`) on every query, to point an error message at
    // the calling line: 12 % of a findMany's CPU in a profile (353 → 304 µs per findMany by id, against
    // ~135 µs for node-postgres alone). Errors are classified by code and masked for clients anyway.
    errorFormat: 'minimal',
    // Every $transaction: wait for a connection as long as any query does (not Prisma's own 2 s), and
    // never outlive the request.
    transactionOptions: { maxWait: config.connectionTimeoutMs, timeout: config.transactionTimeoutMs },
  });
  // One adapter for queryRows, connected on first use: over the pool (or PGlite) Prisma's client uses.
  let adapter: SqlDriverAdapter | undefined;
  let connecting: Promise<SqlDriverAdapter> | undefined;
  const run = async <T>(adapter: SqlDriverAdapter, statement: Prisma.Sql): Promise<T[]> => {
    const { values } = statement;
    return rowsOf<T>(await adapter.queryRaw({ sql: statement.text, args: values, argTypes: values.map(argTypeOf) }));
  };
  direct.set(prisma, <T>(statement: Prisma.Sql): Promise<T[]> => {
    if (database.rawThroughClient) return prisma.$queryRaw<T[]>(statement);
    if (adapter) return run<T>(adapter, statement);
    connecting ??= observed.connect().then(
      (connected) => (adapter = connected),
      (error: unknown) => {
        connecting = undefined;
        throw error;
      },
    );
    return connecting.then((connected) => run<T>(connected, statement));
  });
  const database: Database = {
    kind,
    created,
    prisma,
    rawThroughClient: false,
    adapterFactory,
    pool,
    poolStats: () => pool && { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount },
    onQuery(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    tally: (tally, fn) => statementScope.run(tally, fn),
    settle(tally) {
      if (tally.running === 0) return Promise.resolve();
      if (pool) cancelStatements(pool, tally);
      return tally.idle();
    },
    async ping() {
      await prisma.$queryRawUnsafe('SELECT 1');
    },
    close() {
      // Idempotent: shutdown and tests may both close it.
      closing ??= prisma
        .$disconnect()
        .then(() => adapter?.dispose())
        .then(closeDriver);
      return closing;
    },
  };
  return database;
}
