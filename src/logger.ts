import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Human-readable lines (development); JSON lines on stdout otherwise. */
  pretty?: boolean;
}

/** Redacted wherever they might appear, so a careless log call cannot leak them. */
const REDACT = ['req.headers.authorization', 'headers.authorization', 'authorization', 'token', 'password', '*.token', '*.password'];

export function createLogger({ level = 'info', pretty = false }: LoggerOptions = {}): Logger {
  const options = { level, base: { service: 'user-api-gateway' }, redact: REDACT };
  if (pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino(options);
}
