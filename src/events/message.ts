import type { OutboxRecord } from './outbox.js';

/** The JSON body of a published event (consumers see the same fields as message properties too). */
export interface EventMessage {
  /** The outbox row's id; also the AMQP `messageId`, so consumers can de-duplicate. */
  readonly id: string;
  readonly type: string;
  readonly aggregateId: string;
  /** Global write order, as a decimal string (a bigint). */
  readonly seq: string;
  /** ISO 8601. */
  readonly occurredAt: string;
  readonly payload: unknown;
}

/** An event as the live feed and the GraphQL subscription carry it. */
export interface LiveEvent {
  readonly id: string;
  readonly type: string;
  readonly aggregateId: string;
  readonly seq: string;
  readonly occurredAt: Date;
  readonly payload: unknown;
}

export function toMessage(record: OutboxRecord): EventMessage {
  return {
    id: record.id,
    type: record.type,
    aggregateId: record.aggregateId,
    seq: record.seq.toString(),
    occurredAt: record.occurredAt.toISOString(),
    payload: record.payload,
  };
}

export function toLiveEvent(record: OutboxRecord): LiveEvent {
  return { ...toMessage(record), occurredAt: record.occurredAt };
}

/** Reads a received message body (object or JSON text); undefined when it is not an event. */
export function parseMessage(body: unknown): LiveEvent | undefined {
  let value = body;
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Partial<Record<keyof EventMessage, unknown>>;
  const fields = [m.id, m.type, m.aggregateId, m.seq, m.occurredAt];
  if (!fields.every((f) => typeof f === 'string')) return undefined;
  const occurredAt = new Date(m.occurredAt as string);
  if (Number.isNaN(occurredAt.getTime())) return undefined;
  return {
    id: m.id as string,
    type: m.type as string,
    aggregateId: m.aggregateId as string,
    seq: m.seq as string,
    occurredAt,
    payload: m.payload ?? null,
  };
}
