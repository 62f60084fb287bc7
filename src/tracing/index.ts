import { context, isSpanContextValid, propagation, trace, type Context, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from '../config.js';

/**
 * OpenTelemetry tracing, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set (or a test passes an
 * exporter). Off, none of the SDK is even loaded (see `loadTracing`): no provider, no context manager,
 * no Prisma instrumentation, no plugin; the API calls elsewhere (`traceparentOfActiveSpan`,
 * `injectTraceHeaders`) fall through the API's no-op implementations.
 */
export interface Tracing {
  readonly tracer: Tracer;
  /** Ends the export: flushes the spans still buffered, then stops. Idempotent. */
  shutdown(): Promise<void>;
  /** Exports every span ended so far (tests). */
  forceFlush(): Promise<void>;
}

export interface TracingOptions {
  /** Instead of OTLP: spans go to this exporter as each ends (tests use an InMemorySpanExporter). */
  readonly exporter?: SpanExporter;
}

/**
 * Tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set (or a test passes an exporter), else undefined. The
 * SDK, the OTLP exporter and Prisma's instrumentation (`./sdk.ts`) are imported only then: off, the
 * process never loads them.
 */
export async function loadTracing(config: TracingConfig, options: TracingOptions = {}): Promise<Tracing | undefined> {
  if (!config.endpoint && !options.exporter) return undefined;
  const { createTracing } = await import('./sdk.js');
  return createTracing(config, options);
}

/** OTEL_EXPORTER_OTLP_ENDPOINT is the collector's base URL; traces go to its /v1/traces (OTLP spec). */
export function tracesUrl(endpoint: string): string {
  return new URL('v1/traces', endpoint.endsWith('/') ? endpoint : `${endpoint}/`).toString();
}

/**
 * The W3C `traceparent` of the active span (`00-<trace id>-<span id>-<flags>`), or null when there is
 * none (tracing off: the API's no-op context never holds one). Written into outbox rows.
 */
export function traceparentOfActiveSpan(): string | null {
  const span = trace.getActiveSpan();
  if (!span) return null;
  const { traceId, spanId, traceFlags } = span.spanContext();
  if (!isSpanContextValid(span.spanContext())) return null;
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
}

/**
 * Adds `traceparent` (and `tracestate`) of the active span to outgoing headers, for downstream HTTP
 * calls: `fetch(url, { headers: injectTraceHeaders({ accept: 'application/json' }) })`. Returns the
 * same object. With tracing off it adds nothing.
 */
export function injectTraceHeaders<T extends Record<string, string>>(headers: T): T;
export function injectTraceHeaders(headers: Headers): Headers;
export function injectTraceHeaders(headers: Record<string, string> | Headers): Record<string, string> | Headers {
  if (headers instanceof Headers) propagation.inject(context.active(), headers, { set: (carrier, key, value) => carrier.set(key, value) });
  else propagation.inject(context.active(), headers, { set: (carrier, key, value) => void (carrier[key] = value) });
  return headers;
}

/** The context a W3C `traceparent` (from a request or an outbox row) names, under the active one. */
export function contextFromTraceparent(traceparent: string | null | undefined, tracestate?: string | null): Context {
  const carrier: Record<string, string> = {};
  if (traceparent) carrier.traceparent = traceparent;
  if (tracestate) carrier.tracestate = tracestate;
  return W3C.extract(context.active(), carrier, { get: (c: Record<string, string>, k: string) => c[k], keys: (c: Record<string, string>) => Object.keys(c) });
}

const W3C = new W3CTraceContextPropagator();

/**
 * pino `mixin`: `trace_id` and `span_id` of the active span on every log line written inside one.
 * Installed only when tracing is on (see createLogger).
 */
export function traceLogFields(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
