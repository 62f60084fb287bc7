import { createServer } from 'node:http';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db.js';
import { createLogger } from './logger.js';

/** Starts things: config → database → app → listen → shutdown hooks. Nothing else. */
async function main(): Promise<void> {
  const logger = createLogger();
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      logger.fatal({ problems: error.problems }, error.message);
      process.exit(1);
    }
    throw error;
  }

  logger.level = config.logLevel;
  const db = await openDatabase(config.database);
  logger.info({ database: db.kind }, 'database ready');
  const { yoga } = createApp(config, db, logger);
  const server = createServer(yoga);
  server.listen(config.http.port, config.http.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;
    logger.info({ port, graphiql: config.graphiql }, `listening on http://localhost:${port}/graphql`);
  });

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.close(() => {
      void Promise.resolve(yoga.dispose())
        .then(() => db.close())
        .then(() => {
          logger.info('stopped');
          process.exit(0);
        });
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  createLogger().fatal({ err: error }, 'start-up failed');
  process.exit(1);
});
