import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** The HTTP status a response without data gets when one of its errors has this code. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = { SERVICE_UNAVAILABLE: 503, REQUEST_TIMEOUT: 504 };

function withStatus(error: GraphQLError, status: number): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    // Yoga takes the status from `extensions.http` and strips it from the body; `spec` keeps 200 for
    // application/json, where a GraphQL error is never an HTTP error.
    extensions: { ...error.extensions, http: { status, spec: true } },
  });
}

function withStatuses(result: ExecutionResult): ExecutionResult {
  // With data, even partial, the GraphQL-over-HTTP spec requires a 2xx.
  if (result.data != null || !result.errors?.some((e) => STATUS_BY_CODE[String(e.extensions?.code)])) return result;
  const errors = result.errors.map((error) => {
    const status = STATUS_BY_CODE[String(error.extensions?.code)];
    return status ? withStatus(error, status) : error;
  });
  return { ...result, errors };
}

/**
 * A request that failed as a whole because the database had no connection for it (SERVICE_UNAVAILABLE)
 * or its deadline passed (REQUEST_TIMEOUT) answers 503 / 504 to `application/graphql-response+json`
 * clients, so proxies and clients see a retryable failure; `application/json` keeps 200.
 */
export function useErrorStatus(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (!Array.isArray(result) && result && typeof result === 'object' && 'errors' in result) {
        const processed = withStatuses(result as ExecutionResult);
        if (processed !== result) setResult(processed);
      }
    },
  };
}
