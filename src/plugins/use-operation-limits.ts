import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  parse,
} from 'graphql';
import { type ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import type { Plugin } from 'graphql-yoga';
import { argumentBoundsEstimator, checkVariableShapes } from './argument-bounds.js';

export interface OperationLimitsOptions {
  /** Deepest selection nesting (fragments count as a level). */
  maxDepth: number;
  /** Most aliased fields in one operation (fragments included). */
  maxAliases: number;
  /** Most directives in one operation. */
  maxDirectives: number;
  /** Most lexical tokens in the document; enforced while parsing, so a huge document is never built. */
  maxTokens: number;
  /** Highest estimated cost: see `connectionCostEstimator`. */
  maxCost: number;
  /** Page size a connection field without `first`/`last` returns. Default 20. */
  defaultPageSize?: number;
  /** The resolvers' cap on `first`/`last`. Default 100. */
  maxPageSize?: number;
  /** Most items in any list argument (`nodes(ids:)`, `events(types:)`), literal, default or variable. Default 100. */
  maxListItems?: number;
  /** False refuses `__schema` and `__type` (`__typename` stays allowed). */
  introspection: boolean;
  /** True removes "Did you mean …?" from every error message, so the schema cannot be guessed field by field. */
  hideSuggestions: boolean;
}

/** The error every limit answers with: a validation failure, 400 whatever the Accept header. */
export function limitError(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } } });
}

/** Armor prefixes its messages with "Syntax Error: " even for validation limits; ours are not syntax errors. */
const armorMessage = (error: { message: string }) => error.message.replace(/^Syntax Error: /, '');

/**
 * A rejection handler for the armor validation rules: report the error like any other validation
 * error. (Armor 2.x carries graphql 16 for its own types; at run time it gets our graphql 17
 * ValidationContext, hence the structural types.)
 */
const reportLimit = (context: { reportError(error: GraphQLError): void } | null, error: { message: string }) => {
  context?.reportError(limitError(armorMessage(error)));
};

/**
 * The cost of a field is 1 plus the cost of its selection, except that a list whose size the client
 * chooses multiplies its selection: a connection (a field with `first`/`last` arguments) by
 * min(first ?? last ?? defaultPageSize, maxPageSize), and `nodes(ids:)` by the number of ids.
 * So `users(first: 100) { edges { node { teams(first: 100) { … } } } }` costs 100 × 100 × …, which
 * is how many rows it can really fetch, while a wide but flat query stays cheap.
 */
export function connectionCostEstimator({ defaultPageSize = 20, maxPageSize = 100 } = {}): ComplexityEstimator {
  return ({ field, args, childComplexity }) => {
    let size = 1;
    if (field.args.some((a) => a.name === 'first' || a.name === 'last')) {
      const asked = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : defaultPageSize;
      size = Math.min(Math.max(asked, 0), maxPageSize);
    } else if (Array.isArray(args.ids)) {
      size = args.ids.length;
    }
    return 1 + size * childComplexity;
  };
}

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

/**
 * Refuses expensive or probing operations before anything executes, each with HTTP 400 and
 * `extensions.code` GRAPHQL_VALIDATION_FAILED: tokens (while parsing), depth, aliases and directives
 * (GraphQL Armor validation rules), introspection when disabled, and the estimated cost. Argument
 * values out of their bounds (list items, string lengths: see `argumentBoundsEstimator`) get 400
 * BAD_USER_INPUT, like a variable that does not coerce: variables before they are coerced, the rest
 * in the same pass as the cost.
 *
 * The cost and the argument values depend on the variables (`users(first: $n)`), so they are checked
 * after validation on every request, cache hit or not, and refused by throwing rather than by adding
 * a validation error: Yoga caches validation results per document, and a cached refusal would
 * wrongly hit the same document sent later with other variables.
 */
export function useOperationLimits(options: OperationLimitsOptions): Plugin {
  const { maxDepth, maxAliases, maxDirectives, maxTokens, maxCost, introspection, hideSuggestions } = options;
  const rejection = { propagateOnRejection: false, onReject: [reportLimit], exposeLimits: true };
  const depthRule = maxDepthRule({ n: maxDepth, ...rejection });
  const aliasesRule = maxAliasesRule({ n: maxAliases, ...rejection });
  const directivesRule = maxDirectivesRule({ n: maxDirectives, ...rejection });
  const maxListItems = options.maxListItems ?? 100;
  const estimators = [argumentBoundsEstimator({ maxListItems }), connectionCostEstimator(options)];

  const costOf = (schema: GraphQLSchema, query: DocumentNode, params: { variables?: unknown; operationName?: unknown } | undefined) => {
    const variables = params?.variables && typeof params.variables === 'object' ? (params.variables as Record<string, unknown>) : {};
    const operationName = typeof params?.operationName === 'string' ? params.operationName : undefined;
    checkVariableShapes(schema, query, variables, operationName, maxListItems);
    try {
      return getComplexity({ schema, query, estimators, variables, operationName });
    } catch (error) {
      const message = error instanceof Error ? error.message : '';
      // Fragment fan-out past the library's node budget is an over-cost document in itself.
      if (/maximum allowed number of nodes/.test(message)) return Infinity;
      // Variables that do not coerce: execution refuses the request with the precise error before
      // any resolver runs, so there is nothing to price.
      if (/^Variable "\$/.test(message)) return undefined;
      // An argument out of its bounds (argumentBoundsEstimator): that refusal is the answer.
      if (error instanceof GraphQLError && error.extensions.code === 'BAD_USER_INPUT') throw error;
      // Anything else is a bug; fail closed (a masked, logged error) rather than skip the limit.
      throw error;
    }
  };

  // The token limit is graphql's own `maxTokens` parse option (what armor's max-tokens plugin
  // re-implements, on a bundled graphql 16 parser whose ASTs and errors are not graphql 17's).
  const parseWithTokenLimit: typeof parse = (source, parseOptions) => {
    try {
      return parse(source, { ...parseOptions, maxTokens });
    } catch (error) {
      if (error instanceof GraphQLError && /^Syntax Error: Document contains more than \d+ tokens/.test(error.message)) {
        throw limitError(`Token limit of ${maxTokens} exceeded.`);
      }
      throw error;
    }
  };

  return {
    onParse({ setParseFn }) {
      setParseFn(parseWithTokenLimit);
    },
    onValidate({ addValidationRule, context, params: { schema, documentAST } }) {
      addValidationRule(depthRule);
      addValidationRule(aliasesRule);
      addValidationRule(directivesRule);
      if (!introspection) addValidationRule(NoSchemaIntrospectionCustomRule);
      return ({ valid }) => {
        if (!valid) return;
        const cost = costOf(schema, documentAST, (context as { params?: { variables?: unknown; operationName?: unknown } }).params);
        if (cost !== undefined && cost > maxCost) {
          throw limitError(
            Number.isFinite(cost)
              ? `Query cost limit of ${maxCost} exceeded, found ${cost}. Ask for smaller pages (first/last) or fewer nested connections.`
              : `Query cost limit of ${maxCost} exceeded. Ask for smaller pages (first/last) or fewer nested connections.`,
          );
        }
      };
    },
    onResultProcess({ result, setResult }) {
      if (!hideSuggestions) return;
      if (Array.isArray(result)) setResult(result.map((r: ExecutionResult) => withoutSuggestions(r)));
      else if (result && typeof result === 'object' && 'errors' in result) setResult(withoutSuggestions(result as ExecutionResult));
    },
  };
}
