import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { type DocumentNode, type ExecutionResult, GraphQLError, type GraphQLSchema, NoSchemaIntrospectionCustomRule, parse, visit } from 'graphql';
import { type ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode, validationFailedError } from '../errors/index.js';
import { LRUCache } from 'lru-cache';
import { NOT_PLAIN_TEXT } from '../text.js';
import { argumentBoundsEstimator, badUserInput, checkVariableShapes } from './argument-bounds.js';
import { measureDocument } from './document-size.js';
import { maxDirectivesRule } from './max-directives.js';

export interface OperationLimitsOptions {
  /** Deepest selection nesting (fragments count as a level). */
  maxDepth: number;
  /** Most aliased fields in one operation (fragments included, aliased `__typename` too). */
  maxAliases: number;
  /** Most directives in one operation (on fields, fragments and fragment spreads, each spread counted). */
  maxDirectives: number;
  /** Most characters in the document; checked before parsing (lexing reads every character, one token can be huge). */
  maxQueryLength: number;
  /** Most lexical tokens in the document; enforced while parsing, so a huge document is never built. */
  maxTokens: number;
  /**
   * Most selections (fields, fragment spreads, inline fragments) in the operation, each fragment
   * counted at every spread (see `measureDocument`); checked after parsing, before validation.
   */
  maxSelections: number;
  /** Highest estimated cost: see `connectionCostEstimator`. */
  maxCost: number;
  /** Most items in any list argument (`nodes(ids:)`, `events(types:)`), literal, default or variable. Default 100. */
  maxListItems?: number;
  /** False refuses `__schema` and `__type` (`__typename` stays allowed). */
  introspection: boolean;
  /** True removes "Did you mean …?" from every error message, so the schema cannot be guessed field by field. */
  hideSuggestions: boolean;
}

/** The error every limit answers with: a validation failure, 400 whatever the Accept header. */
export function limitError(message: string): GraphQLError {
  return validationFailedError(message);
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
function connectionCostEstimator({ defaultPageSize = 20, maxPageSize = 100 } = {}): ComplexityEstimator {
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

/**
 * The document with every `@skip`/`@include` removed, so the cost counts each branch as taken.
 * graphql-query-complexity evaluates those directives with the request's variables and has no option
 * to ignore them, and a skipped selection prices at 0: `nodes(ids: [490000 ids]) { ... on User
 * @skip(if: true) { id } }` cost 1 while its resolver still ran 490000 times. Made once per parsed
 * document (Yoga caches documents per query string).
 */
const withEveryBranch = new WeakMap<DocumentNode, DocumentNode>();
function everyBranchTaken(document: DocumentNode): DocumentNode {
  let priced = withEveryBranch.get(document);
  if (!priced) {
    // Only selections carry these directives: argument values (a list of thousands) are not walked.
    priced = visit(document, {
      Argument: () => false,
      VariableDefinition: () => false,
      Directive: (node) => (node.name.value === 'skip' || node.name.value === 'include' ? null : false),
    });
    withEveryBranch.set(document, priced);
  }
  return priced;
}

/** Longest variable shape (see `variableShape`) whose cost is cached; longer ones are priced every time. */
const MAX_SHAPE_CHARS = 1_000;

/**
 * What the cost and the argument-bound checks can depend on in a variable's value, as a string: numbers
 * and booleans as they are, strings by their length and whether they are plain text, lists by their
 * items, input objects by their keys. Two requests with one shape get one price and one verdict
 * (coercion errors aside, which execution reports whatever the cost). Undefined past `budget` characters.
 */
function variableShape(value: unknown, budget = MAX_SHAPE_CHARS): string | undefined {
  let out = '';
  const walk = (v: unknown): boolean => {
    if (out.length > budget) return false;
    if (v === null || v === undefined) out += 'n';
    else if (typeof v === 'string') out += `s${v.length}${NOT_PLAIN_TEXT.test(v) ? '!' : ''}`;
    else if (typeof v === 'number' || typeof v === 'boolean') out += String(v);
    else if (Array.isArray(v)) {
      out += '[';
      for (const item of v) {
        if (!walk(item)) return false;
        out += ',';
      }
      out += ']';
    } else if (typeof v === 'object') {
      out += '{';
      for (const key in v) {
        out += `${JSON.stringify(key)}:`;
        if (!walk((v as Record<string, unknown>)[key])) return false;
        out += ',';
      }
      out += '}';
    } else return false;
    return out.length <= budget;
  };
  return walk(value) ? out : undefined;
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
 * `extensions.code` GRAPHQL_VALIDATION_FAILED: document length (before parsing), tokens (while
 * parsing), selections (after parsing, before validation), depth and aliases (GraphQL Armor
 * validation rules), directives (our rule, see `maxDirectivesRule`), introspection when disabled,
 * and the estimated cost, which counts every `@skip`/`@include` branch as taken. Argument values out
 * of their bounds (list items, string lengths: see `argumentBoundsEstimator`) get 400 BAD_USER_INPUT,
 * like a variable that does not coerce: literal lists after parsing, variables before they are
 * coerced, the rest in the same pass as the cost.
 *
 * The cost and the argument values depend on the variables (`users(first: $n)`), so they are checked
 * after validation on every request, cache hit or not, and refused by throwing rather than by adding
 * a validation error: Yoga caches validation results per document, and a cached refusal would
 * wrongly hit the same document sent later with other variables.
 */
export function useOperationLimits(options: OperationLimitsOptions): Plugin {
  const { maxDepth, maxAliases, maxDirectives, maxQueryLength, maxTokens, maxSelections, maxCost, introspection, hideSuggestions } = options;
  const rejection = { propagateOnRejection: false, onReject: [reportLimit], exposeLimits: true };
  const depthRule = maxDepthRule({ n: maxDepth, ...rejection });
  // Armor leaves aliased `__typename` out by default; a thousand of them are a thousand fields too.
  const aliasesRule = maxAliasesRule({ n: maxAliases, allowList: [], ...rejection });
  const directivesRule = maxDirectivesRule(maxDirectives, reportLimit);
  const maxListItems = options.maxListItems ?? 100;
  const estimators = [argumentBoundsEstimator({ maxListItems }), connectionCostEstimator()];

  // Prices per (document, operation, variable shape): the cost pass walks the whole operation with
  // TypeInfo, and a client sends the same few documents with ids that differ but are the same shape.
  // Bounded: documents by identity (Yoga's parse cache keeps one object per query string), entries by LRU.
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;
  const prices = new LRUCache<string, number>({ max: 2_000 });
  const priceKey = (query: DocumentNode, variables: Record<string, unknown>, operationName: string | undefined) => {
    const shape = variableShape(variables);
    if (shape === undefined || (operationName?.length ?? 0) > MAX_SHAPE_CHARS) return undefined;
    let id = documentIds.get(query);
    if (id === undefined) documentIds.set(query, (id = nextDocumentId++));
    return `${id}\u0000${operationName ?? ''}\u0000${shape}`;
  };

  const costOf = (schema: GraphQLSchema, query: DocumentNode, params: { variables?: unknown; operationName?: unknown } | undefined) => {
    const variables = params?.variables && typeof params.variables === 'object' ? (params.variables as Record<string, unknown>) : {};
    const operationName = typeof params?.operationName === 'string' ? params.operationName : undefined;
    checkVariableShapes(schema, query, variables, operationName, maxListItems);
    const key = priceKey(query, variables, operationName);
    const known = key === undefined ? undefined : prices.get(key);
    if (known !== undefined) return known;
    try {
      const cost = getComplexity({ schema, query: everyBranchTaken(query), estimators, variables, operationName });
      // Only a price is kept: a refusal by the bounds is thrown, and thrown again the next time.
      if (key !== undefined) prices.set(key, cost);
      return cost;
    } catch (error) {
      const message = error instanceof Error ? error.message : '';
      // Past the library's node budget (unreachable within the selection limit) is over cost in itself.
      if (/maximum allowed number of nodes/.test(message)) return Infinity;
      // Variables that do not coerce: execution refuses the request with the precise error before
      // any resolver runs, so there is nothing to price.
      if (/^Variable "\$/.test(message)) return undefined;
      // An argument out of its bounds (argumentBoundsEstimator): that refusal is the answer.
      if (error instanceof GraphQLError && error.extensions.code === ErrorCode.BAD_USER_INPUT) throw error;
      // Anything else is a bug; fail closed (a masked, logged error) rather than skip the limit.
      throw error;
    }
  };

  // The token limit is graphql's own `maxTokens` parse option (what armor's max-tokens plugin
  // re-implements, on a bundled graphql 16 parser whose ASTs and errors are not graphql 17's).
  // Length and selections bound what no later limit can: lexing reads every character (a 900 KB name
  // is one token and tens of milliseconds), graphql's overlapping-fields validation compares
  // selections pairwise (740 × `me { id }` took a second), and the cost pass walks the operation with
  // every fragment expanded (a fan-out reached its 10,000-node cap only after 100 ms).
  const parseWithLimits: typeof parse = (source, parseOptions) => {
    const length = typeof source === 'string' ? source.length : source.body.length;
    if (length > maxQueryLength) throw limitError(`Query length limit of ${maxQueryLength} characters exceeded, found ${length}.`);
    let document: DocumentNode;
    try {
      document = parse(source, { ...parseOptions, maxTokens });
    } catch (error) {
      if (error instanceof GraphQLError && /^Syntax Error: Document contains more than \d+ tokens/.test(error.message)) {
        throw limitError(`Token limit of ${maxTokens} exceeded.`);
      }
      throw error;
    }
    const { selections, longList } = measureDocument(document, maxListItems);
    // A literal list is an argument value, refused like a variable's (BAD_USER_INPUT), only sooner.
    if (longList) throw badUserInput(`${longList.where} has ${longList.items} items; at most ${maxListItems} are allowed.`);
    if (selections > maxSelections) throw limitError(`Selection limit of ${maxSelections} exceeded, found ${selections}.`);
    return document;
  };

  return {
    onParse({ setParseFn }) {
      setParseFn(parseWithLimits);
    },
    onValidate({ addValidationRule, context, params: { schema, documentAST } }) {
      addValidationRule(depthRule);
      addValidationRule(aliasesRule);
      addValidationRule(directivesRule);
      if (!introspection) addValidationRule(NoSchemaIntrospectionCustomRule);
      return ({ valid }) => {
        if (!valid) return;
        const cost = costOf(schema as GraphQLSchema, documentAST as DocumentNode, (context as { params?: { variables?: unknown; operationName?: unknown } }).params);
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
