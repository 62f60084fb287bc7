import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase } from './db.js';
import { waitAtMost } from './lib/timeout.js';
import { createLogger, type Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { refusalBody } from './refusal.js';
import { ROUTES } from './routes.js';
import { createHttpServer, drainServer } from './shutdown.js';
import { announce } from './startup/banner.js';
import { prepareDatabase } from './startup/database.js';
import { listenProblem, StartupError } from './startup/errors.js';

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
  // Pretty when stdout is a terminal, JSON lines otherwise (see createLogger).
  const logger = createLogger({ level: config.logLevel });
  const fail = (error: unknown) => exitOnStartupFailure(error, logger);
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
  if (config.auth.usingDevelopmentSecret) {
    logger.warn(
      '!!! No JWT_SECRET or JWT_JWKS_URL: accepting tokens signed with the built-in DEVELOPMENT secret. ' +
        'Never run like this in production (NODE_ENV=production refuses to). Get a token with `npm run token -- --role ADMIN`.',
    );
  }

  // The database opens while the app's modules load: PGlite compiles its WASM off the main thread.
  const opening = openDatabase(config.database).catch(fail);
  const { createApp } = await import('./app.js');
  const db = await opening;
  // From here a failure also closes the database: an embedded one is given up for the next start.
  const failWithDb = (error: unknown) => db.close().catch(() => undefined).then(() => fail(error));
  await prepareDatabase(db, config.database, logger).catch(failWithDb);
  logger.info({ database: db.kind }, 'database ready');
  const app = createApp(config, db, logger);
  await app.events.start();
  const { host, port, metricsPort } = config.http;
  const httpOptions = { requestTimeoutMs: config.http.requestTimeoutMs };
  // Yoga's documented Node integration: its handler settles every request itself, nothing is left unhandled.
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  const server = await listen(createHttpServer(app.yoga, httpOptions), port, host, logger, 'graphql').catch((e) => failWithDb(listenProblem(e, 'PORT', port, host)));
  const metricsServer =
    metricsPort === undefined
      ? undefined
      : await listen(createHttpServer(metricsHandler(app.metrics), httpOptions), metricsPort, host, logger, 'metrics').catch((e) =>
          failWithDb(listenProblem(e, 'METRICS_PORT', metricsPort, host)),
        );
  announce(config, (server.address() as { port: number }).port, logger);

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
    await (clean ? db.close() : waitAtMost(db.close(), 1_000));
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

/**
 * Ends a failed start with exit code 1: a StartupError (what is wrong, what to run) as its one line,
 * anything else, a bug, with its stack.
 */
function exitOnStartupFailure(error: unknown, logger: Logger): never {
  if (error instanceof StartupError) logger.fatal(error.message);
  else logger.fatal({ err: error }, 'start-up failed');
  logger.flush();
  process.exit(1);
}

main().catch((error: unknown) => exitOnStartupFailure(error, createLogger()));
