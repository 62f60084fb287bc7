import type { Plugin } from 'graphql-yoga';
import { ERROR_CODES, isErrorCode, rewriteResultErrors, withExtensions } from '../errors/index.js';

/** The HTTP status a response without data gets when one of its errors has this code (ERROR_CODES' statusWithoutData). */
const statusOf = (code: unknown): number | undefined => (isErrorCode(code) ? ERROR_CODES[code].statusWithoutData : undefined);

/**
 * A request that failed as a whole because the database had no connection for it (SERVICE_UNAVAILABLE)
 * or its deadline passed (REQUEST_TIMEOUT) answers 503 / 504 to `application/graphql-response+json`
 * clients, so proxies and clients see a retryable failure; `application/json` keeps 200.
 */
export function useErrorStatus(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      const rewritten = rewriteResultErrors(result, (error, { data }) => {
        // With data, even partial, the GraphQL-over-HTTP spec requires a 2xx.
        const status = data == null ? statusOf(error.extensions?.code) : undefined;
        // Yoga takes the status from `extensions.http` and strips it from the body; `spec` keeps 200 for
        // application/json, where a GraphQL error is never an HTTP error.
        return status ? withExtensions(error, { ...error.extensions, http: { status, spec: true } }) : error;
      });
      if (rewritten) setResult(rewritten);
    },
  };
}
