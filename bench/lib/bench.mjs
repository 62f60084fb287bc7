// The benchmark run (`npm run bench`): databases → build → hello-world ceiling → our server,
// PostGraphile and the stack's floor → skewed vs uniform first pages → CPU profiles of our server → table + bench/RESULTS.md.
// Every phase is bounded in time; every child process is stopped at the end, also on failure.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { makeAuth } from './auth.mjs';
import { circuitState, profileError, PROFILE_SCENARIOS, startDownstream, tripBreaker } from './downstream.mjs';
import { databaseUrl, DATASET, deleteLoadUsers, BUSY_USER, HUGE_TEAM, postgresInfo, run, setupDatabases, SKEW } from './database.mjs';
import { load, quantile } from './load.mjs';
import { idleMemory } from './memory.mjs';
import { ablationRows, runAblation } from './ablation.mjs';
import { allocationRun } from './alloc-profile.mjs';
import { inProcessAblation } from './inprocess-ablation.mjs';
import { summarizeProfileFile } from './profile-summary.mjs';
import { checkProxy } from './proxy-check.mjs';
import { startProxyWorker } from './proxy-worker.mjs';
import { HELLO, quickError, scenarios, skewQueries } from './queries.mjs';
import { renderAblationConsole, renderConsole, renderDownstream, renderMarkdown } from './report.mjs';
import { backendCpu, cpuSecondsOf, machineBusySeconds, memoryOf, sampleMemory, startServer } from './servers.mjs';

const BENCH = fileURLToPath(new URL('..', import.meta.url));
const ROOT = path.resolve(BENCH, '..');
/**
 * Our production build, compiled by the project's TypeScript with tsconfig.build.json into a private
 * folder rather than the shared dist/, so that other people building or editing at the same time cannot
 * swap the code under a running benchmark. It lives under the project's node_modules/.cache (ignored by
 * git and eslint), where `node` resolves packages from the project's node_modules exactly as it does for
 * `node dist/src/main.js`.
 */
const BUILD = path.join(ROOT, 'node_modules/.cache/uag-bench');
const SCENARIOS = ['node', 'usersPage', 'teamsPage', 'createUser'];
/** Scenarios measured again with the response cache on (every request after the warm-up is a hit). */
const CACHE_SCENARIOS = ['node', 'usersPage'];
/** Scenarios measured again with tracing on (OTLP/HTTP to a sink in this process). */
const TRACING_SCENARIOS = ['node', 'usersPage', 'createUser'];
/**
 * Scenarios measured again with the heap settings swapped: ours with V8's default heap (no heap flags),
 * PostGraphile with our production image's. What the memory goal costs, and the ratio on equal terms.
 */
const HEAP_SCENARIOS = ['node', 'usersPage', 'createUser'];
const TARGETS = ['ours', 'postgraphile', 'floor', 'floorNoEvent'];
/**
 * The stack's floor (bench/hello-world/floor.mjs) answers these two only, one statement each, as ours;
 * `floorNoEvent` is the floor whose createUser writes no outbox event (as PostGraphile's).
 */
const FLOOR_SCENARIOS = ['node', 'createUser'];
const scenariosOf = (target) => ({ floor: FLOOR_SCENARIOS, floorNoEvent: ['createUser'] })[target] ?? SCENARIOS;

const say = (line = '') => process.stdout.write(`${line}\n`);
/** Prints a phase heading with the time since the start (set by main). */
let phase = (title) => say(`\n== ${title}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function number(name, fallback, { min = 0 } = {}) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

function readConfig() {
  const serverUrl = process.env.BENCH_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/';
  const host = new URL(serverUrl).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host) && process.env.BENCH_ALLOW_REMOTE_DATABASE !== '1') {
    throw new Error(
      `BENCH_DATABASE_URL points at ${host}: the benchmark drops and re-creates databases there. ` +
        'Use a local server, or set BENCH_ALLOW_REMOTE_DATABASE=1 if you really mean it.',
    );
  }
  return {
    serverUrl,
    dbName: process.env.BENCH_DB_NAME || 'uag_bench',
    duration: number('BENCH_DURATION', 10, { min: 1 }),
    warmup: number('BENCH_WARMUP', 3),
    idle: number('BENCH_IDLE', 2),
    connections: number('BENCH_CONNECTIONS', 10, { min: 1 }),
    poolMax: number('BENCH_POOL_MAX', 10, { min: 1 }),
    skewRequests: number('BENCH_SKEW_REQUESTS', 100, { min: 1 }),
    // Requests of each skew query to each server before the measured ones (a fresh server's JIT is cold).
    skewWarmup: number('BENCH_SKEW_WARMUP', 30),
    profileDuration: number('BENCH_PROFILE_DURATION', 8, { min: 1 }),
    allocDuration: number('BENCH_ALLOC_DURATION', 5, { min: 1 }),
    rounds: number('BENCH_ROUNDS', 2, { min: 1 }),
    ablation: process.env.BENCH_ABLATION === '1',
    ablationOnly: process.env.BENCH_ABLATION === 'only',
    ablationDuration: number('BENCH_ABLATION_DURATION', 8, { min: 1 }),
    ablationSlices: number('BENCH_ABLATION_SLICES', 3, { min: 1 }),
    // Fresh server pairs per ablation row (each with its own turns); the table gives each pair's cost.
    ablationRepeats: number('BENCH_ABLATION_REPEATS', 1, { min: 1 }),
    // The in-process ablation (inprocess-ablation.mjs): cycles of one request to each app.
    inProcessRounds: number('BENCH_INPROCESS_ROUNDS', 3_000, { min: 2 }),
    // Names of VARIANTS rows to run (comma-separated, by prefix); all when unset.
    ablationVariants: (process.env.BENCH_ABLATION_VARIANTS || '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    profile: process.env.BENCH_PROFILE !== '0',
    build: process.env.BENCH_SKIP_BUILD !== '1',
    redisUrl: process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379',
    cacheRows: process.env.BENCH_CACHE !== '0',
    tracingRows: process.env.BENCH_TRACING !== '0',
    heapRows: process.env.BENCH_HEAP !== '0',
  };
}

// --- Machine and versions ---------------------------------------------------------------------------

function versionOf(dir, pkg) {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

function git(args) {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).replace(/\n$/, '');
  } catch {
    return '';
  }
}

async function machineInfo(cfg, uniformUrl) {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? '?';
  const mhz = /^cpu MHz\s*:\s*(.+)$/m.exec(cpuinfo)?.[1];
  const pgInfo = await postgresInfo(uniformUrl);
  const dirty = git(['status', '--porcelain', '--', 'src', 'prisma', 'package.json', 'package-lock.json'])
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(3));
  return {
    date: new Date().toISOString(),
    cpu: `${model}${mhz ? ` (${Math.round(Number(mhz))} MHz)` : ''}`,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memoryGiB: os.totalmem() / 2 ** 30,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres: pgInfo.version,
    postgresSettings: pgInfo.settings,
    commit: `${git(['rev-parse', '--short', 'HEAD']) || '?'}${dirty.length ? ` + uncommitted changes (${dirty.join(', ')})` : ''}`,
    versions: {
      'graphql-yoga': versionOf(ROOT, 'graphql-yoga'),
      graphql: versionOf(ROOT, 'graphql'),
      '@pothos/core': versionOf(ROOT, '@pothos/core'),
      '@pothos/plugin-prisma': versionOf(ROOT, '@pothos/plugin-prisma'),
      '@prisma/client': versionOf(ROOT, '@prisma/client'),
      '@prisma/adapter-pg': versionOf(ROOT, '@prisma/adapter-pg'),
      postgraphile: versionOf(BENCH, 'postgraphile'),
      grafast: versionOf(BENCH, 'grafast'),
      'graphql (PostGraphile)': versionOf(BENCH, 'graphql'),
      'graphql-yoga (hello-world)': versionOf(path.join(BENCH, 'hello-world'), 'graphql-yoga'),
      'graphql (hello-world)': versionOf(path.join(BENCH, 'hello-world'), 'graphql'),
      'pg (floor)': versionOf(path.join(BENCH, 'hello-world'), 'pg'),
      autocannon: versionOf(BENCH, 'autocannon'),
    },
  };
}

// --- Servers -----------------------------------------------------------------------------------------

/**
 * The production image's memory settings (the Dockerfile's runtime ENV; k8s/deployment.yaml repeats
 * NODE_OPTIONS): our server runs with the heap flags and the malloc arena cap it runs with in
 * production, or its memory would not be the one that ships.
 */
export function imageMemoryEnv() {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  // The runtime stage, without its comments (which mention the settings too).
  const runtime = dockerfile
    .slice(dockerfile.lastIndexOf('\nFROM '))
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n');
  const env = {};
  for (const name of ['NODE_OPTIONS', 'MALLOC_ARENA_MAX']) {
    const m = new RegExp(`${name}=("(?:[^"\\\\]|\\\\.)*"|\\S*)`).exec(runtime);
    if (!m) throw new Error(`the Dockerfile runtime stage sets no ${name}`);
    env[name] = m[1].startsWith('"') ? JSON.parse(m[1]) : m[1];
  }
  return env;
}

/** `env` adds to (or overrides) our server's environment: the cache rows turn the response cache on. */
function serverSpec(target, cfg, dbUrl, env = {}) {
  const logDir = path.join(BENCH, 'logs');
  if (target === 'ours') {
    return {
      name: env.RESPONSE_CACHE === 'true' ? `ours-cache-${env.REDIS_URL ? 'redis' : 'memory'}` : env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'ours-tracing' : 'ours',
      script: path.join(BUILD, 'dist/src/main.js'),
      cwd: ROOT,
      env: {
        NODE_ENV: 'production',
        ...imageMemoryEnv(),
        LOG_LEVEL: 'warn',
        DATABASE_URL: dbUrl,
        DB_POOL_MAX: String(cfg.poolMax),
        SHUTDOWN_TIMEOUT_MS: '5000',
        // Authentication stays on (every request carries a bearer token signed with this secret); the
        // per-client rate limit is raised out of the way, or it would be all that is measured.
        JWT_SECRET: cfg.auth.secret,
        RATE_LIMIT_POINTS: '1000000',
        RATE_LIMIT_WINDOW_S: '1',
        // The comparison with PostGraphile (which caches nothing) measures the work of answering: no
        // response cache. The cache rows (measureCache) turn it on.
        RESPONSE_CACHE: 'false',
        ...env,
      },
      logFile: path.join(
        logDir,
        env.RESPONSE_CACHE === 'true' ? 'ours-cache.log' : env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'ours-tracing.log' : env.NODE_OPTIONS === '' ? 'ours-heap.log' : 'ours.log',
      ),
      headers: cfg.headers,
    };
  }
  if (target === 'postgraphile') {
    return {
      name: 'postgraphile',
      script: path.join(BENCH, 'postgraphile/server.mjs'),
      cwd: BENCH,
      env: { NODE_ENV: 'production', DATABASE_URL: dbUrl, DB_POOL_MAX: String(cfg.poolMax), ...env },
      logFile: path.join(logDir, env.NODE_OPTIONS ? 'postgraphile-heap.log' : 'postgraphile.log'),
      headers: cfg.headers,
    };
  }
  if (target === 'floor' || target === 'floorNoEvent') {
    return {
      name: target,
      script: path.join(BENCH, 'hello-world/floor.mjs'),
      cwd: path.join(BENCH, 'hello-world'),
      env: { NODE_ENV: 'production', DATABASE_URL: dbUrl, DB_POOL_MAX: String(cfg.poolMax), FLOOR_EVENT: target === 'floor' ? '1' : '0' },
      logFile: path.join(logDir, `${target}.log`),
      headers: cfg.headers,
    };
  }
  return {
    name: 'hello',
    headers: cfg.headers,
    script: path.join(BENCH, 'hello-world/server.mjs'),
    cwd: path.join(BENCH, 'hello-world'),
    env: { NODE_ENV: 'production' },
    logFile: path.join(logDir, 'hello.log'),
  };
}

/** The database URL through the counting proxy on `port`. */
function viaProxy(dbUrl, port) {
  const url = new URL(dbUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  url.searchParams.set('sslmode', 'disable');
  return url.toString();
}

function proxyTarget(dbUrl) {
  const url = new URL(dbUrl);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 5432) };
}

/** Starts `target` on `dbUrl` behind a counting proxy; resolves to { server, proxy, stop() }. */
async function startBehindProxy(target, cfg, dbUrl, extra = {}, env = {}) {
  const proxy = await startProxyWorker(proxyTarget(dbUrl));
  try {
    const server = await startServer({ ...serverSpec(target, cfg, viaProxy(dbUrl, proxy.port), env), ...extra });
    return {
      server,
      proxy,
      async stop() {
        const exit = await server.stop();
        await proxy.close();
        return exit;
      },
    };
  } catch (error) {
    await proxy.close();
    throw error;
  }
}

let requestHeaders = {};

async function post(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...requestHeaders }, body });
  return { status: res.status, text: await res.text() };
}

// --- Measurements ----------------------------------------------------------------------------------

/**
 * Warm-up, an idle window (statements with no requests: the baseline), then the measured run with the
 * server's peak RSS and the CPU used by the server, the PostgreSQL backends serving it, this process (load
 * generator + proxy) and everything else on the machine (other processes compete for the same cores).
 */
async function measure(cfg, { server, proxy, admin }, label, scenario, isError, counter) {
  if (cfg.warmup > 0) {
    const w = await load({ url: server.url, body: scenario.body, isError, headers: cfg.headers, connections: cfg.connections, seconds: cfg.warmup, startIndex: counter.next });
    counter.next = w.nextIndex;
  }
  await sleep(300);
  let idleStatements = 0;
  let idleSeconds = 0;
  if (proxy && cfg.idle > 0) {
    const i0 = await proxy.counts();
    const t = performance.now();
    await sleep(cfg.idle * 1000);
    const i1 = await proxy.counts();
    idleSeconds = (performance.now() - t) / 1000;
    idleStatements = i1.statements - i0.statements;
  }
  const c0 = proxy ? await proxy.counts() : null;
  const backends0 = c0 ? await backendCpu(admin, c0.upstreamPorts) : {};
  const wal0 = admin ? await walPosition(admin) : null;
  const cpu0 = cpuSecondsOf(server.pid);
  const machine0 = machineBusySeconds();
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const memory = sampleMemory(server.pid);
  if (proxy) await proxy.record(true);
  const r = await load({ url: server.url, body: scenario.body, isError, headers: cfg.headers, connections: cfg.connections, seconds: cfg.duration, startIndex: counter.next });
  counter.next = r.nextIndex;
  await sleep(300); // let requests in flight at the deadline finish their statements
  const mem = memory.stop();
  const elapsed = (performance.now() - t0) / 1000;
  const self = process.cpuUsage(self0);
  const machine = machineBusySeconds() - machine0;
  const serverCpu = cpuSecondsOf(server.pid) - cpu0;
  const c1 = proxy ? await proxy.counts() : null;
  const walWritten = wal0 ? await walSince(admin, wal0) : null;
  const texts = proxy ? await proxy.record(false) : [];
  let backends = 0;
  if (c1) {
    const backends1 = await backendCpu(admin, c1.upstreamPorts);
    for (const [pid, seconds] of Object.entries(backends1)) backends += seconds - (backends0[pid] ?? 0);
  }
  const bench = (self.user + self.system) / 1e6;
  const result = {
    ...r,
    peakRss: mem.maxRss,
    hwm: mem.hwm,
    // WAL written by the whole PostgreSQL server during the run, per request (nothing else of the benchmark writes meanwhile;
    // autovacuum and checkpoints may add a little).
    walPerRequest: walWritten !== null && r.requests ? walWritten / r.requests : undefined,
    cpu: {
      server: serverCpu / elapsed,
      postgres: backends / elapsed,
      bench: bench / elapsed,
      other: Math.max(0, machine - serverCpu - backends - bench) / elapsed,
    },
  };
  if (c0 && c1) {
    const baseline = idleSeconds > 0 ? (idleStatements / idleSeconds) * elapsed : 0;
    result.statements = {
      perRequest: r.requests ? (c1.statements - c0.statements - baseline) / r.requests : NaN,
      txPerRequest: r.requests ? (c1.txControl - c0.txControl) / r.requests : NaN,
      total: c1.statements - c0.statements,
      idleBaseline: baseline,
      connectionsOpened: c1.connections - c0.connections,
      // What ran, most frequent first (texts cut at 200 characters).
      texts: texts
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([text, count]) => ({ text, perRequest: r.requests ? count / r.requests : NaN })),
    };
  }
  const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
  say(
    `    ${label.padEnd(24)} ${f(result.rps, 0).padStart(6)} req/s  p50 ${f(r.p50, 2)} ms  p99 ${f(r.p99, 2)} ms  errors ${r.errorCount}` +
      (result.statements ? `  stmts/req ${f(result.statements.perRequest, 2)}` : '') +
      (result.walPerRequest !== undefined ? `  WAL ${f(result.walPerRequest, 0)} B/req` : '') +
      `  RSS ${f(mem.maxRss / 2 ** 20, 0)} MiB  CPU server ${f(result.cpu.server * 100, 0)}% pg ${f(result.cpu.postgres * 100, 0)}%` +
      ` bench ${f(result.cpu.bench * 100, 0)}% other ${f(result.cpu.other * 100, 0)}%`,
  );
  for (const sample of r.errorSamples) say(`      error sample: ${sample}`);
  return result;
}

/** The server's WAL insert position (an LSN such as 0/3A2F1B8). */
async function walPosition(admin) {
  return (await admin.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn;
}

/** Bytes of WAL written since `lsn` (PostgreSQL's own pg_wal_lsn_diff). */
async function walSince(admin, lsn) {
  return (await admin.query('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::float8 AS bytes', [lsn])).rows[0].bytes;
}

/** Of several rounds of the same measurement, the least disturbed one: the highest throughput. */
function best(runs) {
  const chosen = runs.reduce((a, b) => (b.rps > a.rps ? b : a));
  return { ...chosen, rounds: runs.map((r) => ({ rps: r.rps, p50: r.p50, p99: r.p99, errors: r.errorCount, otherCpu: r.cpu.other })) };
}

/** Each scenario once, sequentially: it must answer with data and no errors before it is measured. */
async function verify(target, server, defs) {
  const problems = [];
  for (const name of scenariosOf(target)) {
    const { status, text } = await post(server.url, defs[name].body(0));
    const problem = status !== 200 ? `HTTP ${status}: ${text.slice(0, 300)}` : defs[name].check(text);
    if (problem) problems.push(`${target} ${name}: ${problem}`);
  }
  return problems;
}

/**
 * The first page of each skew query on the uniform and the skewed database, side by side: `runs` holds a
 * server of the target on each (`uniform`, `skewed`), started together. Both get the same warm-up, then
 * `cfg.skewRequests` measured requests each, one at a time and alternating between the two, so JIT
 * warmth and whatever else the machine is doing weigh on both alike (measured minutes apart on servers
 * of different ages, the ratio of a 6 ms query moved between 1.1× and 2×). Each side's statements (and
 * their text) come from its own proxy.
 */
async function firstPages(cfg, runs, queries) {
  const sides = Object.keys(runs);
  const out = Object.fromEntries(sides.map((side) => [side, {}]));
  // Statements each server runs on its own (background jobs), per second, subtracted below.
  const idleRate = Object.fromEntries(sides.map((side) => [side, 0]));
  if (cfg.idle > 0) {
    const i0 = Object.fromEntries(await Promise.all(sides.map(async (side) => [side, await runs[side].proxy.counts()])));
    const t = performance.now();
    await sleep(cfg.idle * 1000);
    const seconds = (performance.now() - t) / 1000;
    for (const side of sides) idleRate[side] = ((await runs[side].proxy.counts()).statements - i0[side].statements) / seconds;
  }
  for (const [name, body] of Object.entries(queries)) {
    const stats = {};
    for (const side of sides) {
      const { server } = runs[side];
      const first = performance.now();
      const firstResponse = await post(server.url, body);
      stats[side] = { firstMs: performance.now() - first, times: [], problem: firstResponse.status !== 200 ? `HTTP ${firstResponse.status}` : null, edges: null, totalCount: null };
    }
    for (let k = 0; k < cfg.skewWarmup; k++) for (const side of sides) await post(runs[side].server.url, body);
    for (const side of sides) {
      stats[side].c0 = await runs[side].proxy.counts();
      await runs[side].proxy.record(true);
    }
    const t0 = performance.now();
    for (let k = 0; k < cfg.skewRequests; k++) {
      for (const side of k % 2 ? [...sides].reverse() : sides) {
        const st = stats[side];
        const t = performance.now();
        const { status, text } = await post(runs[side].server.url, body);
        st.times.push(performance.now() - t);
        if (status !== 200 || text.includes('"errors"')) st.problem ??= `HTTP ${status}: ${text.slice(0, 300)}`;
        if (k === 0 && !st.problem) ({ edges: st.edges, totalCount: st.totalCount } = shape(text));
      }
    }
    const elapsed = (performance.now() - t0) / 1000;
    for (const side of sides) {
      const st = stats[side];
      const texts = await runs[side].proxy.record(false);
      const c1 = await runs[side].proxy.counts();
      const baseline = idleRate[side] * elapsed;
      st.times.sort((a, b) => a - b);
      out[side][name] = {
        firstMs: st.firstMs,
        median: quantile(st.times, 0.5),
        max: st.times[st.times.length - 1],
        statements: Math.max(0, c1.statements - st.c0.statements - baseline) / cfg.skewRequests,
        idleBaseline: baseline,
        txControl: (c1.txControl - st.c0.txControl) / cfg.skewRequests,
        texts: texts.map(([text, count]) => ({ text, perRequest: count / cfg.skewRequests })),
        edges: st.edges,
        totalCount: st.totalCount,
        problem: st.problem,
      };
    }
  }
  return out;
}

/** Edges and totalCount of the first nested connection in a response: what the page actually held. */
function shape(text) {
  const data = JSON.parse(text).data;
  const root = Object.values(data)[0];
  if (!root) return { edges: null, totalCount: null };
  if (root.edges) {
    return { edges: root.edges.length, totalCount: root.totalCount ?? null };
  }
  const nested = Object.values(root).find((v) => v && typeof v === 'object' && Array.isArray(v.edges));
  return { edges: nested?.edges.length ?? null, totalCount: nested?.totalCount ?? null };
}

// --- Profiles ----------------------------------------------------------------------------------------

/** One server process under `node --cpu-prof`, warm-up then the profiled load; summarizes the load window. */
async function profileRun(cfg, spec, label, scenario, isError, dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const server = await startServer({ ...spec, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
  const counter = { next: 1_000_000 };
  let r;
  let fromUs;
  let toUs;
  try {
    if (cfg.warmup > 0) {
      await load({ url: server.url, body: scenario.body, isError, headers: cfg.headers, connections: cfg.connections, seconds: cfg.warmup, startIndex: counter.next });
      counter.next += 1_000_000;
    }
    fromUs = Number(process.hrtime.bigint() / 1000n);
    r = await load({ url: server.url, body: scenario.body, isError, headers: cfg.headers, connections: cfg.connections, seconds: cfg.profileDuration, startIndex: counter.next });
    toUs = Number(process.hrtime.bigint() / 1000n);
  } finally {
    const exit = await server.stop(30_000);
    if (exit.killed) say(`    ${label}: the profiled server did not exit in time; no profile`);
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return { rps: r.rps, file: null };
  const summary = summarizeProfileFile(path.join(dir, file), { top: 12, fromUs, toUs });
  say(
    `    ${label.padEnd(11)} ${r.rps.toFixed(0).padStart(6)} req/s under the profiler; ${(summary.busyMs / 1000).toFixed(1)} s busy of ` +
      `${(summary.totalMs / 1000).toFixed(1)} s sampled${summary.windowed ? ' (load window only)' : ' (whole process)'}`,
  );
  for (const f of summary.functions.slice(0, 5)) say(`      ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}`);
  return { rps: r.rps, errors: r.errorCount, file: path.relative(ROOT, path.join(dir, file)), summary };
}

/** Whether something accepts TCP connections at the URL's host and port. */
function reachable(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379), timeout: 500 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/**
 * The cache rows: our server with RESPONSE_CACHE=true, in memory and in Redis (BENCH_REDIS_URL, also
 * the rate limiter's store then, as in a deployment), on node by id and the users page. The warm-up
 * fills the cache (100 node bodies, one page; the default TTL, 60 s, outlives the run), so the measured
 * requests are hits: SQL stmts/req near 0 shows it. Same rounds and best-of as the comparison.
 */
async function measureCache(cfg, db, admin, runTag, results) {
  const stores = [['memory', {}]];
  if (await reachable(cfg.redisUrl)) stores.push(['redis', { REDIS_URL: cfg.redisUrl }]);
  else results.notes.push(`No Redis at ${cfg.redisUrl}: the Redis cache rows were skipped (set BENCH_REDIS_URL).`);
  const defs = scenarios('ours', `${runTag}c`);
  for (const [store, env] of stores) {
    phase(`our server with the response cache in ${store}`);
    const live = { ...(await startBehindProxy('ours', cfg, db.uniformUrl, {}, { RESPONSE_CACHE: 'true', ...env })), admin };
    try {
      const runs = {};
      const counter = { next: 0 };
      for (let round = 1; round <= cfg.rounds; round++) {
        for (const name of CACHE_SCENARIOS) {
          const isError = (text) => quickError(true, name, text);
          (runs[name] ??= []).push(await measure(cfg, live, `${name} cache ${store}`, defs[name], isError, counter));
        }
      }
      results.cache[store] = Object.fromEntries(CACHE_SCENARIOS.map((name) => [name, best(runs[name])]));
    } finally {
      await live.stop();
    }
  }
}

/**
 * The tracing rows: our server with OTEL_EXPORTER_OTLP_ENDPOINT set to an OTLP/HTTP sink in this process
 * (answers 200, counts what it gets), every request traced and exported. The plain "ours" rows are the
 * same build with tracing off: the difference is the cost of tracing on, and off is the default path.
 */
async function measureTracing(cfg, db, admin, runTag, results) {
  let posts = 0;
  let bytes = 0;
  const sink = http.createServer((request, response) => {
    request.on('data', (chunk) => (bytes += chunk.length));
    request.on('end', () => {
      posts++;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${sink.address().port}`;
  const defs = scenarios('ours', `${runTag}t`);
  phase('our server with tracing on (OTLP/HTTP to a local sink)');
  const live = { ...(await startBehindProxy('ours', cfg, db.uniformUrl, {}, { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })), admin };
  try {
    const runs = {};
    const counter = { next: 0 };
    for (let round = 1; round <= cfg.rounds; round++) {
      for (const name of TRACING_SCENARIOS) {
        const isError = (text) => quickError(true, name, text);
        (runs[name] ??= []).push(await measure(cfg, live, `${name} tracing on`, defs[name], isError, counter));
      }
    }
    results.tracing = Object.fromEntries(TRACING_SCENARIOS.map((name) => [name, best(runs[name])]));
  } finally {
    await live.stop();
    await deleteLoadUsers(db.uniformUrl);
    await new Promise((resolve) => sink.close(resolve));
  }
  results.notes.push(`Tracing rows: the OTLP sink received ${posts} export requests, ${(bytes / 1048576).toFixed(1)} MiB.`);
  if (posts === 0) results.problems.push('tracing rows: the OTLP sink received nothing (was tracing on?)');
}

/**
 * The heap rows: the same loads with the heap settings swapped, two servers taking turns: ours with
 * V8's default heap (NODE_OPTIONS empty: a heap limit of a quarter of the machine's memory, V8's own
 * young generation) and PostGraphile with our image's heap flags. The main rows run each as it ships
 * (ours capped for the pod's memory limit, PostGraphile uncapped); these show what the cap costs ours
 * in req/s and RSS, and how the two compare on equal heap settings.
 */
async function measureHeap(cfg, db, admin, runTag, results) {
  const capped = imageMemoryEnv().NODE_OPTIONS;
  phase(`heap settings swapped: ours with V8's default heap, PostGraphile with ours (${capped})`);
  const sides = [
    { key: 'oursDefault', target: 'ours', env: { NODE_OPTIONS: '' } },
    { key: 'pglCapped', target: 'postgraphile', env: { NODE_OPTIONS: capped } },
  ].map((side) => ({ ...side, defs: scenarios(side.target, `${runTag}h`), counter: { next: 0 }, runs: {} }));
  const live = {};
  try {
    for (const { key, target, env } of sides) live[key] = { ...(await startBehindProxy(target, cfg, db.uniformUrl, {}, env)), admin };
    for (let round = 1; round <= cfg.rounds; round++) {
      const order = round % 2 === 1 ? sides : [...sides].reverse();
      for (const name of HEAP_SCENARIOS) {
        for (const { key, target, defs, counter, runs } of order) {
          const isError = (text) => quickError(target !== 'postgraphile', name, text);
          (runs[name] ??= []).push(await measure(cfg, live[key], `${name} ${key}`, defs[name], isError, counter));
          if (name === 'createUser') await deleteLoadUsers(db.uniformUrl);
        }
      }
    }
    results.heap = { capped };
    for (const { key, runs } of sides) {
      results.heap[key] = Object.fromEntries(HEAP_SCENARIOS.map((name) => [name, best(runs[name])]));
      for (const name of HEAP_SCENARIOS) {
        const errors = runs[name].reduce((sum, r) => sum + r.errorCount, 0);
        if (errors) results.problems.push(`heap rows, ${name} ${key}: ${errors} failed responses`);
      }
    }
  } finally {
    for (const side of Object.values(live)) await side.stop();
  }
}

/** `npm run build`'s compiler and config, with the output in BUILD/dist. */
async function buildPrivate() {
  rmSync(path.join(BUILD, 'dist'), { recursive: true, force: true });
  mkdirSync(BUILD, { recursive: true });
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', path.join(BUILD, 'dist')], { cwd: ROOT });
}

/**
 * The profile service down, for each of `hang` and `refuse`: our server with PROFILE_SERVICE_URL at a
 * local downstream that is down (batch mode, every PROFILE_* at its default: 1 s timeout, 2 retries,
 * breaker open after more than 3 consecutive failures, half-open after 30 s). The breaker is tripped
 * first, then a page of 20 users selecting `profile` is measured (each answers with the page and
 * DOWNSTREAM_UNAVAILABLE for the profiles, which is not counted as an error), and on the hang server the
 * same page without `profile` as the reference. Every 30 s the breaker half-opens: up to 5 probe
 * requests then wait for their timeout (the others are shed) and the downstream sees them.
 */
async function downstreamDown(cfg, dbUrl) {
  const out = {};
  for (const mode of ['hang', 'refuse']) {
    phase2(`profile service down (${mode}): breaker open`);
    const downstream = await startDownstream(mode);
    // No response cache (as in the comparison): each request must go through the resolvers and the breaker.
    const spec = serverSpec('ours', cfg, dbUrl, { PROFILE_SERVICE_URL: downstream.url, PROFILE_SERVICE_BATCH: 'true' });
    let server;
    try {
      server = await startServer({ ...spec, name: `ours-profile-${mode}`, logFile: path.join(BENCH, 'logs', `ours-profile-${mode}.log`) });
      const tripped = await tripBreaker(server.url, cfg.headers);
      say(`    breaker open after ${tripped.requests} request(s), ${(tripped.ms / 1000).toFixed(1)} s`);
      // Rounds with the order reversed each time, best round reported, as for the comparison above; the
      // breaker is re-opened before each measurement if it half-opened meanwhile (every 30 s).
      const runs = { withProfile: [], withoutProfile: [] };
      let downstreamRequests = 0;
      let stateAfter = NaN;
      const names = mode === 'hang' ? ['withProfile', 'withoutProfile'] : ['withProfile'];
      for (let round = 1; round <= cfg.rounds; round++) {
        for (const name of round % 2 === 1 ? names : [...names].reverse()) {
          if (name === 'withProfile') await tripBreaker(server.url, cfg.headers);
          const before = downstream.requests();
          const label = `${name === 'withProfile' ? 'profile' : 'no profile'}, ${mode}`;
          runs[name].push(await measure(cfg, { server }, label, PROFILE_SCENARIOS[name], profileError, { next: 0 }));
          if (name === 'withProfile') {
            downstreamRequests += downstream.requests() - before;
            stateAfter = await circuitState(server.url);
          }
        }
      }
      const row = { tripped, withProfile: best(runs.withProfile), downstreamRequests, stateAfter };
      if (runs.withoutProfile.length) row.withoutProfile = best(runs.withoutProfile);
      say(`    calls reaching the downstream while measured: ${mode === 'hang' ? downstreamRequests : 'n/a (nothing listens)'}; breaker state after: ${stateAfter}`);
      out[mode] = row;
    } finally {
      await server?.stop();
      await downstream.close();
    }
  }
  return out;
}

const phase2 = (title) => say(`  ${title}`);

// --- Main ------------------------------------------------------------------------------------------

export async function main() {
  const cfg = readConfig();
  cfg.auth = makeAuth(BUSY_USER.id);
  cfg.headers = { authorization: cfg.auth.header };
  requestHeaders = cfg.headers;
  const started = performance.now();
  const results = {
    cfg,
    hello: null,
    ours: {},
    postgraphile: {},
    floor: {},
    floorNoEvent: {},
    cache: {},
    skew: { ours: {}, postgraphile: {} },
    profiles: {},
    problems: [],
    notes: [],
  };
  phase = (title) => say(`\n== ${title}  (${((performance.now() - started) / 1000).toFixed(0)} s)`);

  phase('counting proxy unit check');
  say(`  ${await checkProxy(databaseUrl(cfg.serverUrl, 'postgres'))}`);

  phase(`databases on ${new URL(cfg.serverUrl).host}`);
  const db = await setupDatabases({ serverUrl: cfg.serverUrl, name: cfg.dbName, root: ROOT, say });
  results.db = db;

  if (cfg.build) {
    phase('production build: tsc -p tsconfig.build.json into node_modules/.cache/uag-bench/dist');
    await buildPrivate();
  } else if (!existsSync(path.join(BUILD, 'dist/src/main.js'))) {
    throw new Error(`BENCH_SKIP_BUILD=1 but ${path.relative(ROOT, BUILD)}/dist/src/main.js does not exist`);
  }
  results.machine = await machineInfo(cfg, db.uniformUrl);
  say(`  ${results.machine.cpu}, ${results.machine.cores} cores, node ${results.machine.node}, commit ${results.machine.commit}`);

  if (process.env.BENCH_ONLY === 'downstream') {
    // Just the "profile service down" rows, printed; RESULTS.md is left as it is.
    phase('profile service down: requests selecting User.profile while its breaker is open');
    results.downstream = await downstreamDown(cfg, db.uniformUrl);
    say('');
    say(renderDownstream(results));
    return;
  }

  const runTag = Date.now().toString(36);

  phase('memory of our idle server (heap snapshot on SIGUSR2)');
  {
    const dir = path.join(BENCH, 'profiles', `heap-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const server = await startServer({ ...serverSpec('ours', cfg, db.uniformUrl), nodeArgs: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`] });
    try {
      const m = await idleMemory(server, { dir, headers: cfg.headers, idleMs: Math.max(cfg.idle, 1) * 1000 });
      const { NODE_OPTIONS: nodeOptions, MALLOC_ARENA_MAX: mallocArenaMax } = imageMemoryEnv();
      results.memory = { ...m, file: path.relative(ROOT, m.file), nodeOptions, mallocArenaMax };
      const f = (b) => (b / 2 ** 20).toFixed(1);
      say(
        `  RSS ${f(m.before.rss)} MiB idle (${f(m.before.rss - m.before.anonymous)} file-backed), V8 heap ${f(m.before.heapUsed)} used of ${f(m.before.heapTotal)} MiB; after a full GC: RSS ${f(m.after.rss)}, heap ${f(m.after.heapUsed)} used of ${f(m.after.heapTotal)}`,
      );
      for (const e of m.heap.entries.slice(0, 5)) say(`    ${f(e.bytes).padStart(6)} MiB  ${e.name}`);
    } finally {
      await server.stop();
    }
  }

  if (cfg.ablation || cfg.ablationOnly) {
    phase(`ablation: node by id with one part switched off at a time (${cfg.ablationDuration} s each after ${cfg.warmup} s warm-up)`);
    const spec = serverSpec('ours', cfg, db.uniformUrl);
    const rows = await ablationRows(spec, cfg.ablationVariants);
    results.ablation = await runAblation({
      cfg,
      spec,
      rows,
      scenario: scenarios('ours', `${runTag}a`).node,
      say,
      seconds: cfg.ablationDuration,
      warmup: cfg.warmup,
      slices: cfg.ablationSlices,
      repeats: cfg.ablationRepeats,
    });
    phase(`in-process ablation: node by id, ${cfg.inProcessRounds} cycles of one request to the all-on app and to each variant's, in a shuffled order`);
    results.inProcessAblation = await inProcessAblation({
      spec,
      rows,
      header: cfg.headers.authorization,
      bodies: Array.from({ length: 100 }, (_, i) => scenarios('ours', `${runTag}i`).node.body(i)),
      rounds: cfg.inProcessRounds,
      say,
    });
    for (const r of results.inProcessAblation.rows) say(`    ${r.name.padEnd(70)} ${r.costUs.toFixed(1).padStart(7)} µs (${r.intervalUs.map((x) => x.toFixed(1)).join(' to ')})`);
    if (cfg.ablationOnly) {
      say('');
      say(renderAblationConsole(results.ablation));
      writeFileSync(path.join(BENCH, 'logs', 'ablation.json'), JSON.stringify(results.ablation, null, 2));
      say(`\nBENCH_ABLATION=only: wrote bench/logs/ablation.json; RESULTS.md untouched`);
      return;
    }
  }

  const skewQ = (target) => skewQueries(target, HUGE_TEAM.id, BUSY_USER.id);
  const admin = new pg.Client({ connectionString: databaseUrl(cfg.serverUrl, 'postgres'), application_name: 'bench-admin' });
  await admin.connect();
  try {
    const helloRuns = [];
    const helloRound = async (round) => {
      phase(`hello-world (Yoga ceiling), round ${round}: warm-up ${cfg.warmup} s, ${cfg.duration} s, ${cfg.connections} connections`);
      const server = await startServer(serverSpec('hello', cfg));
      try {
        const hello = { body: () => HELLO };
        const { text } = await post(server.url, HELLO);
        if (!text.includes('"hello":"world"')) throw new Error(`hello-world answered ${text}`);
        helloRuns.push(await measure(cfg, { server }, 'hello', hello, (t) => !t.includes('"hello":"world"'), { next: 0 }));
      } finally {
        await server.stop();
      }
    };
    await helloRound(1);

    // Both servers run side by side (each behind its own counting proxy) and take turns per scenario, in
    // alternating order from round to round, so background load on a shared machine hits both alike.
    phase(`our server, PostGraphile v5 and the stack's floor (Yoga + pg; ${FLOOR_SCENARIOS.join(', ')}; createUser also without its event) on ${db.uniformName}`);
    const defs = Object.fromEntries(TARGETS.map((target) => [target, scenarios(target, runTag)]));
    const live = {};
    try {
      for (const target of TARGETS) {
        live[target] = { ...(await startBehindProxy(target, cfg, db.uniformUrl)), admin };
        const problems = await verify(target, live[target].server, defs[target]);
        for (const p of problems) say(`  PROBLEM ${p}`);
        results.problems.push(...problems);
      }
      await deleteLoadUsers(db.uniformUrl); // the two users the createUser checks made
      const runs = Object.fromEntries(TARGETS.map((target) => [target, {}]));
      const counters = Object.fromEntries(TARGETS.map((target) => [target, { next: 0 }]));
      for (let round = 1; round <= cfg.rounds; round++) {
        const order = round % 2 === 1 ? TARGETS : [...TARGETS].reverse();
        phase(`load round ${round} of ${cfg.rounds}: warm-up ${cfg.warmup} s, idle ${cfg.idle} s, ${cfg.duration} s, ${cfg.connections} connections`);
        for (const name of SCENARIOS) {
          for (const target of order) {
            if (!scenariosOf(target).includes(name)) continue;
            const r = await measure(cfg, live[target], `${name} ${target}`, defs[target][name], (text) => quickError(target !== 'postgraphile', name, text), counters[target]);
            (runs[target][name] ??= []).push(r);
            if (name === 'createUser') await deleteLoadUsers(db.uniformUrl);
          }
        }
      }
      for (const target of TARGETS) {
        for (const name of scenariosOf(target)) results[target][name] = best(runs[target][name]);
        results[target].processPeakRss = memoryOf(live[target].server.pid)?.hwm ?? null;
      }
    } finally {
      for (const target of TARGETS) await live[target]?.stop();
    }
    if (cfg.cacheRows) await measureCache(cfg, db, admin, runTag, results);
    if (cfg.tracingRows) await measureTracing(cfg, db, admin, runTag, results);
    if (cfg.heapRows) await measureHeap(cfg, db, admin, runTag, results);
    if (cfg.rounds > 1) await helloRound(2);
    results.hello = best(helloRuns);

    phase(`first pages on ${db.uniformName} and ${db.skewName}, a server on each, requests alternating`);
    for (const target of ['ours', 'postgraphile']) {
      const runs = {};
      try {
        for (const [side, url] of [
          ['uniform', db.uniformUrl],
          ['skewed', db.skewUrl],
        ]) {
          runs[side] = await startBehindProxy(target, cfg, url, { logFile: path.join(BENCH, 'logs', `${target}-${side}-pages.log`) });
        }
        Object.assign(results.skew[target], await firstPages(cfg, runs, skewQ(target)));
      } finally {
        for (const run of Object.values(runs)) await run.stop();
      }
      say(`  ${target}`);
      for (const [name, u] of Object.entries(results.skew[target].uniform)) {
        const k = results.skew[target].skewed[name];
        say(
          `    ${name.padEnd(11)} uniform ${u.median.toFixed(2)} ms / ${u.statements.toFixed(2)} stmts (${u.edges} edges of ${u.totalCount ?? '?'})` +
            `   skewed ${k.median.toFixed(2)} ms / ${k.statements.toFixed(2)} stmts (${k.edges} edges of ${k.totalCount ?? '?'})` +
            (k.problem ? `  PROBLEM ${k.problem}` : ''),
        );
        if (u.problem) results.problems.push(`${target} uniform ${name}: ${u.problem}`);
        if (k.problem) results.problems.push(`${target} skewed ${name}: ${k.problem}`);
      }
    }
  } finally {
    await admin.end();
  }

  phase('profile service down: requests selecting User.profile while its breaker is open');
  results.downstream = await downstreamDown(cfg, db.uniformUrl);
  for (const [mode, row] of Object.entries(results.downstream)) {
    if (row.stateAfter !== 2) results.problems.push(`profile service down (${mode}): the breaker was not open at the end of a measurement (state ${row.stateAfter})`);
    if (row.withProfile.errorCount) results.problems.push(`profile service down (${mode}): ${row.withProfile.errorCount} failed responses`);
  }

  if (cfg.profile) {
    phase(`CPU profiles of our server and the hello-world (node --cpu-prof; warm-up ${cfg.warmup} s + ${cfg.profileDuration} s each)`);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const defs = scenarios('ours', `${runTag}p`);
    const dir = path.join(BENCH, 'profiles', stamp);
    for (const name of SCENARIOS) {
      const isError = (text) => quickError(true, name, text);
      results.profiles[name] = await profileRun(cfg, serverSpec('ours', cfg, db.uniformUrl), name, defs[name], isError, path.join(dir, name));
      if (name === 'createUser') await deleteLoadUsers(db.uniformUrl);
    }
    const hello = { body: () => HELLO };
    results.profiles.hello = await profileRun(cfg, serverSpec('hello', cfg), 'hello', hello, (t) => !t.includes('"hello":"world"'), path.join(dir, 'hello'));

    phase(`allocation profiles of our server (V8 sampling heap profiler, collected objects counted; warm-up ${cfg.warmup} s + ${cfg.allocDuration} s each)`);
    const allocDefs = scenarios('ours', `${runTag}m`);
    for (const name of SCENARIOS) {
      const a = await allocationRun({
        spec: serverSpec('ours', cfg, db.uniformUrl),
        scenario: allocDefs[name],
        isError: (text) => quickError(true, name, text),
        headers: cfg.headers,
        connections: cfg.connections,
        warmup: cfg.warmup,
        seconds: cfg.allocDuration,
      });
      if (name === 'createUser') await deleteLoadUsers(db.uniformUrl);
      results.profiles[name].alloc = a;
      if (a.errors)
        results.problems.push(
          `allocation profile of ${name}: ${a.errors} failed responses (${JSON.stringify(a.errorKinds)}; first: ${JSON.stringify(a.errorSamples ?? []).slice(0, 300)})`,
        );
      say(
        `    ${name.padEnd(11)} ${(a.bytesPerRequest / 1024).toFixed(1).padStart(7)} KiB allocated per request (${a.packages
          .slice(0, 3)
          .map((p) => `${p.name} ${(p.share * 100).toFixed(0)}%`)
          .join(', ')})`,
      );
    }
  }

  results.seconds = (performance.now() - started) / 1000;
  results.dataset = { ...DATASET, skew: SKEW, hugeTeam: HUGE_TEAM, busyUser: BUSY_USER };
  say('');
  say(renderConsole(results));
  const file = path.join(BENCH, 'RESULTS.md');
  writeFileSync(file, renderMarkdown(results));
  writeFileSync(
    path.join(BENCH, 'logs', 'results.json'),
    JSON.stringify(results, (k, v) => (k === 'auth' || k === 'headers' ? undefined : v), 2),
  );
  say(`\nWrote ${path.relative(process.cwd(), file)} (run took ${results.seconds.toFixed(0)} s)`);
  if (results.problems.length) {
    say(`\n${results.problems.length} problem(s):`);
    for (const p of results.problems) say(`  - ${p}`);
  }
}
