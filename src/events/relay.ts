import { context, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { Database } from '../db.js';
import { periodic } from '../lib/periodic.js';
import { contextFromTraceparent, injectTraceHeaders } from '../tracing/index.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Broker } from './broker.js';
import { toMessage } from './message.js';
import { claimEvents, markFailed, markPublished, type OutboxRecord } from './outbox.js';

export interface RelayOptions {
  db: Database;
  broker: Broker;
  logger: Logger;
  metrics: Metrics;
  batchSize: number;
  /** Pause when there was nothing to publish; also the first step of the failure backoff. */
  pollIntervalMs: number;
  /** Longest pause after repeated failures. Default 10 s. */
  maxBackoffMs?: number;
  /** Tracing on: a PRODUCER span per publish, child of the span that wrote the event. */
  tracer?: Tracer;
  /** Must exceed the broker's publish timeout: the claim transaction lives through the publishing. */
  transactionTimeoutMs?: number;
}

export interface BatchResult {
  readonly claimed: number;
  readonly published: number;
  readonly failed: number;
}

export interface Relay {
  /** Claims, publishes and marks one batch. */
  runOnce(): Promise<BatchResult>;
  start(): void;
  /** Finishes the batch in flight, then resolves. */
  stop(): Promise<void>;
}

/**
 * Publishes the outbox. On PostgreSQL a batch is claimed with FOR UPDATE SKIP LOCKED in a
 * transaction held until every publish was confirmed (or failed) and the rows were marked, so
 * replicas never claim the same event and a relay that dies mid-batch just releases its locks. The
 * embedded database belongs to one process, so there the claim needs no transaction or lock.
 */
export function createRelay(options: RelayOptions): Relay {
  const { db, broker, logger, metrics, batchSize, pollIntervalMs, tracer } = options;

  /**
   * Publishes one event with its trace context in the headers. Tracing off: the row's traceparent as
   * written. On: a PRODUCER span in the writer's trace, whose traceparent the consumer continues.
   */
  const publish = async (event: OutboxRecord) => {
    const message = toMessage(event);
    if (!tracer) return broker.publish(message, event.traceparent ? { traceparent: event.traceparent } : undefined);
    const parent = event.traceparent ? contextFromTraceparent(event.traceparent) : context.active();
    const span = tracer.startSpan(
      `${event.type} publish`,
      {
        kind: SpanKind.PRODUCER,
        attributes: { 'messaging.system': 'rabbitmq', 'messaging.operation.type': 'send', 'messaging.destination.name': event.type, 'messaging.message.id': event.id },
      },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), () => broker.publish(message, injectTraceHeaders({})));
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  };
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  const lock = db.kind === 'postgresql';
  let failures = 0;

  const publishAll = async (events: OutboxRecord[], claimedAt: number) => {
    const published: string[] = [];
    const failed: { id: string; error: string }[] = [];
    const chains = new Map<string, OutboxRecord[]>();
    for (const event of events) chains.set(event.aggregateId, [...(chains.get(event.aggregateId) ?? []), event]);
    // Aggregates in parallel; within one, each event waits for the confirm of the one before, and
    // the first failure ends the chain, so a consumer never gets an aggregate's events out of order.
    await Promise.all(
      [...chains.values()].map(async (chain) => {
        for (const event of chain) {
          try {
            await publish(event);
            published.push(event.id);
            metrics.outboxPublishDuration.observe((performance.now() - claimedAt) / 1000);
          } catch (error) {
            failed.push({ id: event.id, error: error instanceof Error ? error.message : String(error) });
            metrics.outboxPublishFailures.inc();
            return;
          }
        }
      }),
    );
    return { published, failed };
  };

  const batch = async (sql: Parameters<typeof claimEvents>[0]): Promise<BatchResult> => {
    const claimedAt = performance.now();
    const events = await claimEvents(sql, batchSize, lock);
    if (events.length === 0) return { claimed: 0, published: 0, failed: 0 };
    const { published, failed } = await publishAll(events, claimedAt);
    await markPublished(sql, published);
    await markFailed(sql, failed);
    if (failed.length) logger.warn({ failed: failed.length, error: failed[0]?.error }, 'outbox: publish failed; will retry');
    return { claimed: events.length, published: published.length, failed: failed.length };
  };

  const runOnce = (): Promise<BatchResult> =>
    lock ? db.prisma.$transaction((tx) => batch(tx), { maxWait: 5_000, timeout: options.transactionTimeoutMs ?? 30_000 }) : batch(db.prisma);

  /** One pass of the relay loop; resolves to the pause before the next (0: a full batch went, go on). */
  const pass = async () => {
    let delay = pollIntervalMs;
    // While the broker is away, claim nothing: no locks held for publishes that cannot succeed.
    if (broker.ready) {
      try {
        const result = await runOnce();
        if (result.failed > 0) failures++;
        else failures = 0;
        if (result.claimed > 0 && result.failed === 0) delay = 0;
      } catch (error) {
        failures++;
        logger.warn({ err: error }, 'outbox: relay batch failed; will retry');
      }
    }
    if (failures > 0) delay = Math.min(maxBackoffMs, pollIntervalMs * 2 ** failures) * (0.75 + Math.random() / 2);
    return delay;
  };
  const task = periodic(pass, { firstRunAfterMs: 0, unref: false });
  // A (re)connected broker ends the backoff at once.
  broker.onConnect(() => {
    failures = 0;
    task.wake();
  });

  return {
    runOnce,
    start: task.start,
    async stop() {
      await task.stop();
      failures = 0; // a restart begins without backoff
    },
  };
}
