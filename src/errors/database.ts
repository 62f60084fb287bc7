/**
 * What a failure below Prisma means to a client. Prisma 7 hands driver errors on as they are, or
 * under `cause` / `meta.driverAdapterError`; node-postgres marks its own failures by message only.
 */

/**
 * No answer to a statement within the answer timeout (the connection is then dropped): node-postgres'
 * `query_timeout` message, which the pool's own sweep (pool.ts) fails a statement with too.
 */
export const QUERY_READ_TIMEOUT = 'Query read timeout';

/** node-postgres / pg-pool: no connection in time, or the connection went away. */
const UNAVAILABLE_MESSAGES = new Set([
  // Every connection stayed busy for connectionTimeoutMillis.
  'timeout exceeded when trying to connect',
  // A new connection was not established within connectionTimeoutMillis.
  'Connection terminated due to connection timeout',
  'timeout expired',
  // The connection was lost (server gone, network cut, or dropped after a read timeout).
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
]);
/** Prisma (P2028, among other transaction errors): an interactive transaction got no connection within maxWait. */
const NO_TRANSACTION_SLOT = 'Unable to start a transaction in the given time';
/** Prisma: database not reachable, timed out reaching it, connection closed, pool timeout. */
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1017', 'P2024']);
/** Driver adapter error kinds for unreachable or full servers and lost connections. */
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
/** PostgreSQL: too many connections, session terminated by an administrator or a crash, starting up. */
const UNAVAILABLE_SQLSTATES = new Set(['53300', '57P01', '57P02', '57P03']);

interface Link {
  code?: unknown;
  originalCode?: unknown;
  kind?: unknown;
  message?: unknown;
}

function someInChain(error: unknown, test: (e: Link) => boolean): boolean {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 6; depth++) {
    if (test(e)) return true;
    const { cause, meta } = e as { cause?: unknown; meta?: { driverAdapterError?: unknown } };
    e = cause ?? meta?.driverAdapterError;
  }
  return false;
}

/**
 * The statement failed with an error PostgreSQL sent (a SQLSTATE): it was rolled back, so a statement
 * run as its own transaction wrote nothing. Not so for a lost connection or a missing answer, whose
 * statement may have committed.
 */
export function isPostgresError(error: unknown): boolean {
  return someInChain(error, (e) => typeof e.originalCode === 'string' && SQLSTATE.test(e.originalCode));
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** True for a query just read-timed-out by node-postgres (its connection is no longer usable). */
export function isQueryReadTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === QUERY_READ_TIMEOUT;
}

/**
 * The database did not finish in time: PostgreSQL's "canceling statement due to statement timeout"
 * (57014), or no answer at all within the client-side query timeout.
 */
export function isDatabaseDeadline(error: unknown): boolean {
  return someInChain(error, (e) => e.code === '57014' || e.originalCode === '57014' || e.message === QUERY_READ_TIMEOUT);
}

/**
 * The database could not be used: no connection (or transaction slot) within DB_CONNECTION_TIMEOUT_MS,
 * the server unreachable, or the connection lost. Worth a retry a moment later.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return someInChain(error, (e) => {
    if (typeof e.code === 'string' && UNAVAILABLE_PRISMA_CODES.has(e.code)) return true;
    if (typeof e.kind === 'string' && UNAVAILABLE_KINDS.has(e.kind)) return true;
    if (UNAVAILABLE_SQLSTATES.has(String(e.code)) || UNAVAILABLE_SQLSTATES.has(String(e.originalCode))) return true;
    if (typeof e.message !== 'string') return false;
    return UNAVAILABLE_MESSAGES.has(e.message) || e.message.includes(NO_TRANSACTION_SLOT);
  });
}
