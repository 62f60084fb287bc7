import { StartupError } from '../errors/startup.js';

export { StartupError };

/** A connection URL fit for messages and logs: the password replaced by `***`. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

type SystemError = Error & { code?: string; errors?: unknown[] };

/** The system or PostgreSQL error code of `error` (or of the first error of an AggregateError). */
function codeOf(error: unknown): string | undefined {
  const e = error as SystemError | undefined;
  if (typeof e?.code === 'string') return e.code;
  return Array.isArray(e?.errors) ? codeOf(e.errors[0]) : undefined;
}

/** Why PostgreSQL could not be reached, in words, from a `pg` connection error. */
function connectionProblem(error: unknown): string {
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : '';
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is PostgreSQL running?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case '28P01':
      return 'password authentication failed';
    case '28000':
      return 'the server refused this user';
    case '3D000':
      return 'the database does not exist';
    case '57P03':
      return 'the server is starting up or shutting down';
  }
  if (/timeout/i.test(message)) return 'connection timed out (DB_CONNECTION_TIMEOUT_MS)';
  // pg's own message never holds the password; keep only its first line.
  return message.split('\n', 1)[0] || 'unknown error';
}

/** A PostgreSQL connection failure at start-up, as one actionable line. */
export function unreachableDatabase(url: string, error: unknown): StartupError {
  return new StartupError(
    `Cannot connect to PostgreSQL at ${maskUrl(url)}: ${connectionProblem(error)}. ` +
      'Start it (docker compose up -d postgres) or fix DATABASE_URL; unset DATABASE_URL to use the embedded database.',
  );
}

/** A listen failure (port taken, privileged port) as one actionable line; other errors unchanged. */
export function listenProblem(error: unknown, variable: string, port: number, host: string): unknown {
  const code = codeOf(error);
  if (code === 'EADDRINUSE') {
    return new StartupError(`Port ${port} on ${host} is already in use (is another server running?): stop it or set ${variable} to a free port.`);
  }
  if (code === 'EACCES') return new StartupError(`Not allowed to listen on port ${port} on ${host}: set ${variable} to a port above 1023.`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new StartupError(`Cannot listen on ${host}: no such local address; fix HOST.`);
  return error;
}
