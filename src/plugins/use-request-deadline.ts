import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';

/**
 * Hands the context's signal (client gone, or REQUEST_TIMEOUT_MS passed) to the executor, so no
 * resolver starts after the deadline; the database enforces the same deadline as statement_timeout.
 */
export function useRequestDeadline(): Plugin<Context> {
  return {
    onExecute({ args }) {
      (args as { signal?: AbortSignal }).signal = (args.contextValue as Context).signal;
    },
  };
}
