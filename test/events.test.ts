import { randomUUID } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { beforeEach, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth.js';
import { loadConfig } from '../src/config.js';
import { BROKER_HEARTBEAT_S } from '../src/events/broker.js';
import { MESSAGE_SCHEMAS } from '../src/events/contract.js';
import { EventHub } from '../src/events/feed.js';
import { EVENTS, type EventType } from '../src/events/index.js';
import type { LiveEvent } from '../src/events/message.js';
import { parseGlobalIdOf, toGlobalId } from '../src/ids.js';
import { amqpUrl, type EventsTestApp, sseReader, startTestConsumer, type TestConsumer, useEventsTestBed, waitFor } from './helpers/events.js';
import { publishedValidators } from './helpers/event-contract.js';
import { spawnServer, waitForPort } from './helpers/process.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';

const bed = useEventsTestBed();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Tests of this file share its database: each starts from an empty outbox.
beforeEach(async () => {
  const url = bed.databaseUrl();
  if (!url) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('DELETE FROM "OutboxEvent"');
  } finally {
    await client.end();
  }
});

let unique = 0;
const email = (tag: string) => `${tag}-${Date.now().toString(36)}-${++unique}@example.com`;

async function createUser(t: EventsTestApp, tag = 'user'): Promise<string> {
  const res = await t.gql('mutation ($e: String!) { createUser(input: { email: $e, name: "Event Test" }) { __typename ... on CreateUserSuccess { user { id } } } }', {
    e: email(tag),
  });
  expect(res.data?.createUser.__typename).toBe('CreateUserSuccess');
  return parseGlobalIdOf('User', res.data!.createUser.user.id)!;
}

async function createTeam(t: EventsTestApp): Promise<string> {
  const slug = `team-${Date.now().toString(36)}-${++unique}`;
  const res = await t.gql('mutation ($s: String!) { createTeam(input: { slug: $s, name: "Team" }) { __typename ... on CreateTeamSuccess { team { id } } } }', {
    s: slug,
  });
  expect(res.data?.createTeam.__typename).toBe('CreateTeamSuccess');
  return parseGlobalIdOf('Team', res.data!.createTeam.team.id)!;
}

async function mutate(t: EventsTestApp, field: string, input: Record<string, unknown>) {
  const res = await t.gql(`mutation ($i: ${field[0]!.toUpperCase()}${field.slice(1)}Input!) { ${field}(input: $i) { __typename } }`, { i: input });
  expect(res.errors).toBeUndefined();
  return res.data![field].__typename as string;
}

const U = (id: string) => toGlobalId('User', id);
const T = (id: string) => toGlobalId('Team', id);

/** One mutation of each kind: 11 events of all 7 types. */
async function story(t: EventsTestApp): Promise<void> {
  const [a, b, c] = [await createUser(t, 'a'), await createUser(t, 'b'), await createUser(t, 'c')];
  const [t1, t2] = [await createTeam(t), await createTeam(t)];
  expect(await mutate(t, 'addTeamMember', { teamId: T(t1), userId: U(a), role: 'OWNER' })).toBe('AddTeamMemberSuccess');
  expect(await mutate(t, 'addTeamMember', { teamId: T(t1), userId: U(b) })).toBe('AddTeamMemberSuccess');
  expect(await mutate(t, 'updateUser', { id: U(b), name: 'Renamed' })).toBe('UpdateUserSuccess');
  expect(await mutate(t, 'transferUser', { userId: U(b), fromTeamId: T(t1), toTeamId: T(t2) })).toBe('TransferUserSuccess');
  expect(await mutate(t, 'removeTeamMember', { teamId: T(t2), userId: U(b) })).toBe('RemoveTeamMemberSuccess');
  expect(await mutate(t, 'deleteUser', { id: U(c) })).toBe('DeleteUserSuccess');
}

const outboxRows = (t: EventsTestApp) => t.app.db.prisma.outboxEvent.findMany({ orderBy: { seq: 'asc' } });
const unpublished = (t: EventsTestApp) => t.app.db.prisma.outboxEvent.count({ where: { publishedAt: null } });

async function metric(t: EventsTestApp, name: string): Promise<number> {
  const text = await t.app.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}

async function readiness(t: EventsTestApp) {
  const res = await t.fetch('/ready');
  return { status: res.status, body: (await res.json()) as { checks: Record<string, { status: string; critical: boolean }> } };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** Waits until the consumer saw `n` messages, then a moment longer so an extra one would show. */
async function received(consumer: TestConsumer, n: number, timeoutMs = 60_000) {
  await waitFor(() => consumer.messages.length >= n, `${n} messages at the consumer (have ${consumer.messages.length})`, timeoutMs);
  await sleep(300);
  return consumer.messages;
}

describe('the outbox', () => {
  it('a rolled-back transaction leaves no event; refused and failed mutations write none', async () => {
    const t = await bed.app({}, { start: false });
    const prisma = t.app.db.prisma;
    await expect(
      prisma.$transaction(async (tx) => {
        const user = await tx.user.create({ data: { email: email('rollback'), name: 'Rollback' } });
        await tx.outboxEvent.create({ data: { type: 'user.created', aggregateId: user.id, payload: { id: user.id } } });
        throw new Error('rolled back after the event was written');
      }),
    ).rejects.toThrow('rolled back');
    const existing = await prisma.user.create({ data: { email: email('taken'), name: 'Taken' } });
    const userToken = await t.token('USER');

    const forbidden = await t.gql('mutation { createTeam(input: { slug: "nope", name: "Nope" }) { __typename } }', {}, { token: userToken });
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await t.gql('mutation { createTeam(input: { slug: "nope", name: "Nope" }) { __typename } }', {}, { token: null });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await mutate(t, 'createUser', { email: 'not-an-email', name: 'X' })).toBe('ValidationError');
    expect(await mutate(t, 'createUser', { email: existing.email.toUpperCase(), name: 'X' })).toBe('EmailTakenError');
    expect(await mutate(t, 'deleteUser', { id: U('00000000-0000-4000-8000-000000000000') })).toBe('NotFoundError');
    expect(await mutate(t, 'updateUser', { id: U(existing.id), expectedVersion: 7, name: 'Y' })).toBe('VersionConflictError');

    expect(await prisma.outboxEvent.count()).toBe(0);
  });

  it('pruning deletes only events published longer ago than the retention, in bounded batches', async () => {
    const t = await bed.app({ OUTBOX_RETENTION_HOURS: '24' }, { start: false });
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
    const row = (publishedAt: Date | null, occurredHoursAgo: number) => ({
      type: 'user.updated',
      aggregateId: '00000000-0000-4000-8000-000000000001',
      payload: { n: 1 },
      occurredAt: hoursAgo(occurredHoursAgo),
      publishedAt,
    });
    await t.app.db.prisma.outboxEvent.createMany({
      data: [
        ...Array.from({ length: 2_500 }, () => row(hoursAgo(25), 26)), // published long ago: go
        ...Array.from({ length: 3 }, () => row(hoursAgo(23), 100)), // published recently: stay
        ...Array.from({ length: 4 }, () => row(null, 500)), // never published, however old: stay
      ],
    });
    expect(await t.app.events.prune()).toBe(2_500);
    const left = await t.app.db.prisma.outboxEvent.findMany({ select: { publishedAt: true } });
    expect(left.filter((r) => r.publishedAt === null)).toHaveLength(4);
    expect(left.filter((r) => r.publishedAt !== null)).toHaveLength(3);
    expect(await t.app.events.prune()).toBe(0);
  });

  it('without AMQP_URL: events stay unpublished, outbox_backlog counts them, readiness has no broker check', async () => {
    const t = await bed.app();
    await createUser(t);
    await createTeam(t);
    await sleep(200);
    expect(await unpublished(t)).toBe(2);
    expect(await metric(t, 'outbox_backlog')).toBe(2);
    const ready = await readiness(t);
    expect(ready.status).toBe(200);
    expect(Object.keys(ready.body.checks)).toEqual(['database']);
  });

  it('without AMQP_URL and with nobody subscribed, the live feed reads no events back: its polls only follow the newest seq', async () => {
    const t = await bed.app();
    await waitFor(() => t.app.events.liveFeedReady, 'the live feed');
    const texts: string[] = [];
    const off = t.app.db.onQuery(({ query }) => texts.push(query));
    try {
      for (let i = 0; i < 3; i++) await createUser(t, 'tail');
      await sleep(300); // several polls: the test bed polls every 50 ms
    } finally {
      off();
    }
    const reads = texts.filter((q) => q.includes('"OutboxEvent"') && !q.includes('INSERT'));
    expect(reads.filter((q) => q.includes('max("seq")')).length).toBeGreaterThan(1);
    // eventsAfter: the rows after the tail's position, which only a subscriber needs.
    expect(reads.filter((q) => q.includes('e."seq" >'))).toEqual([]);
    expect(t.app.events.subscribers).toBe(0);
  });

  it('with the broker unreachable: writes go on, readiness stays 200 with the broker down (non-critical), nothing is claimed', async () => {
    const t = await bed.app({ AMQP_URL: `amqp://guest:guest@127.0.0.1:${await closedPort()}`, AMQP_EXCHANGE: bed.exchange() });
    await createUser(t);
    await createUser(t);
    const ready = await readiness(t);
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ database: { status: 'up', critical: true }, broker: { status: 'down', critical: false } });
    await sleep(300);
    const rows = await outboxRows(t);
    expect(rows.map((r) => [r.publishedAt, r.attempts])).toEqual([
      [null, 0],
      [null, 0],
    ]);
    expect(await metric(t, 'outbox_backlog')).toBe(2);
    const stopping = Date.now();
    await t.close();
    expect(Date.now() - stopping).toBeLessThan(1_000);
  });
});

describe('configuration', () => {
  it('validates the event settings', () => {
    expect(loadConfig({}).events).toEqual({
      amqpUrl: undefined,
      exchange: 'user-api.events',
      pollIntervalMs: 250,
      batchSize: 100,
      retentionHours: 168,
      maxSubscriptions: 1000,
      maxSubscriptionsPerSubject: 10,
    });
    expect(() => loadConfig({ MAX_SUBSCRIPTIONS_PER_SUBJECT: '0' })).toThrow(/MAX_SUBSCRIPTIONS_PER_SUBJECT/);
    expect(() => loadConfig({ AMQP_URL: 'http://rabbit:5672' })).toThrow(/AMQP_URL: must be an amqp/);
    expect(() => loadConfig({ AMQP_EXCHANGE: 'amq.topic' })).toThrow(/AMQP_EXCHANGE/);
    expect(() => loadConfig({ AMQP_EXCHANGE: 'has space' })).toThrow(/AMQP_EXCHANGE/);
    expect(() => loadConfig({ OUTBOX_BATCH_SIZE: '0' })).toThrow(/OUTBOX_BATCH_SIZE/);
    expect(() => loadConfig({ OUTBOX_POLL_INTERVAL_MS: 'soon' })).toThrow(/OUTBOX_POLL_INTERVAL_MS/);
    expect(() => loadConfig({ OUTBOX_RETENTION_HOURS: '0' })).toThrow(/OUTBOX_RETENTION_HOURS/);
    expect(loadConfig({ AMQP_URL: 'amqps://u:p@rabbit:5671/vhost', OUTBOX_RETENTION_HOURS: '1' }).events).toMatchObject({
      amqpUrl: 'amqps://u:p@rabbit:5671/vhost',
      retentionHours: 1,
    });
  });

  it('notices a blackholed broker within 30 s: 2.5 heartbeats', () => {
    expect(2.5 * BROKER_HEARTBEAT_S).toBeLessThanOrEqual(30);
  });
});

describe('the live event hub', () => {
  it('gives a subscriber that does not read its own sliding buffer instead of throwing at the publisher', async () => {
    const hub = new EventHub();
    const slow = hub.subscribe();
    const first = slow.next();
    const event = (n: number): LiveEvent => ({ id: String(n), type: 'user.updated', schemaVersion: 1, aggregateId: 'a', seq: String(n), occurredAt: new Date(), payload: {} });
    for (let n = 0; n < 5_000; n++) hub.publish(event(n));
    expect((await first).value?.id).toBe('0');
    const next = await slow.next();
    expect(Number(next.value?.id)).toBeGreaterThanOrEqual(3_999); // the oldest were dropped
    hub.close();
    const rest: LiveEvent[] = [];
    for await (const e of slow) rest.push(e);
    expect(rest.at(-1)?.id).toBe('4999');
    expect(hub.subscribers).toBe(0);
  });
});

describe.skipIf(!amqpUrl)('the relay on RabbitMQ', () => {
  it('publishes every event exactly once, persistent JSON with id, type, headers, valid against the contract; marks them published after the confirm', async () => {
    const exchange = bed.exchange();
    const consumer = await startTestConsumer(amqpUrl!, exchange);
    const contract = publishedValidators();
    try {
      const t = await bed.app({ AMQP_URL: amqpUrl!, AMQP_EXCHANGE: exchange });
      await story(t);
      const rows = await outboxRows(t);
      expect(rows).toHaveLength(11);
      expect(new Set(rows.map((r) => r.type))).toEqual(
        new Set(['user.created', 'user.updated', 'user.deleted', 'user.transferred', 'team.created', 'team.member_added', 'team.member_removed']),
      );
      const messages = await received(consumer, rows.length);
      expect(messages).toHaveLength(rows.length);
      const byId = new Map(messages.map((m) => [m.messageId, m]));
      for (const row of rows) {
        const message = byId.get(row.id);
        expect(message, `event ${row.type} ${row.id}`).toBeDefined();
        expect(message).toMatchObject({
          routingKey: row.type,
          type: row.type,
          contentType: 'application/json',
          durable: true,
          headers: { aggregateId: row.aggregateId, seq: row.seq.toString(), schemaVersion: 1 },
        });
        expect(message!.body).toEqual({
          id: row.id,
          type: row.type,
          schemaVersion: 1,
          aggregateId: row.aggregateId,
          seq: row.seq.toString(),
          occurredAt: row.occurredAt.toISOString(),
          payload: row.payload,
        });
        // The contract: the committed asyncapi.yaml's JSON Schemas (what consumers read), and the strict
        // zod schema, which also refuses fields the contract does not declare.
        const type = row.type as EventType;
        expect(contract.body[type](message!.body), JSON.stringify(contract.body[type].errors)).toBe(true);
        expect(contract.headers(message!.headers), JSON.stringify(contract.headers.errors)).toBe(true);
        expect(MESSAGE_SCHEMAS[type].safeParse(message!.body).error).toBeUndefined();
        expect(message!.headers?.schemaVersion).toBe(EVENTS[type].schemaVersion);
      }
      await waitFor(async () => (await unpublished(t)) === 0, 'every row marked published');
      const after = await outboxRows(t);
      expect(after.every((r) => r.attempts === 1 && r.lastError === null && r.publishedAt !== null)).toBe(true);
      expect(await metric(t, 'outbox_backlog')).toBe(0);
      expect(await metric(t, 'outbox_publish_duration_seconds_count')).toBe(11);
      expect(await metric(t, 'outbox_publish_failures_total')).toBe(0);
      const ready = await readiness(t);
      expect(ready.body.checks.broker).toEqual({ status: 'up', critical: false });
    } finally {
      await consumer.close();
    }
  });

  it('publishes nothing for refused mutations', async () => {
    const exchange = bed.exchange();
    const consumer = await startTestConsumer(amqpUrl!, exchange);
    try {
      const t = await bed.app({ AMQP_URL: amqpUrl!, AMQP_EXCHANGE: exchange });
      const userToken = await t.token('USER');
      const refused = await t.gql(`mutation { createUser(input: { email: "${email('x')}", name: "X" }) { __typename } }`, {}, { token: userToken });
      expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(await mutate(t, 'createUser', { email: 'not-an-email', name: 'X' })).toBe('ValidationError');
      expect(await mutate(t, 'createTeam', { slug: 'Not A Slug', name: 'X' })).toBe('ValidationError');
      expect(await t.app.db.prisma.outboxEvent.count()).toBe(0);
      const team = await createTeam(t); // the marker: once it is through, anything before it would be too
      const messages = await received(consumer, 1);
      expect(messages.map((m) => [m.type, m.headers?.aggregateId])).toEqual([['team.created', team]]);
    } finally {
      await consumer.close();
    }
  });

  it('loses nothing when the broker connection is cut mid-stream and comes back: every event arrives at least once, in order per aggregate', async () => {
    const exchange = bed.exchange();
    const consumer = await startTestConsumer(amqpUrl!, exchange);
    const target = new URL(amqpUrl!);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5672));
    try {
      const viaProxy = new URL(amqpUrl!);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      const t = await bed.app({ AMQP_URL: viaProxy.toString(), AMQP_EXCHANGE: exchange, OUTBOX_BATCH_SIZE: '100' }, { start: false });
      // A backlog cut in the middle of its first batch: 50 aggregates, 20 events each.
      const aggregates = Array.from({ length: 50 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
      await t.app.db.prisma.outboxEvent.createMany({
        data: Array.from({ length: 1_000 }, (_, n) => ({ type: 'user.updated', aggregateId: aggregates[n % 50]!, payload: { n } })),
      });
      await t.app.events.start();
      await waitFor(() => consumer.messages.length >= 50, 'the stream to be flowing', 60_000, 1);
      proxy.cut();
      const atCut = consumer.messages.length;
      expect(atCut).toBeLessThan(1_000);
      for (let i = 0; i < 5; i++) await createUser(t, 'during'); // writes go on without the broker
      await waitFor(async () => (await readiness(t)).body.checks.broker?.status === 'down', 'the broker to be reported down');
      expect((await readiness(t)).status).toBe(200);
      await sleep(200);
      proxy.restore();
      for (let i = 0; i < 5; i++) await createUser(t, 'after');

      const rows = await outboxRows(t);
      expect(rows).toHaveLength(1_010);
      const seen = () => new Set(consumer.messages.map((m) => m.messageId));
      await waitFor(() => seen().size === rows.length, 'every event at the consumer', 120_000, 100);
      await waitFor(async () => (await unpublished(t)) === 0, 'every row marked published', 60_000);
      expect([...seen()].sort()).toEqual(rows.map((r) => r.id).sort());
      // Duplicates are allowed (a confirm lost with the connection), reordering is not.
      for (const aggregate of aggregates) {
        const firsts: number[] = [];
        for (const m of consumer.messages) {
          const n = (m.body as { payload: { n: number } }).payload.n;
          if (m.headers?.aggregateId === aggregate && !firsts.includes(n)) firsts.push(n);
        }
        expect(firsts).toEqual([...firsts].sort((x, y) => x - y));
      }
      expect(t.logs.filter((l) => l.msg === 'broker connected').length).toBeGreaterThanOrEqual(2); // it reconnected
      // The cut caught publishes in flight: they failed, were recorded and retried.
      expect(await metric(t, 'outbox_publish_failures_total')).toBeGreaterThan(0);
      expect((await outboxRows(t)).filter((r) => r.attempts > 1).length).toBeGreaterThan(0);
    } finally {
      await consumer.close();
      await proxy.close();
    }
  }, 240_000);

  it('reports a blackholed broker (bytes dropped, nothing closed) down within its heartbeat bound, and comes back', async () => {
    const exchange = bed.exchange();
    const target = new URL(amqpUrl!);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5672));
    try {
      const viaProxy = new URL(amqpUrl!);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      viaProxy.searchParams.set('heartbeat', '1'); // seconds; the production value is bounded in the unit test below
      const t = await bed.app({ AMQP_URL: viaProxy.toString(), AMQP_EXCHANGE: exchange });
      const broker = async () => (await readiness(t)).body.checks.broker?.status;
      await waitFor(async () => (await broker()) === 'up', 'the broker to be up');
      proxy.blackhole();
      const silentSince = Date.now();
      await waitFor(async () => (await broker()) === 'down', 'the broker to be reported down', 15_000, 100);
      // Missed heartbeats, not a closed socket, told: within 2.5 heartbeats (rabbitmq-client checks every half).
      expect(Date.now() - silentSince).toBeGreaterThanOrEqual(1_000);
      expect((await readiness(t)).status).toBe(200); // non-critical: writes go on into the outbox
      await createUser(t, 'blackholed');
      proxy.restore();
      await waitFor(async () => (await broker()) === 'up', 'the broker to be up again', 30_000, 100);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('stopping finishes the batch in flight: whatever reached the broker is marked published', async () => {
    const exchange = bed.exchange();
    const consumer = await startTestConsumer(amqpUrl!, exchange);
    try {
      const t = await bed.app({ AMQP_URL: amqpUrl!, AMQP_EXCHANGE: exchange, OUTBOX_BATCH_SIZE: '25' }, { start: false });
      for (let i = 0; i < 60; i++) await createUser(t, 'stop');
      await t.app.events.start();
      await waitFor(() => consumer.messages.length > 0, 'the first message', 60_000, 1);
      await t.app.events.stop();
      const published = await t.app.db.prisma.outboxEvent.findMany({ where: { publishedAt: { not: null } }, select: { id: true } });
      // Confirmed by the broker before stop() returned; delivery to the consumer may still be under way.
      await waitFor(() => consumer.messages.length >= published.length, `${published.length} messages at the consumer`);
      expect(new Set(consumer.messages.map((m) => m.messageId))).toEqual(new Set(published.map((r) => r.id)));
      expect(consumer.messages).toHaveLength(published.length);
    } finally {
      await consumer.close();
    }
  });
});

describe.skipIf(!amqpUrl || !bed.onPostgres)('two relays on one PostgreSQL database', () => {
  it('never publish an event twice and keep the order of each aggregate', async () => {
    const exchange = bed.exchange();
    const consumer = await startTestConsumer(amqpUrl!, exchange);
    try {
      const env = { AMQP_URL: amqpUrl!, AMQP_EXCHANGE: exchange, OUTBOX_BATCH_SIZE: '4' };
      const [a, b] = [await bed.app(env, { start: false }), await bed.app(env, { start: false })];
      const update = (t: EventsTestApp, id: string, n: number) => mutate(t, 'updateUser', { id: U(id), name: `Name ${n}` });
      // A backlog both relays find at once: 6 users, each created and renamed 5 times.
      const users = await Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          const id = await createUser(i % 2 ? a : b, 'two');
          for (let n = 0; n < 5; n++) await update(n % 2 ? a : b, id, n);
          return id;
        }),
      );
      await Promise.all([a.app.events.start(), b.app.events.start()]);
      // And more while they run, through both apps.
      await Promise.all(
        users.map(async (id, i) => {
          for (let n = 5; n < 8; n++) await update(i % 2 ? a : b, id, n);
        }),
      );
      const rows = await outboxRows(a);
      expect(rows).toHaveLength(6 * 9);
      const messages = await received(consumer, rows.length, 60_000);
      const ids = messages.map((m) => m.messageId);
      expect(ids).toHaveLength(rows.length);
      expect(new Set(ids).size).toBe(rows.length);
      expect(new Set(ids)).toEqual(new Set(rows.map((r) => r.id)));
      for (const user of users) {
        const seqs = messages.filter((m) => m.headers?.aggregateId === user).map((m) => BigInt(m.headers!.seq as string));
        expect(seqs).toHaveLength(9);
        expect(seqs).toEqual([...seqs].sort((x, y) => (x < y ? -1 : 1)));
      }
      const byA = await metric(a, 'outbox_publish_duration_seconds_count');
      const byB = await metric(b, 'outbox_publish_duration_seconds_count');
      expect(byA + byB).toBe(rows.length);
    } finally {
      await consumer.close();
    }
  }, 240_000);
});

const modes: ('outbox' | 'broker')[] = amqpUrl ? ['outbox', 'broker'] : ['outbox'];

describe.each(modes)('the events subscription over SSE (%s)', (mode) => {
  const SUBSCRIBE = 'subscription ($types: [String!]) { events(types: $types) { id type aggregateId seq occurredAt payload } }';
  const subscribe = (t: EventsTestApp, authorization?: string, types: string[] | null = ['team.created']) =>
    t.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(authorization === undefined ? {} : { authorization }) },
      body: JSON.stringify({ query: SUBSCRIBE, variables: { types } }),
    });
  const liveApp = async () => {
    const env = { REQUEST_TIMEOUT_MS: '1000' };
    const t = await bed.app(mode === 'broker' ? { ...env, AMQP_URL: amqpUrl!, AMQP_EXCHANGE: bed.exchange() } : env);
    await waitFor(() => t.app.events.liveFeedReady, 'the live feed');
    return t;
  };

  it('streams events of the requested types to an ADMIN; shutdown completes the stream', async () => {
    const t = await liveApp();
    const response = await subscribe(t);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const sse = sseReader(response);
    try {
      const first = sse.next();
      await waitFor(() => t.app.events.subscribers === 1, 'the subscription');
      await sleep(1_200); // a stream outlives the request deadline
      await createUser(t, 'sse');
      const team1 = await createTeam(t);
      await createUser(t, 'sse');
      const team2 = await createTeam(t);
      const events = [await first, await sse.next()];
      expect(events.map((e) => e.event)).toEqual(['next', 'next']);
      const received = events.map((e) => e.data.data.events);
      expect(received.map((e: any) => [e.type, e.aggregateId])).toEqual([
        ['team.created', team1],
        ['team.created', team2],
      ]);
      const row = await t.app.db.prisma.outboxEvent.findFirstOrThrow({ where: { aggregateId: team1 } });
      expect(received[0]).toEqual({
        id: row.id,
        type: 'team.created',
        aggregateId: team1,
        seq: row.seq.toString(),
        occurredAt: row.occurredAt.toISOString(),
        payload: JSON.stringify(row.payload),
      });
      expect(JSON.parse(received[0].payload)).toMatchObject({ id: team1, name: 'Team' });

      t.app.beginShutdown();
      const end = await sse.next();
      expect(['complete', 'end']).toContain(end.event);
      expect(t.app.events.subscribers).toBe(0);
    } finally {
      await sse.cancel();
    }
  });

  it('refuses a USER (FORBIDDEN, in the stream) and an anonymous caller (401 UNAUTHENTICATED); neither subscribes', async () => {
    const t = await liveApp();
    const sse = sseReader(await subscribe(t, `Bearer ${await t.token('USER')}`, null));
    try {
      const refused = await sse.next();
      expect(refused.event).toBe('next');
      expect(refused.data).toEqual({ errors: [expect.objectContaining({ extensions: { code: 'FORBIDDEN' } })] });
      expect((await sse.next()).event).toBe('complete');
    } finally {
      await sse.cancel();
    }
    const anonymous = await subscribe(t, '', null);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ errors: [expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })] });
    expect(t.app.events.subscribers).toBe(0);
  });
});

describe.skipIf(!amqpUrl)('the server process', () => {
  it('relays events; on SIGTERM completes live streams, stops the relay and closes the broker before the pool, exit 0', async () => {
    const exchange = bed.exchange();
    const consumer = await startTestConsumer(amqpUrl!, exchange);
    const server = spawnServer({
      DATABASE_URL: bed.databaseUrl() ?? '',
      EMBEDDED_DATA_DIR: 'memory://',
      PORT: '0',
      HOST: '127.0.0.1',
      AMQP_URL: amqpUrl!,
      AMQP_EXCHANGE: exchange,
      OUTBOX_POLL_INTERVAL_MS: '50',
    });
    try {
      const port = await waitForPort(server);
      const token = await signToken(loadConfig({ NODE_ENV: 'test' }).auth, { sub: randomUUID(), role: 'ADMIN' });
      const post = (body: unknown, accept = 'application/graphql-response+json') =>
        fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${token}` },
          body: JSON.stringify(body),
        });
      const sse = sseReader(await post({ query: 'subscription { events { id type } }' }, 'text/event-stream'));
      try {
        const live = sse.next(60_000);
        // The live queue binds shortly after start-up: write until one event came through it.
        for (let i = 0; i < 20 && consumer.messages.length === i; i++) {
          const res = await post({ query: `mutation { createUser(input: { email: "${email('proc')}", name: "P" }) { __typename } }` });
          expect(res.status).toBe(200);
          await waitFor(() => consumer.messages.length > i, 'the event at the consumer');
          if (await Promise.race([live.then(() => true), sleep(500).then(() => false)])) break;
        }
        const event = await live;
        expect(event.data.data.events).toEqual({ id: consumer.messages[0]!.messageId, type: 'user.created' });

        server.child.kill('SIGTERM');
        let end = await sse.next(60_000);
        while (end.event === 'next') end = await sse.next(60_000); // a later event may still come first
        expect(['complete', 'end']).toContain(end.event);
        expect(await server.exited).toBe(0);
      } finally {
        await sse.cancel();
      }
      // By each line's time: at exit, pino may flush a line still being written after later ones.
      const lines = server
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string; time: number });
      const times = ['shutdown: listener closed', 'shutdown: events relay stopped, broker closed', 'shutdown: database closed, exiting'].map(
        (msg) => lines.find((l) => l.msg === msg)?.time ?? Number.NaN,
      );
      expect(times.every(Number.isFinite), server.output()).toBe(true);
      expect(
        [...times].sort((x, y) => x - y),
        server.output(),
      ).toEqual(times);
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
      await consumer.close();
    }
  }, 240_000);
});
