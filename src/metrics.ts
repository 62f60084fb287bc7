import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PoolStats } from './db.js';
import { PROBE_THROTTLE, throttled } from './lib/throttled.js';
import { waitAtMost } from './lib/timeout.js';
import { type Route, ROUTES } from './routes.js';

export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly dbQueryDuration: Histogram;
  readonly loaderBatchSize: Histogram<'loader'>;
  /** Per event, from the start of its batch's claim to the broker's confirm. */
  readonly outboxPublishDuration: Histogram;
  readonly outboxPublishFailures: Counter;
  /** Calls to downstream services by dependency and outcome (`success`, `timeout`, `circuit_open`, …). */
  readonly downstreamCallDuration: Histogram<'dependency' | 'outcome'>;
  /** 0 closed, 1 half-open, 2 open. */
  readonly downstreamCircuitState: Gauge<'dependency'>;
  /**
   * The label value of an operation name, admitting it to the set of names with a label of their own
   * while there is room: call it only for operations that passed authentication and validation.
   * Names longer than MAX_LABEL_CHARS, and new names past the cap, fold into "other".
   */
  operationLabel(name: string | null | undefined): string;
  /**
   * The registry in Prometheus text format, for `/metrics`. A render costs milliseconds of CPU (and the
   * outbox backlog query): a flood of scrapes gets the latest render past PROBE_THROTTLE's budget.
   */
  render(): Promise<string>;
}

/** Longest label value taken from a request (an operation name); longer ones fold into "other". */
export const MAX_LABEL_CHARS = 64;

/** The route label: the route's path, or "other" for every path that is not a route (no raw URLs). */
export function routeLabel(route: Route | null): string {
  return route === null ? 'other' : ROUTES[route];
}

export interface MetricsOptions {
  /** Pool gauges read this on every scrape. */
  poolStats?: () => PoolStats | undefined;
  /** Unpublished outbox events, read on every scrape (bounded by `outboxBacklogTimeoutMs`). */
  outboxBacklog?: () => Promise<number>;
  /** Longest the backlog query may hold up a scrape; the gauge keeps its last value. Default 500. */
  outboxBacklogTimeoutMs?: number;
  /** Distinct operation names kept as label values; later ones become "other". Default 100. */
  maxOperationNames?: number;
  /** Calls waiting for a bulkhead slot, by dependency, read on every scrape. */
  downstreamQueues?: () => Record<string, number>;
}

/**
 * One registry per app (tests build several), holding Node's default metrics, HTTP and database
 * metrics. GraphQL phase metrics are added to it by `useGraphQLMetrics`.
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status'] as const;
  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, templated route and status.',
    labelNames,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, templated route and status.',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const dbQueryDuration = new Histogram({
    name: 'db_query_duration_seconds',
    help: 'Duration of SQL statements sent by Prisma.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry],
  });
  const loaderBatchSize = new Histogram({
    name: 'dataloader_batch_size',
    help: 'Keys per DataLoader batch, by loader (createUser: creates per grouped statement).',
    labelNames: ['loader'],
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [registry],
  });
  const pool = (name: string, help: string, read: (s: PoolStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const stats = options.poolStats?.();
        if (stats) this.set(read(stats));
      },
    });
  pool('db_pool_total', 'Connections open in the database pool.', (s) => s.total);
  pool('db_pool_idle', 'Idle connections in the database pool.', (s) => s.idle);
  pool('db_pool_waiting', 'Requests waiting for a database connection.', (s) => s.waiting);

  const maxNames = options.maxOperationNames ?? 100;
  const seen = new Set<string>();
  const operationLabel = (name: string | null | undefined) => {
    if (!name) return 'anonymous';
    if (seen.has(name)) return name;
    if (seen.size >= maxNames || name.length > MAX_LABEL_CHARS) return 'other';
    seen.add(name);
    return name;
  };

  const outboxPublishDuration = new Histogram({
    name: 'outbox_publish_duration_seconds',
    help: 'Outbox event publishing, from the claim of its batch to the broker confirm.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const outboxPublishFailures = new Counter({
    name: 'outbox_publish_failures_total',
    help: 'Outbox events whose publish failed or was not confirmed (they are retried).',
    registers: [registry],
  });
  const backlogTimeoutMs = options.outboxBacklogTimeoutMs ?? 500;
  new Gauge({
    name: 'outbox_backlog',
    help: 'Outbox events not yet published (counted up to 100000).',
    registers: [registry],
    async collect() {
      if (!options.outboxBacklog) return;
      try {
        const count = await waitAtMost(options.outboxBacklog(), backlogTimeoutMs);
        if (count !== undefined) this.set(count);
      } catch {
        // The database is away: keep the last value; readiness tells the rest.
      }
    },
  });

  const downstreamCallDuration = new Histogram({
    name: 'downstream_call_duration_seconds',
    help: 'Calls to downstream services by dependency and outcome; calls shed by an open breaker or a full bulkhead count with 0 s.',
    labelNames: ['dependency', 'outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const downstreamCircuitState = new Gauge({
    name: 'downstream_circuit_state',
    help: 'Circuit breaker state by dependency: 0 closed, 1 half-open, 2 open.',
    labelNames: ['dependency'],
    registers: [registry],
  });
  new Gauge({
    name: 'downstream_bulkhead_queue_length',
    help: 'Calls waiting for a bulkhead slot, by dependency.',
    labelNames: ['dependency'],
    registers: [registry],
    collect() {
      for (const [dependency, length] of Object.entries(options.downstreamQueues?.() ?? {})) this.set({ dependency }, length);
    },
  });

  return {
    registry,
    downstreamCallDuration,
    downstreamCircuitState,
    httpRequests,
    httpDuration,
    dbQueryDuration,
    loaderBatchSize,
    outboxPublishDuration,
    outboxPublishFailures,
    operationLabel,
    render: throttled(() => registry.metrics(), PROBE_THROTTLE),
  };
}
