import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { benchTeamId, benchUserId, main, parseSeedArgs, resetDatabase, sampleDataset, seedBenchmark, seedSample, UsageError } from '../prisma/seed.js';
import { loadConfig } from '../src/config.js';
import { type Database, openDatabase } from '../src/db.js';
import { isUuid } from '../src/ids.js';
import { createDatabase, databaseUrl, dropDatabase, uniqueDatabaseName } from './helpers/postgres.js';

/**
 * This file's own database, as useTestApp gives one (a copy of the migrated template on PostgreSQL,
 * in-memory PGlite otherwise), without building the GraphQL app: seeding needs only Prisma.
 */
function useTestDatabase(): { readonly db: Database } {
  const template = inject('pgTemplate');
  let db: Database | undefined;
  let dbName: string | undefined;
  beforeAll(async () => {
    let url: string | undefined;
    if (template) {
      dbName = uniqueDatabaseName('uag_seed');
      await createDatabase(template.serverUrl, dbName, template.name);
      url = databaseUrl(template.serverUrl, dbName);
    }
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: url, EMBEDDED_DATA_DIR: 'memory://' });
    db = await openDatabase(config.database);
  });
  afterAll(async () => {
    await db?.close();
    if (template && dbName) await dropDatabase(template.serverUrl, dbName);
  });
  return {
    get db() {
      if (!db) throw new Error('useTestDatabase: the database is only ready inside tests');
      return db;
    },
  };
}

const t = useTestDatabase();

const SMALL = { users: 200, teams: 20, membershipsPerUser: 3 } as const;

/** Everything a seed wrote, in a stable order, for comparing two runs. */
async function snapshot() {
  const prisma = t.db.prisma;
  const [users, teams, memberships] = await Promise.all([
    prisma.user.findMany({ orderBy: { id: 'asc' } }),
    prisma.team.findMany({ orderBy: { id: 'asc' } }),
    prisma.membership.findMany({ orderBy: [{ userId: 'asc' }, { teamId: 'asc' }] }),
  ]);
  return { users, teams, memberships };
}

const userNumber = (email: string) => Number(/^user(\d+)@bench\.example$/.exec(email)![1]);

describe('seedBenchmark', () => {
  it('writes exactly N users, M teams and N·K memberships with one OWNER per team', async () => {
    await resetDatabase(t.db.prisma);
    const counts = await seedBenchmark(t.db.prisma, SMALL);
    expect(counts).toEqual({ users: 200, teams: 20, memberships: 600 });

    const { users, teams, memberships } = await snapshot();
    expect(users).toHaveLength(200);
    expect(teams).toHaveLength(20);
    expect(memberships).toHaveLength(600);

    // Users: deterministic emails, names, roles and creation times.
    const byId = new Map(users.map((u) => [u.id, u]));
    for (const u of users) {
      const i = userNumber(u.email);
      expect(u.name).toBe(`User ${i}`);
      expect(u.role).toBe(i % 50 === 0 ? 'ADMIN' : 'USER');
      expect(u.id).toBe(benchUserId(i));
      expect(isUuid(u.id)).toBe(true);
      expect(u.createdAt.toISOString()).toBe(new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString());
    }
    expect(users.filter((u) => u.role === 'ADMIN')).toHaveLength(4);
    expect(new Set(users.map((u) => u.createdAt.getTime())).size).toBe(200);
    expect(teams.map((team) => team.slug).sort()).toEqual(Array.from({ length: 20 }, (_, j) => `team-${j + 1}`).sort());
    for (const team of teams) expect(team.id).toBe(benchTeamId(Number(team.slug.slice('team-'.length))));

    // Every user is in exactly 3 distinct teams.
    const perUser = new Map<string, Set<string>>();
    for (const m of memberships) perUser.set(m.userId, (perUser.get(m.userId) ?? new Set()).add(m.teamId));
    expect(perUser.size).toBe(200);
    for (const teamIds of perUser.values()) expect(teamIds.size).toBe(3);

    // Every team has N·K/M = 30 members, exactly one OWNER, and the OWNER is its lowest-numbered member.
    for (const team of teams) {
      const members = memberships.filter((m) => m.teamId === team.id);
      expect(members).toHaveLength(30);
      const owners = members.filter((m) => m.role === 'OWNER');
      expect(owners).toHaveLength(1);
      const lowest = Math.min(...members.map((m) => userNumber(byId.get(m.userId)!.email)));
      expect(userNumber(byId.get(owners[0]!.userId)!.email)).toBe(lowest);
    }
  });

  it('gives identical rows on two runs into fresh states', async () => {
    await resetDatabase(t.db.prisma);
    await seedBenchmark(t.db.prisma, SMALL);
    const first = await snapshot();

    await resetDatabase(t.db.prisma);
    expect(await t.db.prisma.user.count()).toBe(0);
    await seedBenchmark(t.db.prisma, SMALL);
    const second = await snapshot();

    expect(second.users.map((u) => u.id)).toEqual(first.users.map((u) => u.id));
    expect(second.users.map((u) => u.email)).toEqual(first.users.map((u) => u.email));
    expect(second.teams.map((team) => team.id)).toEqual(first.teams.map((team) => team.id));
    // Whole rows too, timestamps included (createdAt/updatedAt/joinedAt are not "now").
    expect(second).toEqual(first);
  });

  it('rejects invalid options before writing anything', async () => {
    await resetDatabase(t.db.prisma);
    await expect(seedBenchmark(t.db.prisma, { users: 10, teams: 2, membershipsPerUser: 3 })).rejects.toThrow(RangeError);
    await expect(seedBenchmark(t.db.prisma, { users: -1, teams: 2, membershipsPerUser: 1 })).rejects.toThrow(/users/);
    await expect(seedBenchmark(t.db.prisma, { users: 1.5, teams: 2, membershipsPerUser: 1 })).rejects.toThrow(/users/);
    expect(await t.db.prisma.user.count()).toBe(0);
  });

  it('writes nothing when it fails part-way (one transaction)', async () => {
    await resetDatabase(t.db.prisma);
    // A pre-existing team with a benchmark slug makes the team insert fail after the users went in.
    await t.db.prisma.team.create({ data: { slug: 'team-2', name: 'In the way' } });
    await expect(seedBenchmark(t.db.prisma, SMALL)).rejects.toThrow();
    expect(await t.db.prisma.user.count()).toBe(0);
    expect(await t.db.prisma.team.count()).toBe(1);
  });
});

describe('seedSample', () => {
  it('writes a non-empty dataset in which every team has exactly one OWNER', async () => {
    await resetDatabase(t.db.prisma);
    const counts = await seedSample(t.db.prisma);
    const { users, teams, memberships } = await snapshot();
    expect(counts).toEqual({ users: users.length, teams: teams.length, memberships: memberships.length });
    expect(users.length).toBeGreaterThanOrEqual(20);
    expect(teams.length).toBeGreaterThanOrEqual(5);
    expect(teams.map((team) => team.slug)).toEqual(expect.arrayContaining(['platform', 'payments']));
    expect(users.filter((u) => u.role === 'ADMIN').length).toBeGreaterThanOrEqual(2);

    for (const u of users) expect(u.email).toMatch(/^[a-z0-9.]+@example\.com$/);
    expect(new Set(users.map((u) => u.email)).size).toBe(users.length);

    for (const team of teams) {
      const members = memberships.filter((m) => m.teamId === team.id);
      expect(
        members.filter((m) => m.role === 'OWNER'),
        team.slug,
      ).toHaveLength(1);
      expect(members.length, team.slug).toBeGreaterThan(1);
    }
    // Everyone is in at least one team.
    expect(new Set(memberships.map((m) => m.userId)).size).toBe(users.length);
  });

  it('is the same data on every call', () => {
    expect(sampleDataset()).toEqual(sampleDataset());
  });
});

describe('CLI arguments', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('parses the sample and benchmark forms', () => {
    expect(parseSeedArgs([])).toEqual({ kind: 'sample', reset: false });
    expect(parseSeedArgs(['--reset'])).toEqual({ kind: 'sample', reset: true });
    expect(parseSeedArgs(['--users', '10000', '--teams=1000', '--memberships-per-user', '5', '--reset'])).toEqual({
      kind: 'benchmark',
      reset: true,
      options: { users: 10000, teams: 1000, membershipsPerUser: 5 },
    });
    expect(parseSeedArgs(['-h'])).toEqual({ kind: 'help' });
  });

  it.each([
    [['--users', 'ten', '--teams', '2', '--memberships-per-user', '1'], /--users must be a non-negative integer/],
    [['--users=-5', '--teams', '2', '--memberships-per-user', '1'], /--users must be a non-negative integer/],
    [['--users', '1.5', '--teams', '2', '--memberships-per-user', '1'], /--users must be a non-negative integer/],
    [['--users', '10', '--teams', '2', '--memberships-per-user', '3'], /cannot exceed --teams/],
    [['--users', '10'], /missing --teams, --memberships-per-user/],
    [['--users', '-5'], /.+/],
    [['--bogus'], /bogus/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseSeedArgs(argv)).toThrow(UsageError);
    expect(() => parseSeedArgs(argv)).toThrow(message);
  });

  it('exits 2 on bad flags without opening the database', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['--users', '10', '--teams', '1', '--memberships-per-user', '2'])).toBe(2);
    expect(String(stderr.mock.calls[0]?.[0])).toMatch(/cannot exceed --teams/);
  });
});
