import { Prisma } from '../generated/prisma/client.js';

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

/**
 * The outbox half of a mutation's statement: a data-modifying CTE that writes one event per row of
 * `source` (a CTE of the same statement), so the event commits, or rolls back, with the change.
 *
 * Per-aggregate order: the relay publishes by `seq` and relies on the events of one aggregate
 * committing in `seq` order. `seq` (nextval) is drawn as each event row is inserted, i.e. after
 * `source` produced its row, and every `source` is downstream of the statement's lock on the
 * aggregate's row (the user row for user.*, the team row for team.*). A writer of the same aggregate
 * waits for that lock until we commit, so it draws a larger `seq` and commits after us. New
 * aggregates (user.created, team.created) cannot be seen, hence not written, by anyone before commit.
 */
export function outboxCte(type: EventType, source: string, aggregateId: Prisma.Sql, payload: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO "OutboxEvent" ("type", "aggregateId", "payload")
    SELECT ${type}::text, ${aggregateId}, ${payload} FROM ${Prisma.raw(source)}`;
}

/** A timestamp column as JavaScript's `toISOString()` writes it (UTC, milliseconds, "Z"), for payloads. */
export function isoTimestamp(column: string): Prisma.Sql {
  return Prisma.sql`to_char(${Prisma.raw(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}
