import net from 'node:net';
import pg from 'pg';
import type { DatabaseConfig } from './config.js';
import { isQueryReadTimeout, QUERY_READ_TIMEOUT } from './errors/database.js';
import { type StatementTally, statementScope } from './statement-scope.js';

/** TCP keep-alive probes start after a connection is this long idle (keeps NAT/firewall state alive). */
const TCP_KEEPALIVE_DELAY_MS = 10_000;

/**
 * The scope of each statement config handed to the pool, taken when `pool.query` is called: the
 * pool runs it on a client later, from whatever async context released that client (when every
 * connection was busy), which is not the sender's.
 */
const SENT_FROM = Symbol('statement scope');
/** A statement config with the scope it was sent from (a property, not a WeakMap: see use-context-cache.ts). */
type Sent = { [SENT_FROM]?: StatementTally | null };

/** The pool's sweep runs this many times per answer timeout, between 10 and 500 ms apart. */
const SWEEPS_PER_TIMEOUT = 20;
export const sweepPeriodMs = (answerTimeoutMs: number): number => Math.min(500, Math.max(10, Math.floor(answerTimeoutMs / SWEEPS_PER_TIMEOUT)));

/** A statement on the wire, as node-postgres keeps it (`_activeQuery`): its callback gets the answer. */
interface ActiveQuery {
  callback?: ((error: Error | null, result?: unknown) => void) | undefined;
}

/**
 * A pg client that knows the statement scope of the last statement it was given (see
 * `cancelStatements`), and drops its connection when a statement goes unanswered too long (the pool's
 * sweep finds it, see Pool). The statement fails as node-postgres' own `query_timeout` fails it; the
 * connection must go too, the unanswered statement still ahead of every later one: a client released
 * without an error (as the Prisma adapter does after a transaction) would go back to the pool that way
 * and hang each request that takes it. Callback queries (pool.query) need nothing: the pool drops a
 * client released with an error.
 */
class Client extends pg.Client {
  scope: StatementTally | undefined;
  /** The statement on the wire at the last sweep, and since when (performance.now()). */
  #watched: ActiveQuery | undefined;
  #watchedSince = 0;

  // One pass-through signature for node-postgres' overloads; the result is returned untouched.
  override query(...args: unknown[]): never {
    const config = args[0];
    const pooled = typeof config === 'object' && config !== null ? (config as Sent)[SENT_FROM] : undefined;
    this.scope = pooled === undefined ? statementScope.getStore() : (pooled ?? undefined);
    const result = (pg.Client.prototype.query as (...a: unknown[]) => unknown).apply(this, args);
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        // end() destroys the socket of a client with a query in flight; queued queries fail at once.
        if (isQueryReadTimeout(error)) void this.end();
      });
    }
    return result as never;
  }

  /** The statement on the wire and not yet answered, if any (node-postgres keeps no public accessor). */
  get #active(): ActiveQuery | undefined {
    return (this as unknown as { _getActiveQuery(): ActiveQuery | null | undefined })._getActiveQuery() ?? undefined;
  }

  /** A statement is on the wire and not yet answered. */
  get busy(): boolean {
    return this.#active !== undefined;
  }

  /**
   * One sweep: a statement seen on the wire at an earlier sweep at least `timeoutMs` ago, and still
   * there, lost its answer. Its caller gets node-postgres' query read timeout (an answer arriving
   * after that goes nowhere), and the connection is dropped: by the pool for a callback query, by
   * `query` above for a promise.
   */
  checkAnswered(now: number, timeoutMs: number): void {
    const active = this.#active;
    if (active !== this.#watched) {
      this.#watched = active;
      this.#watchedSince = now;
      return;
    }
    if (active === undefined || now - this.#watchedSince < timeoutMs) return;
    this.#watched = undefined;
    const callback = active.callback;
    active.callback = () => undefined;
    callback?.(new Error(QUERY_READ_TIMEOUT));
  }
}

/** pg's options, and how long a statement on the wire may go unanswered before its connection is dropped. */
export interface PoolOptions extends pg.PoolConfig {
  answerTimeoutMs: number;
}

/**
 * The pg pool behind Prisma on PostgreSQL: knows its clients and the scope each statement came from,
 * and sweeps its clients for statements that lost their answer (a silent network drop): one timer for
 * the pool instead of node-postgres' `query_timeout`, which sets and clears a timer per statement and
 * keeps each statement's objects (its rows, its caller's closures) past two young-generation
 * collections: 7.2 → 5.6 % of a node-by-id request's allocation promoted and 278 → 267 µs of CPU
 * (one process, no HTTP, medians of four runs), 6.9 → 6.5 % under the benchmark's load (README, "Memory
 * and the garbage collector"). A statement is failed between `answerTimeoutMs` and that plus two sweep
 * periods after it was sent.
 */
class Pool extends pg.Pool {
  readonly clients = new Set<Client>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: PoolOptions) {
    super(options);
    const { answerTimeoutMs } = options;
    const sweep = () => {
      const now = performance.now();
      for (const client of this.clients) client.checkAnswered(now, answerTimeoutMs);
    };
    this.on('connect', (client) => {
      this.clients.add(client as unknown as Client);
      if (this.#sweeper === undefined) {
        this.#sweeper = setInterval(sweep, sweepPeriodMs(answerTimeoutMs));
        this.#sweeper.unref();
      }
    });
    this.on('remove', (client) => {
      this.clients.delete(client as unknown as Client);
      if (this.clients.size === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
      }
    });
  }

  override query(...args: unknown[]): never {
    const config = args[0];
    // A frozen config (none of ours is) stays unmarked: its statement counts in the scope the client runs it from.
    if (typeof config === 'object' && config !== null && Object.isExtensible(config)) (config as Sent)[SENT_FROM] = statementScope.getStore() ?? null;
    return (pg.Pool.prototype.query as (...a: unknown[]) => unknown).apply(this, args) as never;
  }
}

/**
 * Sends PostgreSQL a CancelRequest (its own short connection, outside the pool and `max_connections`)
 * for every statement of `tally`, or of the scope it joined (`StatementTally.joined`), running on a
 * connection of `pool` now. The statement ends with "canceling statement due to user request" and its
 * transaction rolls back, unless it finished first.
 * PostgreSQL cancels whatever the connection runs when the request arrives: a statement that ended in
 * the moment between (about a millisecond on a local network) would take the cancel for the next
 * statement on that connection, as with any client's cancel.
 */
export function cancelStatements(pool: pg.Pool, tally: StatementTally): void {
  if (!(pool instanceof Pool)) return;
  for (const client of pool.clients) {
    const ours = client.scope === tally || (client.scope !== undefined && client.scope === tally.joined);
    if (ours && client.busy) sendCancel(client, pool.options.connectionTimeoutMillis || 5000);
  }
}

/** PostgreSQL's CancelRequest: length 16, code 80877102 (1234 << 16 | 5678), backend pid, secret key. */
function sendCancel(client: Client, timeoutMs: number): void {
  const { processID, secretKey, host, port } = client as unknown as { processID: number; secretKey: number; host: string; port: number };
  const message = Buffer.alloc(16);
  message.writeInt32BE(16, 0);
  message.writeInt32BE(80877102, 4);
  message.writeInt32BE(processID, 8);
  message.writeInt32BE(secretKey, 12);
  const socket = host.startsWith('/') ? net.connect(`${host}/.s.PGSQL.${port}`) : net.connect(port, host);
  socket.once('connect', () => socket.end(message));
  socket.on('error', () => socket.destroy());
  // Bounded: a database that does not answer (a silent network) holds no socket past the connect timeout.
  const timer = setTimeout(() => socket.destroy(), timeoutMs).unref();
  socket.once('close', () => clearTimeout(timer));
}

/**
 * The pool's options: never waits forever (bounded size, connect, statement and answer timeouts) and
 * heals after a silent network fault (keep-alive, the answer timeout dropping a connection that lost
 * its answer, bounded connection lifetime). No `query_timeout`: the pool's sweep does its work.
 */
export function poolOptions(config: DatabaseConfig): PoolOptions {
  return {
    connectionString: config.url,
    max: config.poolMax,
    connectionTimeoutMillis: config.connectionTimeoutMs,
    idleTimeoutMillis: config.idleTimeoutMs,
    maxLifetimeSeconds: config.maxLifetimeS,
    statement_timeout: config.statementTimeoutMs,
    answerTimeoutMs: config.queryTimeoutMs,
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
  const pool = new Pool(poolOptions(config));
  // An idle client losing its connection emits 'error' on the pool; unhandled, that would end the
  // process. The pool drops the client and the next checkout opens a fresh connection.
  pool.on('error', () => undefined);
  return pool;
}
