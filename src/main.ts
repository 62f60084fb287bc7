import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase } from './db.js';
import { createLogger, type Logger } from './logger.js';
import { announce } from './startup/banner.js';
import { prepareDatabase } from './startup/database.js';
import { listenProblem, StartupError } from './startup/errors.js';
import { loadTracing, traceLogFields } from './tracing/index.js';

/** Time past SHUTDOWN_TIMEOUT_MS for disposing Yoga and closing the pool. */
const HARD_DEADLINE_GRACE_MS = 5_000;

/** Starts things: config → database → app → listen → signal hooks. The app owns the shutdown order. */
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
  // Tracing only when OTEL_EXPORTER_OTLP_ENDPOINT is set; before anything that could make a span.
  const tracing = await loadTracing(config.tracing);
  const logger = createLogger({ level: config.logLevel, ...(tracing ? { mixin: traceLogFields } : {}) });
  if (tracing) logger.info({ endpoint: config.tracing.endpoint, serviceName: config.tracing.serviceName }, 'tracing: exporting spans over OTLP/HTTP');
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
  const failWithDb = (error: unknown) =>
    db
      .close()
      .catch(() => undefined)
      .then(() => fail(error));
  await prepareDatabase(db, config.database, logger).catch(failWithDb);
  logger.info({ database: db.kind }, 'database ready');
  const app = createApp(config, db, logger, { tracing });
  await app.start();
  collectStartupGarbage();
  const { host, port, metricsPort } = config.http;
  const server = await app.listen('graphql', port, host).catch((e) => failWithDb(listenProblem(e, 'PORT', port, host)));
  if (metricsPort !== undefined) {
    await app.listen('metrics', metricsPort, host).catch((e) => failWithDb(listenProblem(e, 'METRICS_PORT', metricsPort, host)));
  }
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
    // The app owns the order (readiness, drain, events, Yoga, pool); the process only exits after it.
    const clean = await app.close({ signal });
    // The spans of the last requests and relay batches leave before the exit (bounded by the deadline above).
    await tracing?.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'tracing: final export failed'));
    logger.info({ durationMs: Date.now() - started, clean }, 'shutdown: database closed, exiting');
    logger.flush();
    process.exit(clean ? 0 : 1);
  };
  process.on('SIGTERM', (signal) => void shutdown(signal));
  process.on('SIGINT', (signal) => void shutdown(signal));
}

/**
 * One thorough garbage collection before serving. Start-up leaves tens of MiB of garbage behind (the
 * query compiler's decoded bytes, schema building, migration checks) that V8 only collects once the
 * heap first fills, and a young generation grown by it, so an idle replica would hold both for good.
 * Measured on the production build: 140-143 MiB RSS after start with a plain full GC, 109-110 MiB with
 * this one; after load V8's memory reducer brings an idle process back to ~123 MiB within 10 s.
 * Takes tens of ms, once.
 */
function collectStartupGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  // V8's "last resort" collection (what it runs under memory pressure) also shrinks the young
  // generation that start-up grew and returns the freed pages; a plain gc() kept them committed.
  (runInNewContext('gc') as (options: object) => void)({ type: 'major', execution: 'sync', flavor: 'last-resort' });
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
