import { Prisma, type PrismaClient } from '../generated/prisma/client.js';

/** What the outbox queries need: a client or the client of an interactive transaction. */
type Sql = Pick<PrismaClient, '$queryRaw' | '$executeRaw'>;

/** An outbox row as the relay and the outbox tail read it. */
export interface OutboxRecord {
  readonly id: string;
  readonly seq: bigint;
  readonly type: string;
  readonly schemaVersion: number;
  readonly aggregateId: string;
  readonly payload: unknown;
  readonly occurredAt: Date;
  /** W3C traceparent of the span that wrote it; null when tracing was off. */
  readonly traceparent: string | null;
}

const COLUMNS = Prisma.sql`e."id", e."seq", e."type", e."schemaVersion", e."aggregateId", e."payload", e."occurredAt", e."traceparent"`;

/**
 * Claims up to `limit` unpublished events, keeping the order per aggregate: first the oldest
 * unpublished event of each aggregate (the only claimable one, so no two relays ever hold events of
 * the same aggregate), then the events queued behind those heads, in `seq` order. With `lock`, the
 * rows stay locked (SKIP LOCKED: relays never wait for each other) until the caller's transaction
 * ends. Per-aggregate order relies on events of one aggregate committing in `seq` order; the
 * mutations serialise on the aggregate's row lock, which gives that.
 */
export async function claimEvents(sql: Sql, limit: number, lock: boolean): Promise<OutboxRecord[]> {
  const heads = await sql.$queryRaw<OutboxRecord[]>`
    SELECT ${COLUMNS} FROM "OutboxEvent" e
    WHERE e."publishedAt" IS NULL
      AND NOT EXISTS (
        SELECT 1 FROM "OutboxEvent" p
        WHERE p."aggregateId" = e."aggregateId" AND p."publishedAt" IS NULL AND p."seq" < e."seq")
    ORDER BY e."seq" LIMIT ${limit}::int
    ${lock ? Prisma.sql`FOR UPDATE SKIP LOCKED` : Prisma.empty}`;
  if (heads.length === 0 || heads.length >= limit) return heads;
  // Nobody else can claim these while we hold their aggregate's head, so a plain FOR UPDATE.
  const followers = await sql.$queryRaw<OutboxRecord[]>`
    SELECT ${COLUMNS} FROM "OutboxEvent" e
    WHERE e."aggregateId" = ANY(${[...new Set(heads.map((h) => h.aggregateId))]}::uuid[])
      AND e."publishedAt" IS NULL AND e."id" <> ALL(${heads.map((h) => h.id)}::uuid[])
    ORDER BY e."seq" LIMIT ${limit - heads.length}::int
    ${lock ? Prisma.sql`FOR UPDATE` : Prisma.empty}`;
  return [...heads, ...followers].sort((a, b) => (a.seq < b.seq ? -1 : 1));
}

/** Stamps confirmed events as published; `attempts` counts publish attempts. */
export async function markPublished(sql: Sql, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql.$executeRaw`
    UPDATE "OutboxEvent" SET "publishedAt" = now(), "attempts" = "attempts" + 1, "lastError" = NULL
    WHERE "id" = ANY(${ids}::uuid[])`;
}

/** Records a failed publish attempt; the event stays unpublished and is retried. */
export async function markFailed(sql: Sql, failures: readonly { id: string; error: string }[]): Promise<void> {
  if (failures.length === 0) return;
  await sql.$executeRaw`
    UPDATE "OutboxEvent" o SET "attempts" = o."attempts" + 1, "lastError" = f."error"
    FROM unnest(${failures.map((f) => f.id)}::uuid[], ${failures.map((f) => f.error.slice(0, 1000))}::text[]) AS f("id", "error")
    WHERE o."id" = f."id"`;
}

/** Unpublished events, counted up to `cap` (an index range scan, never the whole table). */
export async function countBacklog(sql: Sql, cap = 100_000): Promise<number> {
  const [row] = await sql.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM (SELECT 1 FROM "OutboxEvent" WHERE "publishedAt" IS NULL LIMIT ${cap}::int) s`;
  return row?.n ?? 0;
}

/** Deletes at most `batch` events published before the retention; returns how many. */
export function pruneBatch(sql: Sql, retentionHours: number, batch: number): Promise<number> {
  return sql.$executeRaw`
    DELETE FROM "OutboxEvent" WHERE "id" IN (
      SELECT "id" FROM "OutboxEvent"
      WHERE "publishedAt" < now() - make_interval(hours => ${retentionHours}::int)
      ORDER BY "publishedAt" LIMIT ${batch}::int)`;
}

/** Events written after `seq` (any publish state), oldest first: the outbox tail. */
export function eventsAfter(sql: Sql, seq: bigint, limit: number): Promise<OutboxRecord[]> {
  return sql.$queryRaw<OutboxRecord[]>`
    SELECT ${COLUMNS} FROM "OutboxEvent" e WHERE e."seq" > ${seq.toString()}::bigint ORDER BY e."seq" LIMIT ${limit}::int`;
}

/** The newest `seq` so far (0 for an empty outbox). */
export async function latestSeq(sql: Sql): Promise<bigint> {
  const [row] = await sql.$queryRaw<{ seq: string }[]>`SELECT coalesce(max("seq"), 0)::text AS seq FROM "OutboxEvent"`;
  return BigInt(row?.seq ?? '0');
}
