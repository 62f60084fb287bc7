import { context, propagation, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { type DocumentNode, getOperationAST, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { requestInfoOf } from '../request-info.js';
import type { Route } from '../routes.js';

/**
 * One trace per request: a SERVER span for the HTTP request, continuing the caller's W3C
 * `traceparent`, with the GraphQL phases (parse, validate, execute) and the root resolvers under it.
 * Everything a resolver starts (Prisma queries, downstream calls, outbox rows) runs inside these spans
 * through the active context. Only installed when tracing is on (see src/tracing/).
 */
export function useTracing({ tracer }: { tracer: Tracer }): Plugin<Context> {
  const spans = new WeakMap<Request, Span>();
  return {
    instrumentation: {
      request({ request }, wrapped) {
        // Probes and scrapes are not traced: a trace every few seconds per replica, telling nothing.
        if (UNTRACED_ROUTES.has(requestInfoOf(request).route)) return wrapped();
        const parent = propagation.extract(context.active(), request.headers, HEADERS_GETTER);
        const info = requestInfoOf(request);
        // Named by the route's path, never an arbitrary client path (span names should have few values).
        const span = tracer.startSpan(
          info.route ? `${request.method} ${info.path}` : request.method,
          { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'url.path': info.path.slice(0, 256), 'request.id': info.id } },
          parent,
        );
        spans.set(request, span);
        return settle(span, () => context.with(trace.setSpan(parent, span), wrapped));
      },
      parse: (_, wrapped) => inSpan(tracer, 'graphql.parse', wrapped),
      validate: (_, wrapped) => inSpan(tracer, 'graphql.validate', wrapped),
      execute: (_, wrapped) => inSpan(tracer, 'graphql.execute', wrapped),
    },
    onExecute({ args }) {
      // Runs inside the execute span (the instrumentation wraps the onExecute hooks).
      const operation = getOperationAST(args.document as DocumentNode, args.operationName as string | undefined);
      const span = trace.getActiveSpan();
      if (!operation || !span) return;
      span.setAttribute('graphql.operation.type', operation.operation);
      if (operation.name) span.setAttribute('graphql.operation.name', operation.name.value.slice(0, 64));
    },
    onResultProcess({ request, result }) {
      const results = Array.isArray(result) ? result : [result];
      const errors = results.some((r) => ((r as { errors?: unknown[] } | undefined)?.errors ?? []).length > 0);
      if (errors) spans.get(request)?.setAttribute('graphql.errors', true);
    },
    onResponse({ request, response }) {
      const span = spans.get(request);
      if (!span) return;
      span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    },
  };
}

/**
 * The schema with a span around each Query and Mutation field's resolver (`graphql.resolve Query.user`),
 * active while it runs, so its database queries nest under it. Nested fields are not spanned: their
 * queries are batched by the loaders across fields anyway, and a span per field would cost more than
 * the field.
 */
export function tracedSchema(schema: GraphQLSchema, tracer: Tracer): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.ROOT_FIELD]: (field, fieldName, typeName) => {
      const resolve = field.resolve;
      if (!resolve || typeName === 'Subscription') return field;
      const name = `graphql.resolve ${typeName}.${fieldName}`;
      return {
        ...field,
        resolve: (root, args, ctx, info) => inSpan(tracer, name, () => resolve(root, args, ctx, info), { 'graphql.field.path': `${typeName}.${fieldName}` }),
      };
    },
  });
}

const UNTRACED_ROUTES = new Set<Route | null>(['health', 'ready', 'metrics']);

const HEADERS_GETTER = {
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
  keys: (carrier: Headers) => [...carrier.keys()],
};

/** Runs `fn` with a new span active, ending it when `fn` returns or settles. */
function inSpan<T>(tracer: Tracer, name: string, fn: () => T, attributes?: Record<string, string>): T {
  return tracer.startActiveSpan(name, { attributes }, (span) => settle(span, fn));
}

function settle<T>(span: Span, fn: () => T): T {
  const fail = (error: unknown) => {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
    span.end();
    throw error;
  };
  let result: T;
  try {
    result = fn();
  } catch (error) {
    return fail(error);
  }
  if (result instanceof Promise) {
    return result.then((value: unknown) => {
      span.end();
      return value;
    }, fail) as T;
  }
  span.end();
  return result;
}
