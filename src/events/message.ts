import type { EventMessage } from './contract.js';
import type { OutboxRecord } from './outbox.js';

export type { EventMessage } from './contract.js';

/** An event as the live feed and the GraphQL subscription carry it. */
export interface LiveEvent {
  readonly id: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly aggregateId: string;
  readonly seq: string;
  readonly occurredAt: Date;
  readonly payload: unknown;
}

/**
 * The message body of an outbox row. The row's type, version and payload were written together by
 * recordEvent from the contract, so they match it (the relay tests validate what is published).
 */
export function toMessage(record: OutboxRecord): EventMessage {
  return {
    id: record.id,
    type: record.type,
    schemaVersion: record.schemaVersion,
    aggregateId: record.aggregateId,
    seq: record.seq.toString(),
    occurredAt: record.occurredAt.toISOString(),
    payload: record.payload,
  } as EventMessage;
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
    // A message from a relay that predates versions carried version 1 payloads.
    schemaVersion: Number.isInteger(m.schemaVersion) ? (m.schemaVersion as number) : 1,
    aggregateId: m.aggregateId as string,
    seq: m.seq as string,
    occurredAt,
    payload: m.payload ?? null,
  };
}
