import type { Plugin } from 'graphql-yoga';
import { type CostLimitOptions, useCostLimit } from './use-cost-limit.js';
import { type DocumentLimitsOptions, useDocumentLimits } from './use-document-limits.js';
import { useSuggestionHiding } from './use-suggestion-hiding.js';
import { useValidationLimits, type ValidationLimitsOptions } from './use-validation-limits.js';

export interface OperationLimitsOptions extends Omit<DocumentLimitsOptions, 'maxListItems'>, ValidationLimitsOptions, Omit<CostLimitOptions, 'maxListItems'> {
  /** Most items in any list argument (`nodes(ids:)`, `events(types:)`), literal, default or variable. Default 100. */
  maxListItems?: number;
  /** True removes "Did you mean …?" from every error message, so the schema cannot be guessed field by field. */
  hideSuggestions: boolean;
}

/**
 * Refuses expensive or probing operations before anything executes, each with HTTP 400 and
 * `extensions.code` GRAPHQL_VALIDATION_FAILED, one plugin per concern, in this order:
 * - the document (`useDocumentLimits`): length before parsing, tokens while parsing, selections and
 *   literal lists (400 BAD_USER_INPUT) after parsing, before validation;
 * - validation rules (`useValidationLimits`): depth, aliases, directives, introspection when disabled;
 * - after validation, on every request (`useCostLimit`): variable lists and strings out of their
 *   bounds (400 BAD_USER_INPUT) and the estimated cost, which depend on the variables;
 * - when asked, "Did you mean …?" removed from the result's errors (`useSuggestionHiding`).
 *
 * One plugin for app.ts (and its DIAGNOSTIC 'operationLimits' switch): the parts are added right
 * after it (envelop's `addPlugin` inserts them at this plugin's place), so they run where it stands.
 */
export function useOperationLimits(options: OperationLimitsOptions): Plugin {
  const maxListItems = options.maxListItems ?? 100;
  const parts: Plugin[] = [
    useDocumentLimits({ ...options, maxListItems }),
    useValidationLimits(options),
    useCostLimit({ ...options, maxListItems }),
    ...(options.hideSuggestions ? [useSuggestionHiding()] : []),
  ];
  return {
    onPluginInit({ addPlugin }) {
      for (const part of parts) addPlugin(part);
    },
  };
}
