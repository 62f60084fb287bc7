import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout; the level and pretty printing come from config (issue: operations). */
export function createLogger(options: { level?: string } = {}): Logger {
  return pino({ level: options.level ?? 'info', base: { service: 'user-api-gateway' } });
}
