import { PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { createYoga, maskError as defaultMaskError, type YogaServerInstance } from 'graphql-yoga';
import type { Config } from './config.js';
import { type Context, createContext } from './context.js';
import type { Database } from './db.js';
import type { Logger } from './logger.js';
import { useHealth } from './plugins/use-health.js';
import { schema } from './schema/index.js';

export interface App {
  readonly yoga: YogaServerInstance<Record<string, unknown>, Context>;
  readonly db: Database;
}

/**
 * Only deliberately safe errors reach clients: GraphQLErrors we raised with a code, and Pothos'
 * argument validation (bad cursors, negative page sizes). Everything else becomes "Unexpected error."
 * with no stack, SQL or connection string.
 */
function maskError(error: unknown, message: string): Error {
  const original = error instanceof GraphQLError ? error.originalError : error;
  if (original instanceof PothosValidationError) {
    return new GraphQLError(original.message, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return defaultMaskError(error, message, false);
}

/** Builds the Yoga app over an open database, without listening (tests call `yoga.fetch`). */
export function createApp(config: Config, db: Database, logger: Logger): App {
  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: config.graphiql ? { title: 'User API gateway' } : false,
    landingPage: false,
    healthCheckEndpoint: '/_yoga/health',
    maskedErrors: { maskError, isDev: false },
    context: () => createContext(db.prisma),
    logging: {
      debug: (...args) => logger.debug(args),
      info: (...args) => logger.info(args),
      warn: (...args) => logger.warn(args),
      error: (...args) => logger.error({ err: args[0] }, 'request failed'),
    },
    plugins: [useHealth()],
  });
  return { yoga, db };
}
