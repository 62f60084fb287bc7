// `npm run bench`: installs bench/'s own dependencies on first use, then runs the benchmark
// (bench/lib/bench.mjs). Needs Node 22+ (PostGraphile v5) and PostgreSQL on 127.0.0.1:5432 or at
// BENCH_DATABASE_URL. Results: the console and bench/RESULTS.md.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bench = path.dirname(fileURLToPath(import.meta.url));
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(`bench: Node 22+ is needed (PostGraphile v5), this is ${process.version}; run it with npm run bench\n`);
  process.exit(1);
}

// Two installs, two lock files: the hello-world uses graphql 17 like our server, PostGraphile needs graphql 16.
for (const dir of [bench, path.join(bench, 'hello-world')]) {
  // Installed already when every dependency is (an install from before a dependency was added is not).
  const { dependencies = {} } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  if (Object.keys(dependencies).every((name) => existsSync(path.join(dir, 'node_modules', name, 'package.json')))) continue;
  process.stdout.write(`bench: installing ${path.relative(process.cwd(), dir) || '.'} dependencies (npm ci)\n`);
  const r = spawnSync('npm', ['ci', '--prefix', dir, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const { main } = await import('./lib/bench.mjs');
try {
  await main();
  process.exit(0);
} catch (error) {
  process.stderr.write(`\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
