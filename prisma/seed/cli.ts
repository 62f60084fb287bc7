// `npm run db:seed`: parses the flags, opens (and migrates) the configured database, runs one dataset.
import { parseArgs } from 'node:util';
import { loadDatabaseConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db.js';
import { DEVELOPMENT_ADMIN, ensureDevelopmentAdmin } from '../../src/dev-admin.js';
import { type BenchmarkOptions, seedBenchmark } from './benchmark.js';
import { countExisting, resetDatabase, type SeedCounts } from './rows.js';
import { seedSample } from './sample.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

export type SeedCommand =
  { readonly kind: 'help' } | { readonly kind: 'sample'; readonly reset: boolean } | { readonly kind: 'benchmark'; readonly reset: boolean; readonly options: BenchmarkOptions };

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
    const missing = [users === undefined && '--users', teams === undefined && '--teams', membershipsPerUser === undefined && '--memberships-per-user'].filter(Boolean);
    throw new UsageError(`the benchmark dataset needs --users, --teams and --memberships-per-user; missing ${missing.join(', ')}`);
  }
  if (membershipsPerUser > teams) {
    throw new UsageError(`--memberships-per-user (${membershipsPerUser}) cannot exceed --teams (${teams})`);
  }
  return { kind: 'benchmark', reset: values.reset, options: { users, teams, membershipsPerUser } };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const summary = (c: SeedCounts) => `${plural(c.users, 'user')}, ${plural(c.teams, 'team')}, ${plural(c.memberships, 'membership')}`;

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
    process.stdout.write(`Seeded ${dataset} dataset${command.reset ? ' (after reset)' : ''}: ${summary(counts)}${admin} in ${seconds}s (${db.kind})\n`);
    return 0;
  } finally {
    await db.close();
  }
}
