import { createCounter, createHistogram, type FillLabelsFnParams, usePrometheus } from '@envelop/prometheus';
import type { Plugin } from 'graphql-yoga';
import type { Metrics } from '../metrics.js';
import { errorCode } from './use-error-masking.js';

export interface GraphQLMetricsOptions {
  /** Registry and the operation-name folding come from the app's metrics. */
  metrics: Metrics;
}

type Labels = 'operationName' | 'operationType';

/** Yoga adds these codes after the plugin sees the error. */
const PHASE_CODES: Record<string, string> = { parse: 'GRAPHQL_PARSE_FAILED', validate: 'GRAPHQL_VALIDATION_FAILED' };

/**
 * `@envelop/prometheus` with request count and duration, the parse/validate/execute phase histograms,
 * the error counter and the deprecated-field counter. Every label is bounded: operation names fold
 * into "other" past a cap, and no label carries a path, id or variable.
 */
export function useGraphQLMetrics({ metrics }: GraphQLMetricsOptions): Plugin {
  const { registry } = metrics;
  const operation = (p: FillLabelsFnParams) => ({
    operationName: metrics.operationLabel(p.operationName),
    operationType: p.operationType ?? 'unknown',
  });
  const histogram = (name: string, help: string) =>
    createHistogram<never, Labels>({
      registry,
      histogram: { name, help, labelNames: ['operationName', 'operationType'] },
      fillLabelsFn: operation,
    });

  return usePrometheus({
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
        fillLabelsFn: operation,
      }),
      graphql_envelop_request_duration: histogram('graphql_envelop_request_duration', 'Duration of GraphQL operations.'),
      graphql_envelop_phase_parse: histogram('graphql_envelop_phase_parse', 'Time spent parsing operations.'),
      graphql_envelop_phase_validate: histogram('graphql_envelop_phase_validate', 'Time spent validating operations.'),
      graphql_envelop_phase_execute: histogram('graphql_envelop_phase_execute', 'Time spent executing operations.'),
      graphql_envelop_error_result: createCounter<never, Labels | 'phase' | 'code', FillLabelsFnParams & { errorPhase: string }>({
        registry,
        counter: {
          name: 'graphql_envelop_error_result',
          help: 'Errors in GraphQL results, by phase and error code.',
          labelNames: ['operationName', 'operationType', 'phase', 'code'],
        },
        fillLabelsFn: (p) => ({
          ...operation(p),
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
        fillLabelsFn: (p) => ({
          ...operation(p),
          fieldName: p.deprecationInfo?.fieldName ?? '',
          typeName: p.deprecationInfo?.typeName ?? '',
        }),
      }),
    },
  }) as Plugin;
}
