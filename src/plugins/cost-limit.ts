import { type DocumentNode, GraphQLError, type GraphQLSchema } from 'graphql';
import { getComplexity } from 'graphql-query-complexity';
import { LRUCache } from 'lru-cache';
import { ErrorCode } from '../errors/index.js';
import { NOT_PLAIN_TEXT } from '../text.js';
import { argumentBoundsEstimator, checkVariableShapes } from './argument-bounds.js';
import { connectionCostEstimator, everyBranchTaken } from './cost-estimate.js';
import { limitError } from './limit-error.js';

export interface CostLimitOptions {
  /** Highest estimated cost: see `connectionCostEstimator`. */
  maxCost: number;
  /** Most items in any list argument, literal, default or variable. */
  maxListItems: number;
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

/** What the check reads from the request: Yoga's parsed GraphQL parameters. */
export interface OperationParams {
  variables?: unknown;
  operationName?: unknown;
}

/**
 * The estimated cost (every `@skip`/`@include` branch counted as taken) and the argument values
 * (list items, string lengths: see `argumentBoundsEstimator`; out of bounds is 400 BAD_USER_INPUT,
 * like a variable that does not coerce: variables before they are coerced, the rest in the same
 * pass as the cost).
 *
 * Both depend on the variables (`users(first: $n)`), so they are checked after validation on every
 * request, cached validation or not, and refused by throwing rather than by adding a validation
 * error: validation results are cached per document, and a cached refusal would wrongly hit the
 * same document sent later with other variables. The returned check throws the refusal.
 */
export function costLimitCheck({ maxCost, maxListItems }: CostLimitOptions): (schema: GraphQLSchema, query: DocumentNode, params: OperationParams | undefined) => void {
  const estimators = [argumentBoundsEstimator({ maxListItems }), connectionCostEstimator()];

  // Prices per (document, operation, variable shape): the cost pass walks the whole operation with
  // TypeInfo, and a client sends the same few documents with ids that differ but are the same shape.
  // Bounded: documents by identity (the parse cache keeps one object per query string), entries by LRU.
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

  const costOf = (schema: GraphQLSchema, query: DocumentNode, params: OperationParams | undefined) => {
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

  return (schema, query, params) => {
    const cost = costOf(schema, query, params);
    if (cost !== undefined && cost > maxCost) {
      throw limitError(
        Number.isFinite(cost)
          ? `Query cost limit of ${maxCost} exceeded, found ${cost}. Ask for smaller pages (first/last) or fewer nested connections.`
          : `Query cost limit of ${maxCost} exceeded. Ask for smaller pages (first/last) or fewer nested connections.`,
      );
    }
  };
}
