import { createHash } from 'node:crypto';
import type { PrismaClient } from '../db.js';

/** The parts of a first response a retry gets back. */
export interface StoredResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** What claiming a key found. */
export type Claim =
  /** This request owns the key: execute it, then `complete` (or `release`). */
  | { readonly kind: 'claimed' }
  /** A finished first request with the same body: answer its response, execute nothing. */
  | { readonly kind: 'replay'; readonly response: StoredResponse }
  /** The key was used with another body (422). */
  | { readonly kind: 'mismatch' }
  /** The first request with this key and body is still running (409). */
  | { readonly kind: 'in-flight' };

export interface ClaimOptions {
  readonly subject: string;
  readonly key: string;
  readonly fingerprint: string;
  readonly ttlHours: number;
  /** An IN_FLIGHT claim older than this was abandoned (its process died): the next request takes it over. */
  readonly abandonedAfterMs: number;
}

type Sql = Pick<PrismaClient, '$queryRaw' | '$executeRaw'>;

interface Row {
  fingerprint: string;
  state: 'IN_FLIGHT' | 'COMPLETE';
  status: number | null;
  headers: Record<string, string> | null;
  body: string | null;
}

/**
 * Claims (subject, key) with one statement: a new row, or the takeover of an expired or abandoned one.
 * Concurrent claims of one key serialize on the primary key, and the WHERE is evaluated on the row the
 * winner wrote, so exactly one of them gets `claimed`.
 */
export async function claim(sql: Sql, o: ClaimOptions): Promise<Claim> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const won = await sql.$queryRaw<unknown[]>`
      INSERT INTO "IdempotencyKey" ("subject", "key", "fingerprint", "state", "expiresAt")
      VALUES (${o.subject}, ${o.key}, ${o.fingerprint}, 'IN_FLIGHT', now() + make_interval(hours => ${o.ttlHours}::int))
      ON CONFLICT ("subject", "key") DO UPDATE
        SET "fingerprint" = EXCLUDED."fingerprint", "state" = 'IN_FLIGHT', "status" = NULL, "headers" = NULL, "body" = NULL,
            "createdAt" = now(), "expiresAt" = EXCLUDED."expiresAt"
        WHERE "IdempotencyKey"."expiresAt" <= now()
           OR ("IdempotencyKey"."state" = 'IN_FLIGHT'
               AND "IdempotencyKey"."createdAt" <= now() - make_interval(secs => ${o.abandonedAfterMs / 1000}::float8))
      RETURNING 1 AS "won"`;
    if (won.length) return { kind: 'claimed' };
    const [row] = await sql.$queryRaw<Row[]>`
      SELECT "fingerprint", "state", "status", "headers", "body" FROM "IdempotencyKey"
      WHERE "subject" = ${o.subject} AND "key" = ${o.key}`;
    // Pruned between the two statements: claim again.
    if (!row) continue;
    if (row.fingerprint !== o.fingerprint) return { kind: 'mismatch' };
    if (row.state === 'IN_FLIGHT') return { kind: 'in-flight' };
    return { kind: 'replay', response: { status: row.status ?? 200, headers: row.headers ?? {}, body: row.body ?? '' } };
  }
  return { kind: 'in-flight' };
}

/** Stores the first response of a claimed key. */
export async function complete(sql: Sql, subject: string, key: string, response: StoredResponse): Promise<void> {
  await sql.$executeRaw`
    UPDATE "IdempotencyKey"
    SET "state" = 'COMPLETE', "status" = ${response.status}::int, "headers" = ${JSON.stringify(response.headers)}::jsonb, "body" = ${response.body}
    WHERE "subject" = ${subject} AND "key" = ${key} AND "state" = 'IN_FLIGHT'`;
}

/** Gives up a claim whose request failed in a way a retry may fix (nothing was applied). */
export async function release(sql: Sql, subject: string, key: string): Promise<void> {
  await sql.$executeRaw`DELETE FROM "IdempotencyKey" WHERE "subject" = ${subject} AND "key" = ${key} AND "state" = 'IN_FLIGHT'`;
}

/** Deletes up to `batch` expired keys; returns how many. */
export function pruneExpired(sql: Sql, batch: number): Promise<number> {
  return sql.$executeRaw`
    DELETE FROM "IdempotencyKey" WHERE ("subject", "key") IN (
      SELECT "subject", "key" FROM "IdempotencyKey" WHERE "expiresAt" <= now() ORDER BY "expiresAt" LIMIT ${batch}::int)`;
}

/** JSON with object keys sorted at every level: equal values, equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** SHA-256 (hex) of the canonical operation: document, operation name and variables. */
export function fingerprint(query: string, operationName: string | undefined | null, variables: unknown): string {
  return createHash('sha256')
    .update(canonical({ query, operationName: operationName ?? null, variables: variables ?? {} }))
    .digest('hex');
}
