import { type ExecutionResult, GraphQLError } from 'graphql';

const HAS_SUGGESTION = /Did you mean /;
const SUGGESTIONS = /\s*Did you mean [^?]*\?/g;

/** The result with "Did you mean …?" removed from every error message, so the schema cannot be guessed field by field. */
export function withoutSuggestions(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.some((e) => HAS_SUGGESTION.test(e.message))) return result;
  const errors = result.errors.map((error) =>
    HAS_SUGGESTION.test(error.message)
      ? new GraphQLError(error.message.replace(SUGGESTIONS, ''), {
          nodes: error.nodes,
          source: error.source,
          positions: error.positions,
          path: error.path,
          originalError: error.originalError,
          extensions: error.extensions,
        })
      : error,
  );
  return { ...result, errors };
}
