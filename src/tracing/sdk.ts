import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, type Sampler, SamplingDecision, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { PrismaInstrumentation, registerInstrumentations } from '@prisma/instrumentation';
import type { TracingConfig } from '../config.js';
import { type Tracing, type TracingOptions, tracesUrl } from './index.js';

/**
 * The OpenTelemetry SDK: a provider exporting over OTLP/HTTP (or to a test's exporter), registered
 * globally, with Prisma's instrumentation. Imported by `loadTracing` only when tracing is on.
 */
/** The scope name of our own spans (HTTP, GraphQL, outbox). */
const TRACER_NAME = 'user-api-gateway';

export function createTracing(config: TracingConfig, options: TracingOptions = {}): Tracing {
  const processor = options.exporter ? new SimpleSpanProcessor(options.exporter) : new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(config.endpoint!) }));
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    sampler: new ParentBasedSampler({ root: NO_ORPHAN_QUERIES }),
    spanProcessors: [processor],
  });
  // Global: the AsyncLocalStorage context manager (the active span follows async calls), the W3C
  // propagator (injectTraceHeaders) and the provider (Prisma's helper and other libraries find it).
  // A second provider in one process (tests) keeps the first one's globals; ours is passed explicitly.
  provider.register({ propagator: new W3CTraceContextPropagator() });
  // Prisma 7 reads a process-global helper on each query; registering sets it, unregistering clears it.
  const unregister = registerInstrumentations({ tracerProvider: provider, instrumentations: [new PrismaInstrumentation()] });
  let closing: Promise<void> | undefined;
  return {
    tracer: provider.getTracer(TRACER_NAME),
    forceFlush: () => provider.forceFlush(),
    shutdown() {
      closing ??= (async () => {
        unregister();
        await provider.shutdown();
      })();
      return closing;
    },
  };
}

/**
 * Root spans are kept, except Prisma's: a query outside any request or publish (the relay's and the
 * feed's polls every OUTBOX_POLL_INTERVAL_MS, the pruner, readiness pings) would otherwise be a trace of
 * its own several times a second. Spans with a parent follow their parent's decision (ParentBased).
 */
const NO_ORPHAN_QUERIES: Sampler = {
  shouldSample: (_context, _traceId, name) => ({
    decision: name.startsWith('prisma:') ? SamplingDecision.NOT_RECORD : SamplingDecision.RECORD_AND_SAMPLED,
  }),
  toString: () => 'NoOrphanPrismaQueries',
};
