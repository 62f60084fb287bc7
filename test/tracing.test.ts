import { randomBytes, randomUUID } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import pg from 'pg';
import { Connection } from 'rabbitmq-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseGlobalIdOf } from '../src/ids.js';
import type { Tracing } from '../src/tracing/index.js';
import { createTracing } from '../src/tracing/sdk.js';
import { buildTestApp, type BuiltTestApp } from './helpers/app.js';
import { usePostgresDatabase } from './helpers/database.js';
import { publishedValidators } from './helpers/event-contract.js';
import { amqpUrl, startTestConsumer, type TestConsumer } from './helpers/events.js';
import { type FakeProfileService, profileOf, startProfileService } from './helpers/profile-service.js';

// One tracer provider for the file (its globals are per process); spans are kept in memory.
const exporter = new InMemorySpanExporter();
const database = usePostgresDatabase();
const exchange = `uag-test.${randomBytes(6).toString('hex')}`;
let tracing: Tracing;
let t: BuiltTestApp;
let consumer: TestConsumer | undefined;
let profileService: FakeProfileService;

beforeAll(async () => {
  tracing = createTracing({ endpoint: undefined, serviceName: 'uag-test' }, { exporter })!;
  if (amqpUrl) consumer = await startTestConsumer(amqpUrl, exchange);
  profileService = await startProfileService();
  t = await buildTestApp(
    {
      PROFILE_SERVICE_URL: profileService.url,
      DATABASE_URL: database.available ? database.url() : '',
      AMQP_URL: amqpUrl,
      AMQP_EXCHANGE: exchange,
      OUTBOX_POLL_INTERVAL_MS: '50',
      RATE_LIMIT_POINTS: '100000',
    },
    { tracing },
  );
  await t.app.start();
});

afterAll(async () => {
  await t?.app.close();
  await consumer?.close();
  await profileService?.close();
  if (amqpUrl) {
    const admin = new Connection({ url: amqpUrl, connectionTimeout: 5_000 });
    await admin.exchangeDelete({ exchange }).finally(() => admin.close());
  }
  await tracing?.shutdown();
});

const byId = (spans: ReadableSpan[]) => new Map(spans.map((s) => [s.spanContext().spanId, s]));
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

/** The spans of the trace whose SERVER span is the request's, once that span has ended. */
async function traceOf(requestId: string): Promise<{ server: ReadableSpan; spans: ReadableSpan[] }> {
  let server: ReadableSpan | undefined;
  await vi.waitFor(() => {
    server = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER && s.attributes['request.id'] === requestId);
    if (!server) throw new Error(`no server span for request ${requestId}`);
  });
  const traceId = server!.spanContext().traceId;
  return { server: server!, spans: exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId) };
}

/** True when `ancestor` is on the parent chain of `span`. */
function descendsFrom(span: ReadableSpan, ancestor: ReadableSpan, spans: ReadableSpan[]): boolean {
  const index = byId(spans);
  for (let s: ReadableSpan | undefined = span; s; s = index.get(parentOf(s) ?? '')) {
    if (parentOf(s) === ancestor.spanContext().spanId) return true;
  }
  return false;
}

async function post(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const requestId = randomUUID();
  const response = await t.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'x-request-id': requestId, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return { requestId, body };
}

describe('tracing on (in-memory exporter)', () => {
  it('makes one trace per query: HTTP → parse, validate, execute → root resolver → Prisma queries', async () => {
    const { requestId } = await post('query Users { users(first: 2) { edges { node { id email } } } }');
    const { server, spans } = await traceOf(requestId);
    expect(server.name).toBe('POST /graphql');
    expect(parentOf(server)).toBeUndefined();
    expect(server.attributes['http.response.status_code']).toBe(200);
    const named = (name: string) => spans.filter((s) => s.name === name);
    for (const phase of ['graphql.parse', 'graphql.validate', 'graphql.execute']) {
      expect(named(phase), phase).toHaveLength(1);
      expect(parentOf(named(phase)[0]!)).toBe(server.spanContext().spanId);
    }
    const execute = named('graphql.execute')[0]!;
    expect(execute.attributes['graphql.operation.name']).toBe('Users');
    expect(execute.attributes['graphql.operation.type']).toBe('query');
    const [resolve] = named('graphql.resolve Query.users');
    expect(resolve).toBeDefined();
    expect(parentOf(resolve!)).toBe(execute.spanContext().spanId);
    // @prisma/instrumentation: the client's operation and the SQL it sent, under the resolver.
    const prisma = spans.filter((s) => s.name.startsWith('prisma:'));
    expect(prisma.map((s) => s.name)).toEqual(expect.arrayContaining(['prisma:client:operation', 'prisma:client:db_query']));
    for (const s of prisma) expect(descendsFrom(s, resolve!, spans), s.name).toBe(true);
  });

  it('continues the caller’s trace from its W3C traceparent', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const { requestId } = await post('{ users(first: 1) { edges { node { id } } } }', {}, { traceparent: `00-${traceId}-${parentId}-01` });
    const { server, spans } = await traceOf(requestId);
    expect(server.spanContext().traceId).toBe(traceId);
    expect(parentOf(server)).toBe(parentId);
    expect(spans.some((s) => s.name === 'prisma:client:db_query')).toBe(true);
  });

  it('traces a mutation, writes its traceparent into the outbox row and onto the published message', async () => {
    const email = `otel-${randomUUID()}@example.com`;
    const { requestId, body } = await post(
      'mutation Create($e: String!) { createUser(input: { email: $e, name: "Traced" }) { __typename ... on CreateUserSuccess { user { id } } } }',
      { e: email },
    );
    expect(body.data.createUser.__typename).toBe('CreateUserSuccess');
    const userId = parseGlobalIdOf('User', body.data.createUser.user.id)!;
    const { server, spans } = await traceOf(requestId);
    const traceId = server.spanContext().traceId;
    const resolve = spans.find((s) => s.name === 'graphql.resolve Mutation.createUser');
    expect(resolve).toBeDefined();
    expect(spans.filter((s) => s.name === 'prisma:client:db_query' && descendsFrom(s, resolve!, spans)).length).toBeGreaterThan(0);

    // The outbox row names the resolver's span (the statement was built inside it).
    const expected = `00-${traceId}-${resolve!.spanContext().spanId}-01`;
    if (database.available) {
      const client = new pg.Client({ connectionString: database.url() });
      await client.connect();
      try {
        const { rows } = await client.query<{ traceparent: string | null }>('SELECT "traceparent" FROM "OutboxEvent" WHERE "aggregateId" = $1', [userId]);
        expect(rows.map((r) => r.traceparent)).toEqual([expected]);
      } finally {
        await client.end();
      }
    } else {
      const rows = await t.app.db.prisma.$queryRaw<{ traceparent: string | null }[]>`SELECT "traceparent" FROM "OutboxEvent" WHERE "aggregateId" = ${userId}::uuid`;
      expect(rows.map((r) => r.traceparent)).toEqual([expected]);
    }

    if (!consumer) return;
    // The relay's PRODUCER span continues that trace, and the message carries its traceparent.
    await vi.waitFor(
      () => {
        if (!consumer!.messages.some((m) => m.messageId && m.headers?.aggregateId === userId)) throw new Error('message not received');
      },
      { timeout: 30_000 },
    );
    const message = consumer.messages.find((m) => m.headers?.aggregateId === userId)!;
    const producer = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.PRODUCER && s.attributes['messaging.message.id'] === message.messageId);
    expect(producer?.name).toBe('user.created publish');
    expect(producer!.spanContext().traceId).toBe(traceId);
    expect(parentOf(producer!)).toBe(resolve!.spanContext().spanId);
    expect(message.headers?.traceparent).toBe(`00-${traceId}-${producer!.spanContext().spanId}-01`);
    // As asyncapi.yaml documents the headers.
    expect(publishedValidators().headers(message.headers)).toBe(true);
  });

  it('exports no trace for probes, nor for queries outside a request (relay and feed polls, readiness pings)', async () => {
    exporter.reset();
    expect((await t.fetch('/health')).status).toBe(200);
    expect((await t.fetch('/ready')).status).toBe(200);
    // The relay polls every 50 ms here: a few polls' worth of time.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual([]);
  });

  it('puts trace_id and span_id on every log line written inside a request', async () => {
    const { requestId } = await post('query Logged { users(first: 1) { edges { node { id } } } }');
    const { server } = await traceOf(requestId);
    const line = t.logs.find((l) => l.msg === 'request' && l.requestId === requestId);
    expect(line).toBeDefined();
    expect(line!.trace_id).toBe(server.spanContext().traceId);
    expect(line!.span_id).toBe(server.spanContext().spanId);
  });

  it('continues the trace into the profile service: a CLIENT span under the request, its traceparent on the call', async () => {
    const created = await t.gql<{ createUser: { user: { id: string } } }>(
      'mutation { createUser(input: { email: "traced-profile@example.com", name: "P" }) { ... on CreateUserSuccess { user { id } } } }',
    );
    const id = created.data!.createUser.user.id;
    const uuid = parseGlobalIdOf('User', id)!;
    profileService.profiles.set(uuid, profileOf(uuid));
    const before = profileService.calls.length;
    const { requestId, body } = await post('query ($id: ID!) { user(id: $id) { profile { bio } } }', { id });
    expect(body).toEqual({ data: { user: { profile: { bio: `bio of ${uuid}` } } } });
    const { server, spans } = await traceOf(requestId);
    const client = spans.filter((s) => s.name === 'GET profile-service');
    expect(client).toHaveLength(1);
    expect(client[0]!.kind).toBe(SpanKind.CLIENT);
    expect(descendsFrom(client[0]!, server, spans)).toBe(true);
    const calls = profileService.calls.slice(before);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.traceparent).toBe(`00-${server.spanContext().traceId}-${client[0]!.spanContext().spanId}-01`);
  });
});
