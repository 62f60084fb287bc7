import type { Prisma, PrismaClient } from '../generated/prisma/client.js';

/** Every event the service emits; the relay uses the type as the routing key. */
export const EVENT_TYPES = [
  'user.created',
  'user.updated',
  'user.deleted',
  'team.created',
  'team.member_added',
  'team.member_removed',
  'user.transferred',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** A Prisma client inside an interactive transaction. */
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

/**
 * Writes an event to the outbox with the caller's transaction, so it commits (or rolls back) with
 * the change it describes. Dates in the payload become ISO strings.
 */
export async function recordEvent(tx: Tx, type: EventType, aggregateId: string, payload: Record<string, unknown>) {
  // Two transactions writing events of one aggregate take turns here, so their `seq` values are taken
  // in commit order and the relay, which publishes by `seq`, keeps each aggregate's order.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${aggregateId}, 0))`;
  await tx.outboxEvent.create({
    data: { type, aggregateId, payload: JSON.parse(JSON.stringify(payload)) as Prisma.InputJsonValue },
    select: { id: true },
  });
}
