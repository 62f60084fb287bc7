import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Connection, type Consumer } from 'rabbitmq-client';
import { withTimeout } from '../lib/timeout.js';
import type { Logger } from '../logger.js';
import type { EventMessage } from './contract.js';

export interface BrokerOptions {
  url: string;
  /** Durable topic exchange; declared (idempotently) on every (re)connect. */
  exchange: string;
  logger: Logger;
  /** A publish not confirmed by then counts as failed (it may still arrive: at least once). */
  publishTimeoutMs?: number;
}

/** RabbitMQ as the relay and the live feed use it. The connection reconnects by itself. */
export interface Broker {
  /** Connected and not blocked by the broker. */
  readonly ready: boolean;
  /** Resolves once the broker confirmed the message (publisher confirms). */
  publish(message: EventMessage, headers?: Readonly<Record<string, string>>): Promise<void>;
  /** Calls `handler` with every message on the exchange, through a queue of this process's own. */
  consumeAll(handler: (body: unknown) => void): Consumer;
  /** Called after every (re)connect. */
  onConnect(listener: () => void): void;
  close(): Promise<void>;
}

const CLOSE_TIMEOUT_MS = 5_000;
/**
 * AMQP heartbeat asked of the broker (the lower of both sides wins). rabbitmq-client checks every half
 * heartbeat and drops the connection after four silent checks in a row: a blackholed broker (sockets
 * open, bytes dropped) is noticed, and `/ready` shows it down, within 2.5 heartbeats. A URL's
 * `?heartbeat=` overrides it.
 */
export const BROKER_HEARTBEAT_S = 10;

export function connectBroker({ url, exchange, logger, publishTimeoutMs = 10_000 }: BrokerOptions): Broker {
  const connection = new Connection({
    url,
    connectionName: `user-api-gateway ${hostname()}`,
    connectionTimeout: 5_000,
    acquireTimeout: 5_000,
    heartbeat: BROKER_HEARTBEAT_S,
    // Reconnect backoff: 250 ms steps, at most 5 s apart.
    retryLow: 250,
    retryHigh: 5_000,
  });
  let lastError = '';
  connection.on('error', (error: unknown) => {
    // While the broker is away the library retries and reports every attempt; log each cause once.
    const message = error instanceof Error ? error.message : String(error);
    if (message !== lastError) logger.warn({ err: error }, 'broker connection error');
    lastError = message;
  });
  connection.on('connection', () => {
    lastError = '';
    logger.info({ exchange }, 'broker connected');
  });
  const exchanges = [{ exchange, type: 'topic', durable: true }];
  const publisher = connection.createPublisher({ confirm: true, maxAttempts: 1, exchanges });

  return {
    get ready() {
      return connection.ready;
    },
    publish(message, extraHeaders) {
      const sent = publisher.send(
        {
          exchange,
          routingKey: message.type,
          durable: true,
          contentType: 'application/json',
          messageId: message.id,
          type: message.type,
          timestamp: Math.floor(Date.parse(message.occurredAt) / 1000),
          appId: 'user-api-gateway',
          // Extra headers: the W3C trace context (traceparent) the relay passes on.
          headers: { ...extraHeaders, aggregateId: message.aggregateId, seq: message.seq, schemaVersion: message.schemaVersion },
        },
        Buffer.from(JSON.stringify(message)),
      );
      return withTimeout(sent, publishTimeoutMs, 'publish not confirmed in time');
    },
    consumeAll(handler) {
      // Exclusive: the broker deletes it with the connection; re-declared on reconnect.
      const queue = `${exchange}.live.${hostname()}.${randomUUID().slice(0, 8)}`;
      const consumer = connection.createConsumer(
        {
          queue,
          noAck: true,
          queueOptions: { exclusive: true, autoDelete: true },
          exchanges,
          queueBindings: [{ queue, exchange, routingKey: '#' }],
        },
        (message) => handler(message.body),
      );
      consumer.on('error', (error: unknown) => logger.warn({ err: error }, 'live event consumer error'));
      return consumer;
    },
    onConnect(listener) {
      connection.on('connection', listener);
    },
    async close() {
      // Not connected: nothing to flush, and a graceful close would wait for the attempt in progress.
      if (!connection.ready) {
        connection.unsafeDestroy();
        return;
      }
      try {
        await withTimeout(
          publisher.close().then(() => connection.close()),
          CLOSE_TIMEOUT_MS,
          'broker close timed out',
        );
      } catch {
        connection.unsafeDestroy();
      }
    },
  };
}
