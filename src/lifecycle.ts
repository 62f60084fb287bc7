import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { YogaServerInstance } from 'graphql-yoga';
import type { Config } from './config.js';
import type { Context } from './context.js';
import type { Database } from './db.js';
import { ERROR_CODES, ErrorCode, NOT_FOUND_MESSAGE, REFUSAL_HEADERS, refusalBody } from './errors/index.js';
import type { Events } from './events/index.js';
import { waitAtMost } from './lib/timeout.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { ROUTES } from './routes.js';
import { createHttpServer, drainServer } from './shutdown.js';

/** The app's listeners: the GraphQL server, and `/metrics` alone when METRICS_PORT is set. */
export type ListenerName = 'graphql' | 'metrics';

/** How long the metrics listener may take to drain (scrapes are short). */
const METRICS_DRAIN_MS = 1_000;
/** When the drain was cut, statements may still hold pool clients: the pool gets this long to close. */
const CUT_POOL_CLOSE_MS = 1_000;

export interface Lifecycle {
  /** Starts the events (relay, live feed, pruner). */
  start(): Promise<void>;
  /** Listens on `port`; the listener is drained by `close`. Rejects with the listen error (EADDRINUSE…). */
  listen(name: ListenerName, port: number, host: string): Promise<Server>;
  /**
   * Shuts down, each step once and in this order: readiness 503 and live subscriptions ended
   * (`beginShutdown`), the listeners stop accepting and drain (SHUTDOWN_TIMEOUT_MS), the events stop
   * (relay after its batch, broker), Yoga is disposed, the pool closes. Resolves true when no request
   * was cut. Idempotent.
   */
  close(options?: { signal?: string }): Promise<boolean>;
}

export interface LifecycleOptions {
  config: Config;
  logger: Logger;
  yoga: YogaServerInstance<Record<string, unknown>, Context>;
  db: Database;
  events: Events;
  metrics: Metrics;
  beginShutdown: () => void;
  /** Other timers (the idempotency key pruner): started with the events, stopped with them. */
  background?: readonly { start: () => void; stop: () => Promise<void> }[];
}

/** The one owner of the app's start and shutdown order (main and the test helpers only call it). */
export function createLifecycle({ config, logger, yoga, db, events, metrics, beginShutdown, background = [] }: LifecycleOptions): Lifecycle {
  const listeners: { name: ListenerName; server: Server }[] = [];
  let closing: Promise<boolean> | undefined;

  const close = async (signal?: string): Promise<boolean> => {
    logger.info({ signal }, 'shutdown: readiness now 503');
    beginShutdown();
    let clean = true;
    if (listeners.length > 0) {
      logger.info({ timeoutMs: config.http.shutdownTimeoutMs }, 'shutdown: draining in-flight requests');
      for (const { name, server } of listeners) {
        const drained = await drainServer(server, name === 'graphql' ? config.http.shutdownTimeoutMs : METRICS_DRAIN_MS, logger, name);
        if (name === 'graphql') clean = drained;
      }
      logger.info({ clean }, 'shutdown: listener closed');
    }
    // The relay finishes its batch in flight; the broker connection closes before the pool does.
    await Promise.all([events.stop(), ...background.map((b) => b.stop())]);
    logger.info('shutdown: events relay stopped, broker closed');
    await yoga.dispose();
    logger.info('shutdown: yoga disposed');
    // When the drain was cut, statements may still hold pool clients; don't wait for them.
    await (clean ? db.close() : waitAtMost(db.close(), CUT_POOL_CLOSE_MS));
    return clean;
  };

  return {
    start: async () => {
      for (const b of background) b.start();
      await events.start();
    },
    listen(name, port, host) {
      const handler = name === 'graphql' ? yoga : metricsHandler(metrics);
      // Yoga's documented Node integration: its handler settles every request itself, nothing is left unhandled.
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      const server = createHttpServer(handler, { requestTimeoutMs: config.http.requestTimeoutMs });
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const address = server.address();
          const actual = typeof address === 'object' && address ? address.port : port;
          logger.info({ server: name, port: actual, host }, `listening on http://${host}:${actual}`);
          listeners.push({ name, server });
          resolve(server);
        });
      });
    },
    close: ({ signal } = {}) => (closing ??= close(signal)),
  };
}

/** The separate METRICS_PORT listener: `/metrics` and nothing else. */
function metricsHandler(metrics: Metrics) {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.url !== ROUTES.metrics) {
      res.writeHead(ERROR_CODES.NOT_FOUND.status, REFUSAL_HEADERS).end(refusalBody(ErrorCode.NOT_FOUND, NOT_FOUND_MESSAGE));
      return;
    }
    void metrics.render().then((body) => {
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body);
    });
  };
}
