import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase } from './db.js';
import { createLogger, type Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { refusalBody } from './refusal.js';
import { ROUTES } from './routes.js';
import { createHttpServer, drainServer } from './shutdown.js';

/** Time past SHUTDOWN_TIMEOUT_MS for disposing Yoga and closing the pool. */
const HARD_DEADLINE_GRACE_MS = 5_000;

/** Starts things: config → database → app → listen → shutdown hooks. Nothing else. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    createLogger().fatal({ problems: error.problems }, error.message);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel, pretty: config.env === 'development' });
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
  if (config.auth.usingDevelopmentSecret) {
    logger.warn(
      '!!! No JWT_SECRET or JWT_JWKS_URL: accepting tokens signed with the built-in DEVELOPMENT secret. ' +
        'Never run like this in production (NODE_ENV=production refuses to). Get a token with `npm run token -- --role ADMIN`.',
    );
  }

  const db = await openDatabase(config.database);
  logger.info({ database: db.kind }, 'database ready');
  const app = createApp(config, db, logger);
  await app.events.start();
  const httpOptions = { requestTimeoutMs: config.http.requestTimeoutMs };
  const server = await listen(createHttpServer(app.yoga, httpOptions), config.http.port, config.http.host, logger, 'graphql');
  const metricsServer =
    config.http.metricsPort === undefined
      ? undefined
      : await listen(createHttpServer(metricsHandler(app.metrics), httpOptions), config.http.metricsPort, config.http.host, logger, 'metrics');

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    // The hard deadline behind every step: whatever hangs, the process is gone by then.
    setTimeout(() => {
      logger.error('shutdown: hard deadline reached, exiting');
      process.exit(1);
    }, config.http.shutdownTimeoutMs + HARD_DEADLINE_GRACE_MS).unref();
    logger.info({ signal }, 'shutdown: readiness now 503');
    app.beginShutdown();
    logger.info({ timeoutMs: config.http.shutdownTimeoutMs }, 'shutdown: draining in-flight requests');
    const clean = await drainServer(server, config.http.shutdownTimeoutMs, logger);
    if (metricsServer) await drainServer(metricsServer, 1_000, logger, 'metrics');
    logger.info({ clean }, 'shutdown: listener closed');
    // The relay finishes its batch in flight; the broker connection closes before the pool does.
    await app.events.stop();
    logger.info('shutdown: events relay stopped, broker closed');
    await app.yoga.dispose();
    logger.info('shutdown: yoga disposed');
    // When the drain was cut, statements may still hold pool clients; don't wait for them.
    await (clean ? db.close() : Promise.race([db.close(), new Promise((r) => setTimeout(r, 1_000))]));
    logger.info({ durationMs: Date.now() - started, clean }, 'shutdown: database closed, exiting');
    logger.flush();
    process.exit(clean ? 0 : 1);
  };
  process.on('SIGTERM', (signal) => void shutdown(signal));
  process.on('SIGINT', (signal) => void shutdown(signal));
}

function listen(server: Server, port: number, host: string, logger: Logger, name: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      logger.info({ server: name, port: actual, host }, `listening on http://${host}:${actual}`);
      resolve(server);
    });
  });
}

/** The separate METRICS_PORT listener: `/metrics` and nothing else. */
function metricsHandler(metrics: Metrics) {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.url !== ROUTES.metrics) {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' }).end(refusalBody('NOT_FOUND', 'Not found.'));
      return;
    }
    void metrics.registry.metrics().then((body) => {
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body);
    });
  };
}

main().catch((error: unknown) => {
  createLogger().fatal({ err: error }, 'start-up failed');
  process.exit(1);
});
