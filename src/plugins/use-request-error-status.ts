import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode, rewriteResultErrors, withExtensions } from '../errors/index.js';

const http = (e: GraphQLError) => e.extensions?.http;
/** Yoga's mark for a request error it answers 200 to `Accept: application/json`. */
const legacy = (e: GraphQLError) => http(e)?.spec === true;
/** A 400 without a code: variables that do not coerce. */
const uncoded = (e: GraphQLError) => http(e)?.status === 400 && e.extensions?.code === undefined;

/**
 * Two fixes to request errors before the status is chosen:
 * - Yoga marks them (invalid JSON, missing query, parse and validation failures) with
 *   `extensions.http.spec`, which makes it answer 200 to `Accept: application/json`, as the
 *   GraphQL-over-HTTP spec suggests for legacy clients. This API answers 4xx to a refused request
 *   whatever the client accepts, so the mark is dropped.
 * - Variables that do not coerce get 400 but no code from the executor (it gives subscriptions
 *   BAD_USER_INPUT); they get BAD_USER_INPUT here too, so every refusal carries a code.
 */
export function useRequestErrorStatus(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      const rewritten = rewriteResultErrors(result, (error) =>
        legacy(error) || uncoded(error)
          ? withExtensions(error, {
              ...error.extensions,
              code: error.extensions.code ?? ErrorCode.BAD_USER_INPUT,
              http: { ...http(error), spec: false },
            })
          : error,
      );
      if (rewritten) setResult(rewritten);
    },
  };
}
