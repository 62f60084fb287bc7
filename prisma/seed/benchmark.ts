// The deterministic benchmark dataset: the same options always give the same rows (ids included), so
// benchmark runs are comparable.
import type { Prisma, PrismaClient } from '../../src/generated/prisma/client.js';
import { deterministicUuid, type MembershipRow, type SeedCounts, type TeamRole, type TeamRow, type UserRow } from './rows.js';

export interface BenchmarkOptions {
  readonly users: number;
  readonly teams: number;
  readonly membershipsPerUser: number;
}

/**
 * Rows per INSERT. The benchmark inserts pass one array per column to `unnest`, so a statement has a
 * handful of bind parameters whatever its size; 5,000 rows keeps each statement short (well inside the
 * pool's statement timeout) and memory flat.
 */
const CHUNK = 5_000;
/** Generous: a large benchmark seed is many statements in one transaction. */
const TRANSACTION_TIMEOUT_MS = 10 * 60_000;

/** Feeds `rows` to `insert` CHUNK at a time; resolves to the number of rows. */
async function insertChunked<T>(rows: Iterable<T>, insert: (chunk: T[]) => Promise<unknown>): Promise<number> {
  let chunk: T[] = [];
  let total = 0;
  for (const row of rows) {
    chunk.push(row);
    if (chunk.length === CHUNK) {
      await insert(chunk);
      total += chunk.length;
      chunk = [];
    }
  }
  if (chunk.length > 0) {
    await insert(chunk);
    total += chunk.length;
  }
  return total;
}

// Bulk inserts for the benchmark: one multi-row INSERT ... SELECT FROM unnest(column arrays) per chunk,
// about 5x faster than createMany here (10k users + 1k teams + 50k memberships: ~1.3 s instead of
// ~6.5 s on PostgreSQL), which spends its time building a bind parameter per value. The SQL names the
// tables and columns Prisma generates (see the init migration); test/seed.test.ts reads the rows back
// through the Prisma client, so a mismatch fails there. Timestamps travel as ISO strings; enum arrays go
// through text[] because the embedded adapter only serialises arrays of types it knows.
const iso = (d: Date) => d.toISOString();

function insertUsers(tx: Prisma.TransactionClient, rows: readonly UserRow[]) {
  return tx.$executeRaw`
    INSERT INTO "User" ("id", "email", "name", "role", "createdAt", "updatedAt")
    SELECT * FROM unnest(
      ${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.email)}::text[], ${rows.map((r) => r.name)}::text[],
      ${rows.map((r) => r.role)}::text[]::"Role"[],
      ${rows.map((r) => iso(r.createdAt))}::timestamptz[], ${rows.map((r) => iso(r.updatedAt))}::timestamptz[])`;
}

function insertTeams(tx: Prisma.TransactionClient, rows: readonly TeamRow[]) {
  return tx.$executeRaw`
    INSERT INTO "Team" ("id", "slug", "name", "createdAt")
    SELECT * FROM unnest(
      ${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.slug)}::text[], ${rows.map((r) => r.name)}::text[],
      ${rows.map((r) => iso(r.createdAt))}::timestamptz[])`;
}

function insertMemberships(tx: Prisma.TransactionClient, rows: readonly MembershipRow[]) {
  return tx.$executeRaw`
    INSERT INTO "Membership" ("userId", "teamId", "role", "joinedAt")
    SELECT * FROM unnest(
      ${rows.map((r) => r.userId)}::uuid[], ${rows.map((r) => r.teamId)}::uuid[],
      ${rows.map((r) => r.role)}::text[]::"TeamRole"[], ${rows.map((r) => iso(r.joinedAt))}::timestamptz[])`;
}

/** Creation times count up one second per row from here, so every ordering is stable. */
const BENCH_EPOCH = Date.UTC(2025, 0, 1);

/** Throws a RangeError naming the first invalid option. */
export function validateBenchmarkOptions(options: BenchmarkOptions): void {
  for (const [flag, value] of [
    ['users', options.users],
    ['teams', options.teams],
    ['membershipsPerUser', options.membershipsPerUser],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`${flag} must be a non-negative integer, got ${String(value)}`);
    }
  }
  if (options.membershipsPerUser > options.teams) {
    throw new RangeError(`membershipsPerUser (${options.membershipsPerUser}) cannot exceed teams (${options.teams}): each user's teams are distinct`);
  }
}

export const benchUserId = (i: number): string => deterministicUuid(`user:${i}`);
export const benchTeamId = (j: number): string => deterministicUuid(`team:${j}`);

function* benchUsers(n: number): Generator<UserRow> {
  for (let i = 1; i <= n; i++) {
    const createdAt = new Date(BENCH_EPOCH + i * 1000);
    yield {
      id: benchUserId(i),
      email: `user${i}@bench.example`,
      name: `User ${i}`,
      role: i % 50 === 0 ? 'ADMIN' : 'USER',
      createdAt,
      updatedAt: createdAt,
    };
  }
}

function* benchTeams(m: number, teamIds: readonly string[]): Generator<TeamRow> {
  for (let j = 1; j <= m; j++) {
    yield { id: teamIds[j - 1]!, slug: `team-${j}`, name: `Team ${j}`, createdAt: new Date(BENCH_EPOCH + j * 1000) };
  }
}

/**
 * User i (1-based) joins teams ((i-1)·K + k) mod M + 1 for k = 0..K-1: K consecutive team numbers, so
 * distinct when K ≤ M, and over all users the blocks tile the teams round-robin, giving every team
 * ⌊N·K/M⌋ or ⌈N·K/M⌉ members. Users are walked in ascending order, so the first membership a team
 * gets is its lowest-numbered member: that one is the OWNER.
 */
function* benchMemberships(o: BenchmarkOptions, userIds: readonly string[], teamIds: readonly string[]) {
  const owned = new Uint8Array(o.teams);
  for (let i = 1; i <= o.users; i++) {
    const userId = userIds[i - 1]!;
    const userCreated = BENCH_EPOCH + i * 1000;
    for (let k = 0; k < o.membershipsPerUser; k++) {
      const t = ((i - 1) * o.membershipsPerUser + k) % o.teams; // 0-based team index
      const role: TeamRole = owned[t] ? 'MEMBER' : 'OWNER';
      owned[t] = 1;
      // Joined after both the user and the team existed, k seconds apart.
      const joinedAt = new Date(Math.max(userCreated, BENCH_EPOCH + (t + 1) * 1000) + (k + 1) * 1000);
      yield { userId, teamId: teamIds[t]!, role, joinedAt } satisfies MembershipRow;
    }
  }
}

/**
 * Writes the deterministic benchmark dataset into an empty database, in one transaction: user i is
 * `user{i}@bench.example` / `User {i}` (every 50th an ADMIN), team j is `team-{j}` / `Team {j}`, ids are
 * derived from the index, and every user belongs to `membershipsPerUser` distinct teams.
 */
export async function seedBenchmark(prisma: PrismaClient, options: BenchmarkOptions): Promise<SeedCounts> {
  validateBenchmarkOptions(options);
  const userIds = Array.from({ length: options.users }, (_, i) => benchUserId(i + 1));
  const teamIds = Array.from({ length: options.teams }, (_, j) => benchTeamId(j + 1));
  return prisma.$transaction(
    async (tx: Prisma.TransactionClient) => {
      const users = await insertChunked(benchUsers(options.users), (rows) => insertUsers(tx, rows));
      const teams = await insertChunked(benchTeams(options.teams, teamIds), (rows) => insertTeams(tx, rows));
      const memberships = await insertChunked(benchMemberships(options, userIds, teamIds), (rows) => insertMemberships(tx, rows));
      return { users, teams, memberships };
    },
    { timeout: TRANSACTION_TIMEOUT_MS, maxWait: 30_000 },
  );
}
