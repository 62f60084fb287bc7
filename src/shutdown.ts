import type { Server } from 'node:http';
import type { Logger } from './logger.js';

/**
 * Stops a server the gentle way: no new connections, idle keep-alive connections closed (again as
 * in-flight requests finish), and in-flight requests given until `timeoutMs`. Resolves true when
 * everything finished in time, false when the deadline cut connections.
 */
export function drainServer(server: Server, timeoutMs: number, logger: Logger): Promise<boolean> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve(true);
      return;
    }
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    const deadline = setTimeout(() => {
      logger.warn({ timeoutMs }, 'drain deadline reached; closing the remaining connections');
      server.closeAllConnections();
      finish(false);
    }, timeoutMs);
    let done = false;
    const finish = (clean: boolean) => {
      if (done) return;
      done = true;
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve(clean);
    };
    server.close(() => finish(true));
    server.closeIdleConnections();
  });
}
