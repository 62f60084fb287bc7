import { type ExecutionResult, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const HAS_SUGGESTION = /Did you mean /;
const SUGGESTIONS = /\s*Did you mean [^?]*\?/g;

function withoutSuggestions(result: ExecutionResult): ExecutionResult {
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

/** Removes "Did you mean …?" from every error message, so the schema cannot be guessed field by field. */
export function useSuggestionHiding(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result)) setResult(result.map((r: ExecutionResult) => withoutSuggestions(r)));
      else if (result && typeof result === 'object' && 'errors' in result) setResult(withoutSuggestions(result as ExecutionResult));
    },
  };
}
