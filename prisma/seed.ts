// Seeds the database. Two datasets:
//
//   npm run db:seed                      a small, realistic sample (~25 users, 6 teams) for development
//   npm run db:seed -- --users 10000 --teams 1000 --memberships-per-user 5
//                                        the deterministic benchmark dataset: the same flags always give
//                                        the same rows (ids included), so benchmark runs are comparable
//
// Add --reset to delete every Membership, Team and User row first. Without it the sample seed leaves a
// non-empty database alone (exit 0) and the benchmark seed refuses to touch one (exit 1). Bad flags exit 2.
//
// seedSample() and seedBenchmark() are exported for benchmark scripts and tests; the CLI runs only when
// this file is the entry point.
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadDatabaseConfig } from '../src/config.js';
import { openDatabase } from '../src/db.js';
import { DEVELOPMENT_ADMIN, ensureDevelopmentAdmin } from '../src/dev-admin.js';
import { StartupError } from '../src/startup/errors.js';
import type { Prisma, PrismaClient } from '../src/generated/prisma/client.js';

type Role = 'USER' | 'ADMIN';
type TeamRole = 'MEMBER' | 'OWNER';

interface UserRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt: Date;
  updatedAt: Date;
}
interface TeamRow {
  id: string;
  slug: string;
  name: string;
  createdAt: Date;
}
interface MembershipRow {
  userId: string;
  teamId: string;
  role: TeamRole;
  joinedAt: Date;
}

/** Row counts a seed wrote. */
export interface SeedCounts {
  readonly users: number;
  readonly teams: number;
  readonly memberships: number;
}

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

/**
 * A v4-shaped UUID derived from `key` (SHA-256, version and variant bits set), so the same key gives the
 * same id on every run and every machine.
 */
export function deterministicUuid(key: string): string {
  const b = createHash('sha256').update(key).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Deletes every Membership, Team and User row (children first), in one transaction. */
export async function resetDatabase(prisma: PrismaClient): Promise<void> {
  await prisma.$transaction([prisma.membership.deleteMany(), prisma.team.deleteMany(), prisma.user.deleteMany()]);
}

/** Users and teams already in the database (memberships cannot exist without both). */
export async function countExisting(prisma: PrismaClient): Promise<{ users: number; teams: number }> {
  const [users, teams] = await Promise.all([prisma.user.count(), prisma.team.count()]);
  return { users, teams };
}

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

// --- Benchmark dataset ----------------------------------------------------------------------------

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
    throw new RangeError(
      `membershipsPerUser (${options.membershipsPerUser}) cannot exceed teams (${options.teams}): each user's teams are distinct`,
    );
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
      const memberships = await insertChunked(benchMemberships(options, userIds, teamIds), (rows) =>
        insertMemberships(tx, rows),
      );
      return { users, teams, memberships };
    },
    { timeout: TRANSACTION_TIMEOUT_MS, maxWait: 30_000 },
  );
}

// --- Sample dataset -------------------------------------------------------------------------------

/** mulberry32: a tiny seeded PRNG, so the "random" sample is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SAMPLE_PEOPLE = [
  'Amara Okafor', 'Ben Hartley', 'Chloé Dubois', 'Daniel Kim', 'Elena Petrova',
  'Farid Haddad', 'Grace Liu', 'Hiro Tanaka', 'Isabel Moreno', 'Jonas Weber',
  'Kavya Nair', 'Liam O’Brien', 'Maya Cohen', 'Noah Fischer', 'Olivia Bennett',
  'Pedro Alves', 'Quinn Murphy', 'Rosa Jiménez', 'Samuel Osei', 'Tara Singh',
  'Umar Siddiqui', 'Valentina Rossi', 'Wei Zhang', 'Ximena Torres', 'Zoë Müller',
] as const;
/** Indexes into SAMPLE_PEOPLE of the ADMINs. */
const SAMPLE_ADMINS: ReadonlySet<number> = new Set([0, 6]);
const SAMPLE_TEAMS = [
  { slug: 'platform', name: 'Platform' },
  { slug: 'payments', name: 'Payments' },
  { slug: 'identity', name: 'Identity & Access' },
  { slug: 'growth', name: 'Growth' },
  { slug: 'data', name: 'Data Engineering' },
  { slug: 'mobile', name: 'Mobile' },
] as const;
const SAMPLE_EPOCH = Date.UTC(2025, 2, 3, 9, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** `Chloé Dubois` → `chloe.dubois@example.com`: accents folded, punctuation dropped, lower case. */
function sampleEmail(name: string): string {
  const local = name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .split(/\s+/)
    .map((part) => part.replace(/[^a-z0-9]/g, ''))
    .join('.');
  return `${local}@example.com`;
}

/** The sample rows, computed without touching the database (same output every call). */
export function sampleDataset(): { users: UserRow[]; teams: TeamRow[]; memberships: MembershipRow[] } {
  const random = prng(20250303);
  const users: UserRow[] = SAMPLE_PEOPLE.map((name, i) => {
    const email = sampleEmail(name);
    // Sign-ups spread over a few months, at some hour of the working day.
    const createdAt = new Date(SAMPLE_EPOCH + i * 4 * DAY + Math.floor(random() * 9 * HOUR));
    const updatedAt = new Date(createdAt.getTime() + Math.floor(random() * 30) * DAY);
    return {
      id: deterministicUuid(`sample-user:${email}`),
      email,
      name,
      role: SAMPLE_ADMINS.has(i) ? 'ADMIN' : 'USER',
      createdAt,
      updatedAt,
    };
  });
  const teams: TeamRow[] = SAMPLE_TEAMS.map((team, j) => ({
    id: deterministicUuid(`sample-team:${team.slug}`),
    ...team,
    createdAt: new Date(SAMPLE_EPOCH + j * DAY),
  }));

  const memberships = new Map<string, MembershipRow>();
  const join = (u: UserRow, team: TeamRow, role: TeamRole) => {
    const key = `${u.id}:${team.id}`;
    if (memberships.has(key)) return;
    const after = Math.max(u.createdAt.getTime(), team.createdAt.getTime());
    memberships.set(key, { userId: u.id, teamId: team.id, role, joinedAt: new Date(after + Math.floor(random() * 7 * DAY)) });
  };
  // One OWNER per team, each a different person; then everyone joins one to three teams.
  teams.forEach((team, j) => join(users[j * 4]!, team, 'OWNER'));
  for (const user of users) {
    const count = 1 + Math.floor(random() * 3);
    const order = teams.map((team) => ({ team, key: random() })).sort((a, b) => a.key - b.key);
    for (const { team } of order.slice(0, count)) join(user, team, 'MEMBER');
  }
  return { users, teams, memberships: [...memberships.values()] };
}

/** Writes the sample dataset into an empty database, in one transaction. */
export async function seedSample(prisma: PrismaClient): Promise<SeedCounts> {
  const data = sampleDataset();
  return prisma.$transaction(async (tx: Prisma.TransactionClient) => {
    const users = (await tx.user.createMany({ data: data.users })).count;
    const teams = (await tx.team.createMany({ data: data.teams })).count;
    const memberships = (await tx.membership.createMany({ data: data.memberships })).count;
    return { users, teams, memberships };
  });
}

// --- CLI ------------------------------------------------------------------------------------------

export class UsageError extends Error {
  override name = 'UsageError';
}

export type SeedCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'sample'; readonly reset: boolean }
  | { readonly kind: 'benchmark'; readonly reset: boolean; readonly options: BenchmarkOptions };

export const USAGE = `Usage: npm run db:seed -- [--reset] [--users N --teams M --memberships-per-user K]

  (no dataset flags)          small realistic sample dataset and the development admin
                              (${DEVELOPMENT_ADMIN.email}); skipped if the database already has users
  --users N                   deterministic benchmark dataset: N users (user{i}@bench.example),
  --teams M                   M teams (team-{j}),
  --memberships-per-user K    K distinct teams per user (K <= M); all three flags are required
  --reset                     delete all Membership, Team and User rows first
  -h, --help                  show this help

The database comes from DATABASE_URL (PostgreSQL, migrated first) or the embedded PGlite database.
`;

function parseCount(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim();
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`--${flag} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  }
  return Number(value);
}

/** Parses the seed's arguments (without node and the script); throws a UsageError on bad input. */
export function parseSeedArgs(argv: readonly string[]): SeedCommand {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        users: { type: 'string' },
        teams: { type: 'string' },
        'memberships-per-user': { type: 'string' },
        reset: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return { kind: 'help' };
  const users = parseCount('users', values.users);
  const teams = parseCount('teams', values.teams);
  const membershipsPerUser = parseCount('memberships-per-user', values['memberships-per-user']);
  if (users === undefined && teams === undefined && membershipsPerUser === undefined) {
    return { kind: 'sample', reset: values.reset };
  }
  if (users === undefined || teams === undefined || membershipsPerUser === undefined) {
    const missing = [
      users === undefined && '--users',
      teams === undefined && '--teams',
      membershipsPerUser === undefined && '--memberships-per-user',
    ].filter(Boolean);
    throw new UsageError(`the benchmark dataset needs --users, --teams and --memberships-per-user; missing ${missing.join(', ')}`);
  }
  if (membershipsPerUser > teams) {
    throw new UsageError(`--memberships-per-user (${membershipsPerUser}) cannot exceed --teams (${teams})`);
  }
  return { kind: 'benchmark', reset: values.reset, options: { users, teams, membershipsPerUser } };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const summary = (c: SeedCounts) =>
  `${plural(c.users, 'user')}, ${plural(c.teams, 'team')}, ${plural(c.memberships, 'membership')}`;

/** Runs the seed CLI; resolves to the process exit code (0 done/skipped, 1 failed/refused, 2 bad flags). */
export async function main(argv: readonly string[]): Promise<number> {
  let command: SeedCommand;
  try {
    command = parseSeedArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`seed: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (command.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }

  const started = performance.now();
  const db = await openDatabase(loadDatabaseConfig(), { migrate: true });
  try {
    if (command.reset) {
      await resetDatabase(db.prisma);
    } else {
      const existing = await countExisting(db.prisma);
      if (existing.users > 0 || existing.teams > 0) {
        const what = `${plural(existing.users, 'user')} and ${plural(existing.teams, 'team')}`;
        if (command.kind === 'sample') {
          process.stdout.write(`Database already has ${what}; not seeding (use --reset to replace them)\n`);
          return 0;
        }
        process.stderr.write(`seed: database already has ${what}; refusing to add the benchmark dataset (use --reset to replace them)\n`);
        return 1;
      }
    }
    const counts = command.kind === 'sample' ? await seedSample(db.prisma) : await seedBenchmark(db.prisma, command.options);
    const admin = command.kind === 'sample' && (await ensureDevelopmentAdmin(db.prisma)) ? ` and the development admin ${DEVELOPMENT_ADMIN.email}` : '';
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const dataset = command.kind === 'sample' ? 'sample' : 'benchmark';
    process.stdout.write(
      `Seeded ${dataset} dataset${command.reset ? ' (after reset)' : ''}: ${summary(counts)}${admin} in ${seconds}s (${db.kind})\n`,
    );
    return 0;
  } finally {
    await db.close();
  }
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) {
  main(process.argv.slice(2)).then(
    // Exit explicitly: the WASM schema engine behind the migration step leaves a timer behind.
    (code) => process.exit(code),
    (error: unknown) => {
      // A StartupError (the embedded database is in use, PostgreSQL unreachable) is one line to act on.
      const text = error instanceof StartupError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
      process.stderr.write(`seed: ${error instanceof StartupError ? '' : 'failed: '}${text}\n`);
      process.exit(1);
    },
  );
}
