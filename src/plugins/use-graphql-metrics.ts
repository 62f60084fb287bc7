import { createCounter, createHistogram, type FillLabelsFnParams, usePrometheus } from '@envelop/prometheus';
import { getOperationAST, type GraphQLSchema, isInputObjectType, isInterfaceType, isObjectType } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { perOperation } from '../lib/operation-memo.js';
import type { Metrics } from '../metrics.js';
import { ErrorCode, errorCode } from '../errors/index.js';

export interface GraphQLMetricsOptions {
  /** Registry and the operation-name folding come from the app's metrics. */
  metrics: Metrics;
}

type Labels = 'operationName' | 'operationType';

/** Yoga adds these codes after the plugin sees the error. */
const PHASE_CODES: Record<string, ErrorCode> = { parse: ErrorCode.GRAPHQL_PARSE_FAILED, validate: ErrorCode.GRAPHQL_VALIDATION_FAILED };

/** No operation selected (no document, or `operationName` names none of its operations). */
const UNSELECTED: Operation = { name: null, type: 'unknown' };

interface Operation {
  /** The selected operation's name ('' when anonymous), or null when no operation is selected. */
  name: string | null;
  type: string;
}

/**
 * `@envelop/prometheus` with request count and duration, the error counter (by phase and code) and
 * the deprecated-field counter; no phase histograms (see below). Every label is bounded:
 * - the operation is the one the document selects (by `operationName` or as its only operation), never
 *   the raw `operationName` parameter, which is any string a client sends;
 * - a name gets a label value of its own only once an operation of that name reaches execution, i.e.
 *   passed authentication, validation and the operation limits (`Metrics.operationLabel`: at most 100
 *   names of at most 64 characters). Parse and validate errors use the name only if it was admitted
 *   so; refused operations (parse or validation errors) count as "other";
 * - no label carries a path, id or variable.
 */
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

export function useGraphQLMetrics({ metrics }: GraphQLMetricsOptions): Plugin {
  const { registry } = metrics;
  // The deprecated-field counter walks every document with TypeInfo after parsing; with nothing
  // deprecated in the schema it can never count, so that walk is skipped (checked per schema).
  const deprecations = new WeakMap<GraphQLSchema, boolean>();
  let schemaHasDeprecations = true;
  // The selected operation per document and `operationName`: a lookup, not a walk (see perOperation).
  const selectedOperation = perOperation<Operation>((document, requested) => {
    const node = getOperationAST(document, requested);
    return { value: node ? { name: node.name?.value ?? '', type: node.operation } : UNSELECTED, selected: node != null };
  });
  const operationOf = (p: FillLabelsFnParams, context: { params?: { operationName?: string } } | undefined): Operation =>
    p.document ? selectedOperation(p.document, context?.params?.operationName) : UNSELECTED;
  /** Labels observed before the operation is known to be valid: admitted names only. */
  const before = (p: FillLabelsFnParams & { errorPhase?: string }, context: unknown) => {
    const { name, type } = operationOf(p, context as never);
    return { operationName: p.errorPhase || name === null ? 'other' : metrics.knownOperationLabel(name), operationType: type };
  };
  /** Labels of an executed operation: its name is admitted here. */
  const executed = (p: FillLabelsFnParams, context: unknown) => {
    const { name, type } = operationOf(p, context as never);
    return { operationName: name === null ? 'other' : metrics.operationLabel(name), operationType: type };
  };

  const prometheus = usePrometheus({
    registry,
    skipIntrospection: true,
    metrics: {
      graphql_envelop_request: createCounter<never, Labels>({
        registry,
        counter: {
          name: 'graphql_envelop_request',
          help: 'GraphQL operations executed.',
          labelNames: ['operationName', 'operationType'],
        },
        fillLabelsFn: executed,
      }),
      graphql_envelop_request_duration: createHistogram<never, Labels>({
        registry,
        histogram: { name: 'graphql_envelop_request_duration', help: 'Duration of GraphQL operations (execution).', labelNames: ['operationName', 'operationType'] },
        fillLabelsFn: executed,
      }),
      // No phase histograms: the plugin times phases with Date.now() (whole milliseconds); parse and
      // validate are answered from the document cache (microseconds), so their histograms only ever
      // held 0, and the execute phase's is the request duration above, observed a second time.
      graphql_envelop_phase_parse: false,
      graphql_envelop_phase_validate: false,
      graphql_envelop_phase_execute: false,
      graphql_envelop_phase_context: false,
      graphql_envelop_error_result: createCounter<never, Labels | 'phase' | 'code', FillLabelsFnParams & { errorPhase: string }>({
        registry,
        counter: {
          name: 'graphql_envelop_error_result',
          help: 'Errors in GraphQL results, by phase and error code.',
          labelNames: ['operationName', 'operationType', 'phase', 'code'],
        },
        fillLabelsFn: (p, context) => ({
          ...(p.errorPhase === 'execute' || p.errorPhase === 'subscribe' ? executed(p, context) : before(p, context)),
          phase: p.errorPhase,
          code: PHASE_CODES[p.errorPhase] ?? errorCode(p.error),
        }),
      }),
      graphql_envelop_deprecated_field: createCounter<never, Labels | 'fieldName' | 'typeName', FillLabelsFnParams>({
        registry,
        counter: {
          name: 'graphql_envelop_deprecated_field',
          help: 'Uses of deprecated fields (names come from the schema, so they are bounded).',
          labelNames: ['operationName', 'operationType', 'fieldName', 'typeName'],
        },
        fillLabelsFn: (p, context) => ({
          ...before(p, context),
          fieldName: p.deprecationInfo?.fieldName ?? '',
          typeName: p.deprecationInfo?.typeName ?? '',
        }),
        shouldObserve: () => schemaHasDeprecations,
      }),
    },
  }) as Plugin;
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(prometheus);
    },
    onSchemaChange({ schema: changed }) {
      const schema = changed as GraphQLSchema;
      let has = deprecations.get(schema);
      if (has === undefined) deprecations.set(schema, (has = hasDeprecations(schema)));
      schemaHasDeprecations = has;
    },
  };
}
