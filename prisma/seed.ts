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
// this file is the entry point. The parts live in prisma/seed/: rows.ts (shared rows and ids),
// sample.ts and benchmark.ts (one dataset each), cli.ts (flags and the run).
import { pathToFileURL } from 'node:url';
import { StartupError } from '../src/startup/errors.js';
import { main } from './seed/cli.js';

export { benchTeamId, benchUserId, type BenchmarkOptions, seedBenchmark, validateBenchmarkOptions } from './seed/benchmark.js';
export { main, parseSeedArgs, type SeedCommand, USAGE, UsageError } from './seed/cli.js';
export { countExisting, deterministicUuid, resetDatabase, type SeedCounts } from './seed/rows.js';
export { sampleDataset, seedSample } from './seed/sample.js';

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
