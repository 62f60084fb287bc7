import type { Tracer } from '@opentelemetry/api';
import type { EventsConfig } from '../config.js';
import type { Database } from '../db.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { ReadinessCheck } from '../readiness.js';
import { type Broker, connectBroker } from './broker.js';
import { EventHub } from './feed.js';
import { createPruner } from './pruner.js';
import { createRelay, type Relay } from './relay.js';
import { countBacklog } from './outbox.js';
import { type FeedSource, feedFromBroker, feedFromOutboxTail } from './subscriber.js';

// The public face of src/events/: the rest of the app (app.ts, resolvers, schema) imports nothing else
// from this folder; tests may reach inside.
// - The contract (contract.ts; asyncapi.yaml is printed from it): EVENT_TYPES, and per type in EVENTS
//   its `aggregate` (which entity `aggregateId` names: a user for user.*, a team for team.*), its
//   `schemaVersion` and its payload schema. What a mutation touched: its event's aggregate and the ids
//   in the payload (a membership event changes the user's teamCount and the team's memberCount too;
//   user.deleted lists the teams whose memberCount it changed). isEventType narrows a LiveEvent's type.
// - The write side (record.ts): recordEvent, the outbox CTE of a mutation's statement, and the column
//   helpers its payload is built from.
// - createEvents: relay, live feed (`feed`, every event as published) and pruner; the app's lifecycle
//   (lifecycle.ts) starts and stops them.
export { EVENT_TYPES, EVENTS, type EventMessage, type EventPayload, type EventType, isEventType } from './contract.js';
export type { LiveEvent } from './message.js';
export { SubscriptionLimitError } from './feed.js';
export { column, eventRecorder, isoTimestamp, recordEvent } from './record.js';
// The pruner's schedule and bounds serve other tables too (expired idempotency keys).
export { createPruner, type Pruner } from './pruner.js';

export interface EventsOptions {
  config: EventsConfig;
  db: Database;
  logger: Logger;
  metrics: Metrics;
  /** Tracing on: the relay makes a producer span per publish, in the trace of the write. */
  tracer?: Tracer;
}

/** Everything that moves events out of the outbox: relay, live feed, pruner. */
export interface Events {
  /** What the GraphQL subscription reads (the context's EventFeed). */
  readonly feed: Pick<EventHub, 'subscribe'>;
  /** The broker as a non-critical check: writes go on (into the outbox) while it is away. */
  readonly readinessChecks: ReadinessCheck[];
  /** Open live subscriptions. */
  readonly subscribers: number;
  /** The live feed receives (its broker queue is bound, or the outbox tail is positioned). */
  readonly liveFeedReady: boolean;
  /** Connects and starts the relay, the live feed and the pruner. Does not wait for the broker. */
  start(): Promise<void>;
  /** Completes every live subscription and refuses new ones (shutdown: SSE streams must end). */
  endSubscriptions(): void;
  /** Stops the relay after its batch in flight, the feed and the pruner; closes the broker. Idempotent. */
  stop(): Promise<void>;
  /** Deletes published events past the retention now. */
  prune(): Promise<number>;
  /** Unpublished events, counted up to 100 000 (the outbox_backlog metric). */
  backlog(): Promise<number>;
}

export function createEvents({ config, db, logger, metrics, tracer }: EventsOptions): Events {
  const log = logger.child({ component: 'events' });
  const hub = new EventHub({ max: config.maxSubscriptions, perSubscriber: config.maxSubscriptionsPerSubject });
  const pruner = createPruner({ db, logger: log, retentionHours: config.retentionHours });
  let broker: Broker | undefined;
  let relay: Relay | undefined;
  let source: FeedSource | undefined;
  let started: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;

  const start = async () => {
    pruner.start();
    if (config.amqpUrl) {
      broker = connectBroker({ url: config.amqpUrl, exchange: config.exchange, logger: log });
      relay = createRelay({
        db,
        broker,
        logger: log,
        metrics,
        batchSize: config.batchSize,
        pollIntervalMs: config.pollIntervalMs,
        tracer,
      });
      relay.start();
      source = feedFromBroker(broker, hub, log);
      log.info({ exchange: config.exchange, database: db.kind }, 'outbox relay started');
    } else {
      source = await feedFromOutboxTail({ db, hub, logger: log, pollIntervalMs: config.pollIntervalMs, batchSize: config.batchSize });
      log.info('no AMQP_URL: events stay in the outbox; live updates tail it');
    }
  };

  // Every step runs even when the one before failed: a broken connection must not keep the rest open.
  const step = (name: string, work: () => Promise<unknown> | undefined) =>
    Promise.resolve()
      .then(work)
      .catch((error: unknown) => log.warn({ err: error }, `events: ${name} failed while stopping`));
  const stop = async () => {
    hub.close();
    await step('start-up', () => started);
    await step('relay', () => relay?.stop());
    await step('live feed', () => source?.stop());
    await step('pruner', () => pruner.stop());
    await step('broker', () => broker?.close());
  };
  const stopOnce = () => (stopping ??= stop());

  return {
    feed: hub,
    readinessChecks: config.amqpUrl
      ? [
          {
            name: 'broker',
            critical: false,
            check: () => (broker?.ready ? Promise.resolve() : Promise.reject(new Error('broker not connected'))),
          },
        ]
      : [],
    get subscribers() {
      return hub.subscribers;
    },
    get liveFeedReady() {
      return source?.ready ?? false;
    },
    start() {
      // Once stopping, nothing starts again.
      started ??= stopping ? Promise.resolve() : start();
      return started;
    },
    endSubscriptions: () => hub.close(),
    stop: stopOnce,
    prune: () => pruner.runOnce(),
    backlog: () => countBacklog(db.prisma),
  };
}
