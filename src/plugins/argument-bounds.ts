import {
  type DocumentNode,
  getNamedType,
  getNullableType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  isInputObjectType,
  isInputType,
  isListType,
  isUnionType,
  Kind,
  typeFromAST,
} from 'graphql';
import type { ComplexityEstimator } from 'graphql-query-complexity';
import { invalidArgumentError } from '../errors/index.js';
import { type OperationFinding, perOperation } from '../lib/operation-memo.js';
import { NOT_PLAIN_TEXT } from '../text.js';

/** What a string argument or input field declares in its `extensions`; checked before execution. */
export interface InputBounds {
  /** Most UTF-16 code units of the string (of each string, in a list). */
  readonly maxLength?: number;
  /** Refuse control characters, U+2028/U+2029 and unpaired surrogates (see `NOT_PLAIN_TEXT`). */
  readonly plainText?: boolean;
}

/** An argument value out of its documented bounds: 400, like a variable that does not coerce. */
export const badUserInput = invalidArgumentError;

/**
 * A field whose result can be a ValidationError checks its own input and reports a bad value as
 * data (the contract's result unions), so the check before execution leaves its arguments alone.
 */
const validatesOwnInput = new WeakMap<GraphQLField<unknown, unknown>, boolean>();
function reportsValidationErrors(field: GraphQLField<unknown, unknown>): boolean {
  let reports = validatesOwnInput.get(field);
  if (reports === undefined) {
    const type = getNamedType(field.type);
    reports = isUnionType(type) && type.getTypes().some((member) => member.name === 'ValidationError');
    validatesOwnInput.set(field, reports);
  }
  return reports;
}

/** `where` names the value as `field(argument.inputField)`, e.g. `users(filter.search)`. */
function check(value: unknown, type: GraphQLInputType, bounds: InputBounds, maxListItems: number, field: string, path: string): void {
  if (value == null) return;
  const where = `${field}(${path})`;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    // Coerced arguments: a list is always an array here, whether it came as a literal or a variable.
    const items = value as unknown[];
    if (items.length > maxListItems) throw badUserInput(`${where} has ${items.length} items; at most ${maxListItems} are allowed.`);
    for (const item of items) check(item, nullable.ofType, bounds, maxListItems, field, path);
  } else if (isInputObjectType(nullable)) {
    const fields = nullable.getFields();
    for (const [name, fieldValue] of Object.entries(value as Record<string, unknown>)) {
      const inputField = fields[name];
      if (inputField) check(fieldValue, inputField.type, inputField.extensions, maxListItems, field, `${path}.${name}`);
    }
  } else if (typeof value === 'string') {
    if (bounds.maxLength !== undefined && value.length > bounds.maxLength) {
      throw badUserInput(`${where} is too long: at most ${bounds.maxLength} characters.`);
    }
    if (bounds.plainText && NOT_PLAIN_TEXT.test(value)) {
      throw badUserInput(`${where} must not contain control characters, line separators or unpaired surrogates.`);
    }
  }
}

/**
 * Checks every argument of every field of the operation against its declared bounds (`InputBounds`
 * in the extensions of arguments and input fields) and every list against `maxListItems`, throwing
 * BAD_USER_INPUT at the first value out of bounds. It runs as the first estimator of the cost pass:
 * that pass already visits every field of the operation with its arguments coerced from the
 * request's variables (literal or variable alike), so the check costs one walk over values the pass
 * has anyway. It returns no cost, so the next estimator prices the field.
 */
export function argumentBoundsEstimator({ maxListItems }: { maxListItems: number }): ComplexityEstimator {
  return ({ field, args }) => {
    if (field.args.length === 0 || reportsValidationErrors(field)) return;
    for (const arg of field.args) {
      check(args[arg.name], arg.type, arg.extensions, maxListItems, field.name, arg.name);
    }
  };
}

function checkShape(value: unknown, type: GraphQLInputType, maxListItems: number, where: string): void {
  if (value == null || typeof value !== 'object') return;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (!Array.isArray(value)) return checkShape(value, nullable.ofType, maxListItems, where);
    if (value.length > maxListItems) throw badUserInput(`${where} has ${value.length} items; at most ${maxListItems} are allowed.`);
    for (const item of value) checkShape(item, nullable.ofType, maxListItems, where);
  } else if (isInputObjectType(nullable) && !Array.isArray(value)) {
    const fields = nullable.getFields();
    const most = Object.keys(fields).length;
    let keys = 0;
    for (const key in value) {
      if (++keys > most) throw badUserInput(`${where} has more fields than ${nullable.name} defines.`);
      // Raw JSON: a key such as "__proto__" must not find anything on the field map's prototype.
      const field = Object.hasOwn(fields, key) ? fields[key] : undefined;
      if (field) checkShape((value as Record<string, unknown>)[key], field.type, maxListItems, `${where}.${key}`);
    }
  }
}

/**
 * Checks the raw JSON of the operation's declared variables before anything coerces them: no list
 * longer than `maxListItems`, no object with more keys than its input type has fields. Coercion is
 * where the cost is: 240,000 ids take tens of milliseconds to coerce, and graphql reports an object's
 * unknown keys one error each, each error printing the whole object, quadratic in its size (60,000
 * keys kept the process busy for minutes). Values within these bounds coerce in linear time, and
 * the rest of their checks (string lengths) follow on the coerced arguments.
 */
export function checkVariableShapes(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown>,
  operationName: string | undefined,
  maxListItems: number,
): void {
  for (const [name, type] of shapedVariables(schema, document, operationName)) {
    if (Object.hasOwn(variables, name)) checkShape(variables[name], type, maxListItems, `Variable "$${name}"`);
  }
}

type ShapedVariables = readonly (readonly [name: string, type: GraphQLInputType])[];

/** Per schema, the variables `checkShape` can act on, per document and operation name. */
const shapedBySchema = new WeakMap<GraphQLSchema, (document: DocumentNode, operationName: string | undefined) => ShapedVariables>();

/**
 * The declared variables of the selected operation(s) whose type holds lists or input objects (the
 * only values `checkShape` looks into), found once per document and operation name (`perOperation`):
 * most documents declare none (`$id: ID!`).
 */
function shapedVariables(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined): ShapedVariables {
  let shaped = shapedBySchema.get(schema);
  if (!shaped) shapedBySchema.set(schema, (shaped = perOperation((doc, name) => findShapedVariables(schema, doc, name))));
  return shaped(document, operationName);
}

function findShapedVariables(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined): OperationFinding<ShapedVariables> {
  const found: (readonly [string, GraphQLInputType])[] = [];
  let selected = false;
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    if (operationName !== undefined && definition.name?.value !== operationName) continue;
    selected = true;
    for (const variable of definition.variableDefinitions ?? []) {
      const type = typeFromAST(schema, variable.type);
      const nullable = type && getNullableType(type);
      if (type && isInputType(type) && (isListType(nullable) || isInputObjectType(nullable))) found.push([variable.variable.name.value, type]);
    }
  }
  return { value: found, selected };
}
