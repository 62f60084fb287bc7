import { createRequire } from 'node:module';
import { type DestinationStream, pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /**
   * Human-readable lines instead of JSON. Default: when stdout is a terminal, in any mode; a file, a
   * pipe or a log collector gets JSON lines. Where pino-pretty is not installed (a production image)
   * it is JSON regardless.
   */
  pretty?: boolean;
  /**
   * Adds fields to every line (pino's `mixin`): with tracing on, `traceLogFields` puts the active
   * span's trace_id and span_id on each line. Absent: nothing is computed per line.
   */
  mixin?: () => Record<string, unknown>;
}

/** Redacted wherever they might appear, so a careless log call cannot leak them. */
const REDACT = ['req.headers.authorization', 'headers.authorization', 'authorization', 'token', 'password', '*.token', '*.password'];

export function createLogger({ level = 'info', pretty = process.stdout.isTTY === true, mixin }: LoggerOptions = {}): Logger {
  const options = { level, base: { service: 'user-api-gateway' }, redact: REDACT, ...(mixin ? { mixin } : {}) };
  const stream = pretty ? prettyStream() : undefined;
  return stream ? pino(options, stream) : pino(options);
}

/**
 * pino-pretty in this thread, writing synchronously: no worker thread to start, and a fatal line is out
 * before `process.exit`. Loaded on demand because it is a development dependency.
 */
function prettyStream(): DestinationStream | undefined {
  try {
    const pretty = createRequire(import.meta.url)('pino-pretty') as (options: object) => DestinationStream;
    return pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'service', singleLine: true, sync: true });
  } catch {
    return undefined;
  }
}
