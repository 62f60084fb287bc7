import { Counter, Histogram } from 'prom-client';
import {
  type DocumentNode,
  type ExecutionResult,
  getOperationAST,
  type GraphQLSchema,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { perOperation } from '../lib/operation-memo.js';
import type { Metrics } from '../metrics.js';
import { ErrorCode, errorCode } from '../errors/index.js';

export interface GraphQLMetricsOptions {
  /** Registry and the operation-name folding come from the app's metrics. */
  metrics: Metrics;
}

/** Request errors (no execution) by the phase their code names; the rest are refusals of the request. */
const PHASE_OF: Record<string, string> = { [ErrorCode.GRAPHQL_PARSE_FAILED]: 'parse', [ErrorCode.GRAPHQL_VALIDATION_FAILED]: 'validate' };

/** A result without `data`: the request failed before anything executed (GraphQL over HTTP's request error). */
const isRequestError = (result: unknown): result is ExecutionResult => result != null && typeof result === 'object' && !('data' in result);

/** An executed operation's metrics, resolved once per document and `operationName`. */
interface Executed {
  /** Introspection is not measured (as `@envelop/prometheus`'s `skipIntrospection`). */
  skip: boolean;
  name: string;
  type: string;
  /** Its label children, made at its first execution (a name admitted but never executed prints no series). */
  series?: { requests: Counter.Internal; duration: Histogram.Internal<'operationName' | 'operationType'> };
  /** Deprecated fields and arguments the document uses (empty when the schema has none). */
  deprecated: readonly { fieldName: string; typeName: string }[];
}

/** Whether any field, argument or input field of `schema` is deprecated (what the counter counts). */
function hasDeprecations(schema: GraphQLSchema): boolean {
  for (const type of Object.values(schema.getTypeMap())) {
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (field.deprecationReason != null || field.args.some((a) => a.deprecationReason != null)) return true;
      }
    } else if (isInputObjectType(type) && Object.values(type.getFields()).some((f) => f.deprecationReason != null)) {
      return true;
    }
  }
  return false;
}

/** Deprecated fields and arguments `document` selects (an argument is named with its field as type). */
function deprecatedUses(schema: GraphQLSchema, document: DocumentNode): { fieldName: string; typeName: string }[] {
  const typeInfo = new TypeInfo(schema);
  const found: { fieldName: string; typeName: string }[] = [];
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Argument() {
        const argument = typeInfo.getArgument();
        const field = typeInfo.getFieldDef();
        if (field && argument?.deprecationReason != null) found.push({ fieldName: argument.name, typeName: field.name });
      },
      Field() {
        const field = typeInfo.getFieldDef();
        if (field?.deprecationReason != null) found.push({ fieldName: field.name, typeName: typeInfo.getParentType()?.name ?? '' });
      },
    }),
  );
  return found;
}

/** Whether the document asks for `__schema` anywhere (introspection; `__typename` and `__type` are not). */
function introspects(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value === '__schema') found = true;
    },
  });
  return found;
}

/**
 * GraphQL metrics under `@envelop/prometheus`'s names, labels and buckets, so its dashboards keep
 * working: `graphql_envelop_request` and `graphql_envelop_request_duration` (executed operations and
 * their execution time), `graphql_envelop_error_result` (errors by phase and code) and
 * `graphql_envelop_deprecated_field`. Introspection is not measured.
 *
 * Not `@envelop/prometheus` itself: on every request it built label objects with
 * `Object.entries`/`fromEntries`, filtered its handler lists, timed each phase with `Date.now()` and
 * had prom-client resolve the labels twice, ~20 µs per node-by-id request (measured in process, one
 * request to each app in turn). Here what an operation's metrics need (its label values and series,
 * whether it is introspection, its deprecated fields) is resolved once per document and
 * `operationName`; a request does one lookup, one increment and one observation. No phase
 * histograms: parse and validate are answered from the document cache (microseconds), and
 * execution's is the request duration.
 *
 * Labels are bounded:
 * - the operation is the one the document selects (by `operationName` or as its only operation), never
 *   the raw `operationName` parameter, which is any string a client sends;
 * - a name gets a label value of its own only once an operation of that name reaches execution, i.e.
 *   passed authentication, validation and the operation limits (`Metrics.operationLabel`: at most 100
 *   names of at most 64 characters);
 * - errors of requests that did not execute (phase `parse`, `validate`, or `request` for the rest: a
 *   limit's refusal, variables that do not coerce, a failed context) are counted from the result, as
 *   operation "other" of type "unknown"; errors in an execution's result (phase `execute`, or
 *   `subscribe` for a subscription's events) under its operation's labels;
 * - no label carries a path, id or variable.
 */
export function useGraphQLMetrics({ metrics }: GraphQLMetricsOptions): Plugin {
  const { registry } = metrics;
  const labelNames = ['operationName', 'operationType'] as const;
  const requests = new Counter({ name: 'graphql_envelop_request', help: 'GraphQL operations executed.', labelNames, registers: [registry] });
  const durations = new Histogram({
    name: 'graphql_envelop_request_duration',
    help: 'Duration of GraphQL operations (execution).',
    labelNames,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'graphql_envelop_error_result',
    help: 'Errors in GraphQL results, by phase and error code.',
    labelNames: [...labelNames, 'phase', 'code'],
    registers: [registry],
  });
  const deprecatedFields = new Counter({
    name: 'graphql_envelop_deprecated_field',
    help: 'Uses of deprecated fields (names come from the schema, so they are bounded).',
    labelNames: [...labelNames, 'fieldName', 'typeName'],
    registers: [registry],
  });

  // The schema when it deprecates anything, else undefined: with nothing deprecated the walk for
  // deprecated fields is skipped (checked once per schema).
  const deprecations = new WeakMap<GraphQLSchema, boolean>();
  let deprecatingSchema: GraphQLSchema | undefined;
  const executed = perOperation<Executed>((document, requested) => {
    const node = getOperationAST(document, requested);
    // An operation reaching execution is selected (the executor refuses the rest); its name is admitted here.
    const name = node ? metrics.operationLabel(node.name?.value) : 'other';
    const type = node?.operation ?? 'unknown';
    const value: Executed = {
      skip: introspects(document),
      name,
      type,
      deprecated: deprecatingSchema ? deprecatedUses(deprecatingSchema, document) : [],
    };
    return { value, selected: node != null };
  });

  const countErrors = (result: ExecutionResult, phase: string, op: Executed) => {
    for (const error of result.errors ?? []) errors.inc({ operationName: op.name, operationType: op.type, phase, code: errorCode(error) });
  };
  const countRequestErrors = (result: unknown) => {
    if (!isRequestError(result)) return;
    for (const error of result.errors ?? []) {
      const code = errorCode(error);
      errors.inc({ operationName: 'other', operationType: 'unknown', phase: PHASE_OF[code] ?? 'request', code });
    }
  };
  /** Counts an execution or subscription whose result is `result`: once it ends, with its duration. */
  const measure = (op: Executed, phase: string, start: number, result: unknown) => {
    const done = () => {
      const series = (op.series ??= { requests: requests.labels(op.name, op.type), duration: durations.labels(op.name, op.type) });
      series.requests.inc();
      series.duration.observe((performance.now() - start) / 1000);
    };
    if (isAsyncIterable(result)) {
      return {
        onNext: ({ result: next }: { result: ExecutionResult }) => countErrors(next, phase, op),
        onEnd: done,
      };
    }
    // Nothing ran (variables that do not coerce): a request error, which onResultProcess counts.
    if (typeof result !== 'object' || result === null || isRequestError(result)) return undefined;
    countErrors(result, phase, op);
    done();
    return undefined;
  };
  const begin = (document: unknown, operationName: string | null | undefined): Executed | undefined => {
    const op = executed(document as DocumentNode, operationName ?? undefined);
    if (op.skip) return undefined;
    for (const use of op.deprecated) deprecatedFields.inc({ operationName: op.name, operationType: op.type, ...use });
    return op;
  };

  return {
    onSchemaChange({ schema: changed }) {
      const schema = changed as GraphQLSchema;
      let has = deprecations.get(schema);
      if (has === undefined) deprecations.set(schema, (has = hasDeprecations(schema)));
      deprecatingSchema = has ? schema : undefined;
    },
    onExecute({ args }) {
      const op = begin(args.document, args.operationName as string | null | undefined);
      if (!op) return undefined;
      const start = performance.now();
      return { onExecuteDone: ({ result }) => measure(op, 'execute', start, result) };
    },
    onSubscribe({ args }) {
      const op = begin(args.document, args.operationName as string | null | undefined);
      if (!op) return undefined;
      const start = performance.now();
      return { onSubscribeResult: ({ result }) => measure(op, 'subscribe', start, result) };
    },
    onResultProcess({ result }) {
      if (Array.isArray(result)) for (const r of result) countRequestErrors(r);
      else countRequestErrors(result);
    },
  };
}
