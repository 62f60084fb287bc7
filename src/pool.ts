import pg from 'pg';
import type { DatabaseConfig } from './config.js';
import { isQueryReadTimeout } from './errors/database.js';

/** TCP keep-alive probes start after a connection is this long idle (keeps NAT/firewall state alive). */
const TCP_KEEPALIVE_DELAY_MS = 10_000;

/**
 * A pg client that drops its connection when a query gets no answer within `query_timeout`.
 * node-postgres fails such a query but keeps the connection, the unanswered query still ahead of
 * every later one; a client released without an error (as the Prisma adapter does after a
 * transaction) would go back to the pool that way and hang each request that takes it. Callback
 * queries (pool.query) need nothing: the pool drops a client released with an error.
 */
class Client extends pg.Client {
  // One pass-through signature for node-postgres' overloads; the result is returned untouched.
  override query(...args: unknown[]): never {
    const result = (pg.Client.prototype.query as (...a: unknown[]) => unknown).apply(this, args);
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        // end() destroys the socket of a client with a query in flight; queued queries fail at once.
        if (isQueryReadTimeout(error)) void this.end();
      });
    }
    return result as never;
  }
}

/**
 * The pool's options: never waits forever (bounded size, connect, statement and client-side query
 * timeouts) and heals after a silent network fault (keep-alive, the query timeout dropping a
 * connection that lost its answer, bounded connection lifetime).
 */
export function poolOptions(config: DatabaseConfig): pg.PoolConfig {
  return {
    connectionString: config.url,
    max: config.poolMax,
    connectionTimeoutMillis: config.connectionTimeoutMs,
    idleTimeoutMillis: config.idleTimeoutMs,
    maxLifetimeSeconds: config.maxLifetimeS,
    statement_timeout: config.statementTimeoutMs,
    query_timeout: config.queryTimeoutMs,
    idle_in_transaction_session_timeout: config.idleInTransactionTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: TCP_KEEPALIVE_DELAY_MS,
    application_name: 'user-api-gateway',
    Client,
  };
}

/** Statements worth preparing: queries and writes, not transaction control, SET or DDL. */
const PREPARABLE = /^\s*(?:SELECT|WITH|INSERT|UPDATE|DELETE)\b/i;

/**
 * Names for prepared statements (PrismaPg's `statementNameGenerator`), or undefined when `capacity`
 * is 0. A statement with a name is parsed once per connection and, after PostgreSQL's first five
 * executions, runs on its cached generic plan: a users page spent ~0.3 ms parsing and ~1.2 ms
 * planning its one statement on every request before the ~3 ms it takes to run. The first `capacity`
 * distinct texts get a name; any later one is sent unnamed as before, so neither this map nor the
 * statements each connection keeps can grow past it, whatever shapes clients ask for.
 */
export function statementNames(capacity: number): ((query: { sql: string }) => string) | undefined {
  if (capacity === 0) return undefined;
  const names = new Map<string, string>();
  return ({ sql }) => {
    let name = names.get(sql);
    if (name === undefined && names.size < capacity && PREPARABLE.test(sql)) names.set(sql, (name = `uag_${names.size + 1}`));
    // '' is the unnamed statement (node-postgres treats a falsy name as none).
    return name ?? '';
  };
}

/** The pg pool behind Prisma on PostgreSQL. */
export function createPool(config: DatabaseConfig): pg.Pool {
  const pool = new pg.Pool(poolOptions(config));
  // An idle client losing its connection emits 'error' on the pool; unhandled, that would end the
  // process. The pool drops the client and the next checkout opens a fresh connection.
  pool.on('error', () => undefined);
  return pool;
}
