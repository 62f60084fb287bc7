import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { type GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationRule } from 'graphql';
import { limitError } from './limit-error.js';
import { maxDirectivesRule } from './max-directives.js';

export interface ValidationLimitsOptions {
  /** Deepest selection nesting (fragments count as a level). */
  maxDepth: number;
  /** Most aliased fields in one operation (fragments included, aliased `__typename` too). */
  maxAliases: number;
  /** Most directives in one operation (see `maxDirectivesRule`). */
  maxDirectives: number;
  /** False refuses `__schema` and `__type` (`__typename` stays allowed). */
  introspection: boolean;
}

/** Armor prefixes its messages with "Syntax Error: " even for validation limits; ours are not syntax errors. */
const armorMessage = (error: { message: string }) => error.message.replace(/^Syntax Error: /, '');

/**
 * A rejection handler for the armor validation rules: report the error like any other validation
 * error. (Armor 2.x declares graphql 16; package.json's overrides give it our graphql 17, types included.)
 */
const reportLimit = (context: { reportError(error: GraphQLError): void } | null, error: { message: string }) => {
  context?.reportError(limitError(armorMessage(error)));
};

/**
 * The limits that are validation rules, so their verdict is cached per document with the rest of
 * validation: depth and aliases (GraphQL Armor), directives (our rule, see `maxDirectivesRule`),
 * introspection when disabled.
 */
export function validationLimitRules({ maxDepth, maxAliases, maxDirectives, introspection }: ValidationLimitsOptions): readonly ValidationRule[] {
  const rejection = { propagateOnRejection: false, onReject: [reportLimit], exposeLimits: true };
  const depthRule = maxDepthRule({ n: maxDepth, ...rejection });
  // Armor leaves aliased `__typename` out by default; a thousand of them are a thousand fields too.
  const aliasesRule = maxAliasesRule({ n: maxAliases, allowList: [], ...rejection });
  const directivesRule = maxDirectivesRule(maxDirectives, reportLimit);

  return [depthRule, aliasesRule, directivesRule, ...(introspection ? [] : [NoSchemaIntrospectionCustomRule])];
}
