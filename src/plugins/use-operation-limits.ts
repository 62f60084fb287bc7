import type { DocumentNode, ExecutionResult, GraphQLError, GraphQLSchema, Source } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { type CostLimitOptions, costLimitCheck, type OperationParams } from './cost-limit.js';
import { documentLimitsParser, type DocumentLimitsOptions } from './document-limits.js';
import { withoutSuggestions } from './suggestion-hiding.js';
import { validationLimitRules, type ValidationLimitsOptions } from './validation-limits.js';

export interface OperationLimitsOptions extends Omit<DocumentLimitsOptions, 'maxListItems'>, ValidationLimitsOptions, Omit<CostLimitOptions, 'maxListItems'> {
  /** Most items in any list argument (`nodes(ids:)`, `events(types:)`), literal, default or variable. Default 100. */
  maxListItems?: number;
  /** True removes "Did you mean …?" from every error message, so the schema cannot be guessed field by field. */
  hideSuggestions: boolean;
}

/** Documents kept parsed, by query text, at most this many (Yoga's own cache keeps as many)... */
const DOCUMENTS = 1_024;
/**
 * ...and at most this many characters of query text in all. A parsed document keeps a node and a token
 * (with its location) per token: about 22 bytes of heap per character of text (737 KiB for a 34,000-
 * character document within the token limit, measured), so 1,024 documents near the length limit would
 * hold ~700 MiB, past the pod's limit. A million characters bound the cache to ~25 MiB.
 */
const DOCUMENT_CHARS = 1_000_000;

/**
 * Refuses expensive or probing operations before anything executes, each with HTTP 400 and
 * `extensions.code` GRAPHQL_VALIDATION_FAILED:
 * - the document (`documentLimitsParser`): length before parsing, tokens while parsing, selections and
 *   literal lists (400 BAD_USER_INPUT) after parsing, before validation;
 * - validation rules (`validationLimitRules`): depth, aliases, directives, introspection when disabled;
 * - after validation, on every request (`costLimitCheck`): variable lists and strings out of their
 *   bounds (400 BAD_USER_INPUT) and the estimated cost, which depend on the variables;
 * - when asked, "Did you mean …?" removed from the result's errors (`withoutSuggestions`).
 *
 * It is also the parse and validation cache, in place of Yoga's (`parserAndValidationCache: false`
 * in app.ts): one hook per phase instead of one per concern plus Yoga's, whose validation cache
 * joins the names of every rule (graphql's 30-odd and ours) into a key on every request. A hit is
 * one lookup: parse results (documents and errors, limit refusals included) by query text, validation
 * results by schema and document. The validation cache holds because the rules are fixed: graphql's
 * (Yoga's engine adds them on every request) and ours; no plugin adds rules per request.
 */
export function useOperationLimits(options: OperationLimitsOptions): Plugin {
  const maxListItems = options.maxListItems ?? 100;
  const { maxQueryLength } = options;
  const parseWithLimits = documentLimitsParser({ ...options, maxListItems });
  const rules = validationLimitRules(options);
  const checkCost = costLimitCheck({ ...options, maxListItems });
  // A text over the length limit is refused before parsing and never kept: keys stay within the limit.
  const documents = new LRUCache<string, DocumentNode | Error>({ max: DOCUMENTS, maxSize: DOCUMENT_CHARS, sizeCalculation: (_document, text) => Math.max(1, text.length) });
  const validations = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, readonly GraphQLError[]>>();

  return {
    onParse({ params: { source }, setParseFn, setParsedDocument }) {
      setParseFn(parseWithLimits);
      const text: string = typeof source === 'string' ? source : (source as Source).body;
      if (text.length > maxQueryLength) return undefined;
      const known = documents.get(text);
      if (known instanceof Error) throw known;
      if (known) {
        setParsedDocument(known);
        return undefined;
      }
      return ({ result }) => {
        if (result != null) documents.set(text, result as DocumentNode | Error);
      };
    },
    onValidate({ context, params: { schema, documentAST }, setResult, addValidationRule }) {
      const document = documentAST as DocumentNode;
      let bySchema = validations.get(schema as GraphQLSchema);
      if (!bySchema) validations.set(schema as GraphQLSchema, (bySchema = new WeakMap()));
      const known = bySchema.get(document);
      if (known) setResult(known as GraphQLError[]);
      else for (const rule of rules) addValidationRule(rule);
      return ({ valid, result }) => {
        if (!known) bySchema.set(document, result as readonly GraphQLError[]);
        if (valid) checkCost(schema as GraphQLSchema, document, (context as { params?: OperationParams }).params);
      };
    },
    ...(options.hideSuggestions
      ? {
          onResultProcess({ result, setResult }) {
            if (Array.isArray(result)) setResult(result.map((r: ExecutionResult) => withoutSuggestions(r)));
            else if (result && typeof result === 'object' && 'errors' in result) setResult(withoutSuggestions(result as ExecutionResult));
          },
        }
      : {}),
  };
}
