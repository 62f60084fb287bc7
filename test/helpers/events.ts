import { randomBytes } from 'node:crypto';
import { type AsyncMessage, Connection } from 'rabbitmq-client';
import { afterEach, vi } from 'vitest';
import type { App } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { buildTestApp, type GraphQLResponse } from './app.js';
import { usePostgresDatabase } from './database.js';

/** RabbitMQ for the broker tests; CI sets it, without it those tests are skipped. */
export const amqpUrl = process.env.TEST_AMQP_URL || undefined;

/** Polls `condition` every `intervalMs` until it holds (vi.waitFor); fails after `timeoutMs` with `what`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000, intervalMs = 25) {
  await vi.waitFor(
    async () => {
      if (!(await condition())) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    },
    { timeout: timeoutMs, interval: intervalMs },
  );
}

export interface EventsTestApp {
  readonly app: App;
  readonly config: Config;
  readonly logs: Record<string, any>[];
  /** As an ADMIN unless `as` gives another token (null: none). */
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, as?: { token: string | null }): Promise<GraphQLResponse<T>>;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  token(role?: 'USER' | 'ADMIN'): Promise<string>;
  /** Closes the app (events: relay, feed, broker; Yoga; the database) in its own order. Idempotent. */
  close(): Promise<void>;
}

/**
 * The test file's own database (a PostgreSQL copy of the template, or a fresh in-memory PGlite per
 * app) and apps over it with the events started, each closed after its test. `exchange()` is a new
 * exchange name per call, deleted after the test, so parallel files and tests never share one.
 */
export function useEventsTestBed() {
  const database = usePostgresDatabase();
  const apps: EventsTestApp[] = [];
  const exchanges: string[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    if (amqpUrl && exchanges.length) {
      const admin = new Connection({ url: amqpUrl, connectionTimeout: 5_000 });
      try {
        for (const exchange of exchanges.splice(0)) await admin.exchangeDelete({ exchange });
      } finally {
        await admin.close();
      }
    }
  });

  return {
    onPostgres: database.available,
    databaseUrl: () => (database.available ? database.url() : undefined),
    exchange() {
      const name = `uag-test.${randomBytes(6).toString('hex')}`;
      exchanges.push(name);
      return name;
    },
    /** Builds an app; `start: false` leaves the relay and feed stopped (start them with `app.start()`). */
    async app(env: Record<string, string> = {}, { start = true } = {}): Promise<EventsTestApp> {
      const test = await buildApp({ DATABASE_URL: database.available ? database.url() : '', ...env });
      apps.push(test);
      if (start) await test.app.start();
      return test;
    },
  };
}

async function buildApp(env: Record<string, string>): Promise<EventsTestApp> {
  // The admin token on every path: the event stream (/events) wants one too.
  const built = await buildTestApp({ OUTBOX_POLL_INTERVAL_MS: '50', RATE_LIMIT_POINTS: '100000', ...env }, { authorize: 'all' });
  const { app } = built;
  let closing: Promise<void> | undefined;
  return {
    app,
    config: built.config,
    logs: built.logs,
    fetch: built.fetch,
    token: (role: 'USER' | 'ADMIN' = 'USER') => built.token({ role }),
    gql: built.gql,
    close() {
      closing ??= app.close().then(() => undefined);
      return closing;
    },
  };
}

export interface TestConsumer {
  readonly messages: AsyncMessage[];
  close(): Promise<void>;
}

/** A consumer of the test's own: an exclusive queue bound to `exchange` ('#'), connected directly. */
export async function startTestConsumer(url: string, exchange: string): Promise<TestConsumer> {
  const connection = new Connection({ url, connectionTimeout: 5_000 });
  const messages: AsyncMessage[] = [];
  const queue = `${exchange}.test-consumer`;
  const consumer = connection.createConsumer(
    {
      queue,
      queueOptions: { exclusive: true, autoDelete: true },
      exchanges: [{ exchange, type: 'topic', durable: true }],
      queueBindings: [{ queue, exchange, routingKey: '#' }],
    },
    (message) => {
      messages.push(message);
    },
  );
  let ready = false;
  consumer.on('ready', () => (ready = true));
  await waitFor(() => ready, 'the test consumer');
  return {
    messages,
    async close() {
      await consumer.close();
      await connection.close();
    },
  };
}

export interface SseEvent {
  readonly event: string;
  readonly data: any;
}

/** Reads Server-Sent Events from a response, one at a time, each within a deadline. */
export function sseReader(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next(timeoutMs = 60_000): Promise<SseEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n');
          const event = lines
            .find((l) => l.startsWith('event:'))
            ?.slice(6)
            .trim();
          const data = lines
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trim())
            .join('\n');
          if (!event && !data) continue; // a keep-alive comment
          return { event: event ?? 'message', data: data ? JSON.parse(data) : undefined };
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no server-sent event within ${timeoutMs} ms`);
        let timer: NodeJS.Timeout | undefined;
        const chunk = await Promise.race([
          reader.read(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no server-sent event within ${timeoutMs} ms`)), left);
          }),
        ]).finally(() => clearTimeout(timer));
        if (chunk.done) return { event: 'end', data: undefined };
        buffer += decoder.decode(chunk.value, { stream: true });
      }
    },
    cancel: () => reader.cancel().catch(() => undefined),
  };
}
