// Renders a benchmark run: a plain table for the console and bench/RESULTS.md.

const LABELS = { node: 'node by id', usersPage: 'users page', teamsPage: 'teams page', createUser: 'createUser' };
const PROFILE_LABELS = { ...LABELS, hello: 'Yoga hello-world' };
const SKEW_LABELS = {
  teamMembers: 'team(id) members(first: 20)',
  userTeams: 'user(id) teams(first: 20)',
  teamsPage: 'teams page (20 × 20)',
  usersPage: 'users page (50 × 5)',
};
const SCENARIOS = Object.keys(LABELS);
/**
 * The servers measured under load, as each table names them: ours, PostGraphile, and the stack's floor
 * (Yoga + node-postgres running our one statement and nothing else; node by id and createUser only),
 * also without the outbox event (createUser only).
 */
const SERVERS = [
  ['ours', 'ours'],
  ['postgraphile', 'PostGraphile'],
  ['floor', 'floor (Yoga + pg, our statement only)'],
  ['floorNoEvent', 'floor without the outbox event'],
];

const fix = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const mib = (bytes) => (Number.isFinite(bytes) && bytes > 0 ? `${(bytes / 2 ** 20).toFixed(0)} MiB` : '–');
const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : '–');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
const times = (x, d = 2) => (Number.isFinite(x) ? `${x.toFixed(d)}×` : '–');

function stmts(r) {
  if (!r?.statements) return '–';
  const s = r.statements;
  return `${fix(s.perRequest, 2)}${s.txPerRequest > 0.005 ? ` (${fix(s.txPerRequest, 2)} tx)` : ''}`;
}

function errors(r) {
  if (!r) return '–';
  if (r.errorCount === 0) return '0';
  const e = r.errors;
  const parts = [e.non2xx && `${e.non2xx} non-2xx`, e.graphql && `${e.graphql} GraphQL`, e.socket && `${e.socket} socket`, e.timeouts && `${e.timeouts} timeouts`];
  return `${r.errorCount} (${parts.filter(Boolean).join(', ')})`;
}

function rows(results) {
  const out = [];
  for (const name of SCENARIOS) {
    for (const [target, label] of SERVERS) {
      const r = results[target]?.[name];
      if (r) out.push({ scenario: LABELS[name], server: label, r });
    }
    // Our server again with RESPONSE_CACHE=true: every measured request a cache hit.
    for (const [store, label] of [
      ['memory', 'ours, cache hits (memory)'],
      ['redis', 'ours, cache hits (Redis)'],
    ]) {
      const r = results.cache?.[store]?.[name];
      if (r) out.push({ scenario: LABELS[name], server: label, r });
    }
    // Our server again with OTEL_EXPORTER_OTLP_ENDPOINT set: every request traced and exported.
    const traced = results.tracing?.[name];
    if (traced) out.push({ scenario: LABELS[name], server: 'ours, tracing on (OTLP)', r: traced });
    // The heap settings swapped (measureHeap): ours uncapped, PostGraphile with our image's heap flags.
    const uncapped = results.heap?.oursDefault?.[name];
    if (uncapped) out.push({ scenario: LABELS[name], server: "ours, V8's default heap (no heap flags)", r: uncapped });
    const pglCapped = results.heap?.pglCapped?.[name];
    if (pglCapped) out.push({ scenario: LABELS[name], server: 'PostGraphile, our heap flags', r: pglCapped });
  }
  out.push({ scenario: '{ hello }', server: 'Yoga ceiling', r: results.hello });
  return out;
}

const HEAD = [
  'Scenario',
  'Server',
  'req/s',
  'p50 ms',
  'p99 ms',
  'errors',
  'requests',
  'SQL stmts/req',
  'WAL B/req',
  'peak RSS',
  'CPU server',
  'CPU its PG backends',
  'CPU bench',
  'CPU other procs',
  'req/s per round',
];

function cells({ scenario, server, r }) {
  return [
    scenario,
    server,
    fix(r?.rps, 0),
    fix(r?.p50, 2),
    fix(r?.p99, 2),
    errors(r),
    r ? String(r.requests) : '–',
    stmts(r),
    fix(r?.walPerRequest, 0),
    mib(r?.peakRss),
    pct(r?.cpu?.server),
    pct(r?.cpu?.postgres),
    pct(r?.cpu?.bench),
    pct(r?.cpu?.other),
    r?.rounds ? r.rounds.map((x) => fix(x.rps, 0)).join(' / ') : '–',
  ];
}

function ratioRows(results) {
  const ceiling = results.hello?.rps;
  return SCENARIOS.map((name) => {
    const o = results.ours[name];
    const p = results.postgraphile[name];
    const f = results.floor?.[name];
    const n = results.floorNoEvent?.[name];
    return {
      name,
      label: LABELS[name],
      rps: ratio(o?.rps, p?.rps),
      oursFloor: ratio(o?.rps, f?.rps),
      floorPgl: ratio(f?.rps, p?.rps),
      noEventPgl: ratio(n?.rps, p?.rps),
      eventCost: 1 - ratio(f?.rps, n?.rps),
      p99: ratio(o?.p99, p?.p99),
      ceiling: ratio(o?.rps, ceiling),
      pglCeiling: ratio(p?.rps, ceiling),
      floorCeiling: ratio(f?.rps, ceiling),
      stmts: [o?.statements?.perRequest, p?.statements?.perRequest],
      beats: Number.isFinite(o?.rps) && o.rps >= p?.rps && o.p99 < p?.p99 && o.errorCount === 0,
    };
  });
}

function skewRows(results) {
  const out = [];
  for (const target of ['ours', 'postgraphile']) {
    const s = results.skew[target];
    if (!s?.uniform || !s?.skewed) continue;
    for (const name of Object.keys(SKEW_LABELS)) {
      const u = s.uniform[name];
      const k = s.skewed[name];
      out.push({ target, name, label: SKEW_LABELS[name], u, k, slowdown: ratio(k?.median, u?.median) });
    }
  }
  return out;
}

function table(head, body) {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (i < 2 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function mdTable(head, body, align) {
  const sep = head.map((_, i) => (align?.[i] === 'l' ? '---' : '---:'));
  const esc = (c) => String(c).replace(/\|/g, '\\|');
  return [head, sep, ...body].map((r) => `| ${r.map(esc).join(' | ')} |`).join('\n');
}

function goals(results) {
  const rr = ratioRows(results);
  const node = rr.find((r) => r.name === 'node');
  const lines = [];
  for (const r of rr) {
    lines.push(
      `${r.beats ? 'met' : 'NOT met'}: ${r.label}: ours ${times(r.rps)} PostGraphile's req/s, p99 ${times(r.p99)} of PostGraphile's` +
        ` (goal: ≥ 1.00× req/s with a lower p99, no errors)`,
    );
  }
  const ok = Number.isFinite(node?.ceiling) && node.ceiling >= 0.75;
  lines.push(`${ok ? 'met' : 'NOT met'}: node by id at ${pct(node?.ceiling)} of the Yoga ceiling's req/s (goal: within 25%, i.e. ≥ 75%)`);
  if (Number.isFinite(node?.floorCeiling)) {
    lines.push(
      `context: node by id: the stack's floor (Yoga + pg running our one statement, nothing else) reaches ${pct(node.floorCeiling)} of the Yoga ceiling's req/s, ` +
        (node.floorCeiling < 0.75
          ? "below the 75% goal with none of our code: the distance from { hello } to one statement answered is the stack's (resolving, the pg round trip, the row's serialization)"
          : 'so the stack leaves room for the 75% goal'),
    );
  }
  for (const r of rr.filter((x) => Number.isFinite(x.floorPgl))) {
    lines.push(
      `context: ${r.label}: the stack's floor (Yoga + pg running our one statement, nothing else) serves ${times(r.floorPgl)} PostGraphile's req/s, ` +
        (r.floorPgl < 1 ? 'below the goal before any of our code runs (the stack: Yoga on whatwg-node, graphql-js, node-postgres)' : 'so the stack leaves room for the goal') +
        `; ours serves ${times(r.oursFloor)} the floor's (the cost of our own code)` +
        (Number.isFinite(r.noEventPgl)
          ? `; without the outbox event the floor serves ${times(r.noEventPgl)} PostGraphile's, ` +
            (r.eventCost > 0
              ? `so writing the event in the same statement costs ${pct(r.eventCost)} of the floor's req/s`
              : "so the event's cost is below this run's noise (the floor with it served more)")
          : ''),
    );
  }
  {
    const wal = (target) => results[target]?.createUser?.walPerRequest;
    if (Number.isFinite(wal('ours')) && Number.isFinite(wal('postgraphile'))) {
      const b = (x) => (Number.isFinite(x) ? `${x.toFixed(0)} B` : '–');
      lines.push(
        `context: createUser: WAL per request ours ${b(wal('ours'))} (the user and its outbox event), PostGraphile ${b(wal('postgraphile'))} (the user alone), ` +
          `the floor ${b(wal('floor'))} with the event and ${b(wal('floorNoEvent'))} without`,
      );
    }
  }
  for (const name of SCENARIOS) {
    const uncapped = results.heap?.oursDefault?.[name];
    const pglCapped = results.heap?.pglCapped?.[name];
    const o = results.ours?.[name];
    const p = results.postgraphile?.[name];
    if (!uncapped || !pglCapped || !o || !p) continue;
    lines.push(
      `context: ${LABELS[name]}: on equal heap settings ours serves ${times(ratio(o.rps, pglCapped.rps))} PostGraphile's req/s with our image's heap flags on both (${results.heap.capped}), ` +
        `${times(ratio(uncapped.rps, p.rps))} with V8's default heap on both; the flags cost ours ${pct(1 - ratio(o.rps, uncapped.rps))} of its req/s ` +
        `(peak RSS ${mib(o.peakRss)} with them, ${mib(uncapped.peakRss)} without) and PostGraphile ${pct(1 - ratio(pglCapped.rps, p.rps))} of its own`,
    );
  }
  return lines;
}

/** What most likely limits a figure, from where the CPU went during the run. */
function limitOf(r) {
  if (!r?.cpu) return '–';
  const { server, postgres, bench, other } = r.cpu;
  const total = server + postgres + bench + other;
  const parts = `server ${pct(server)} of a core, its PostgreSQL backends ${pct(postgres)}, load generator + proxy ${pct(bench)}, other processes ${pct(other)}`;
  if (server >= 0.8) return `the server's single JavaScript thread is (nearly) saturated (${parts}): throughput is bounded by its CPU work per request`;
  if (total >= 1.6) {
    return `the machine's two cores are saturated (${parts}): the server gets less than a core because PostgreSQL, the load generator${other >= 0.3 ? ' and other work on the machine' : ''} compete for them`;
  }
  if (postgres >= 0.8) return `PostgreSQL CPU (${parts})`;
  return `no CPU is saturated (${parts}): waiting (round trips, locks, I/O) bounds it`;
}

function topPackages(summary, n = 6) {
  return [...summary.packages]
    .filter((p) => p.name !== '(program)' && p.name !== '(root)')
    .sort((a, b) => b.inclShare - a.inclShare)
    .slice(0, n)
    .map((p) => `${p.name} ${pct(p.inclShare)} incl. / ${pct(p.selfShare)} self`)
    .join(', ');
}

const DOWNSTREAM_HEAD = ['Profile service', 'Query (20 users)', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'requests', 'calls reaching it', 'breaker opened after', 'CPU server'];

/** The "profile service down" rows: breaker open, requests with and without `profile`. */
function downstreamRows(results) {
  const out = [];
  for (const [mode, row] of Object.entries(results.downstream ?? {})) {
    const label = mode === 'hang' ? 'down: hangs' : 'down: refuses';
    const calls = mode === 'hang' ? String(row.downstreamRequests) : 'n/a';
    const tripped = `${row.tripped.requests} req, ${fix(row.tripped.ms / 1000, 1)} s`;
    const cellsOf = (query, r, withCalls) => [
      label,
      query,
      fix(r?.rps, 0),
      fix(r?.p50, 2),
      fix(r?.p99, 2),
      errors(r),
      r ? String(r.requests) : '–',
      withCalls ? calls : '–',
      withCalls ? tripped : '–',
      pct(r?.cpu?.server),
    ];
    out.push(cellsOf('with profile (breaker open)', row.withProfile, true));
    if (row.withoutProfile) out.push(cellsOf('without profile', row.withoutProfile, false));
  }
  return out;
}

// --- Console ---------------------------------------------------------------------------------------

/** Only the "profile service down" table (BENCH_ONLY=downstream). */
export function renderDownstream(results) {
  return table(DOWNSTREAM_HEAD, downstreamRows(results));
}

export function renderConsole(results) {
  const out = [];
  out.push(table(HEAD, rows(results).map(cells)));
  out.push('');
  out.push(
    table(
      ['Scenario', 'ours/PostGraphile req/s', 'ours/PostGraphile p99', 'ours/ceiling', 'PostGraphile/ceiling', 'floor/ceiling', 'ours/floor', 'floor/PostGraphile'],
      ratioRows(results).map((r) => [r.label, times(r.rps), times(r.p99), pct(r.ceiling), pct(r.pglCeiling), pct(r.floorCeiling), times(r.oursFloor), times(r.floorPgl)]),
    ),
  );
  out.push('');
  out.push(...goals(results));
  out.push('');
  out.push(
    table(
      ['Skew query', 'Server', 'uniform median ms', 'stmts', 'skewed median ms', 'stmts', 'skewed/uniform'],
      skewRows(results).map((s) => [s.label, s.target, fix(s.u?.median, 2), fix(s.u?.statements, 1), fix(s.k?.median, 2), fix(s.k?.statements, 1), times(s.slowdown, 1)]),
    ),
  );
  if (results.downstream) {
    out.push('');
    out.push(table(DOWNSTREAM_HEAD, downstreamRows(results)));
  }
  for (const [name, p] of Object.entries(results.profiles ?? {})) {
    if (!p?.summary) continue;
    out.push('');
    out.push(`profile ${PROFILE_LABELS[name]} (${fix(p.rps, 0)} req/s under the profiler): ${topPackages(p.summary)}`);
    for (const f of p.summary.functions.slice(0, 8)) out.push(`  ${pct(f.share).padStart(4)}  ${f.name}`);
  }
  return out.join('\n');
}

// --- RESULTS.md ------------------------------------------------------------------------------------

export function renderMarkdown(results) {
  const { machine: m, cfg, db } = results;
  const L = [];
  L.push('# Benchmark results');
  L.push('');
  L.push(
    `Written by \`npm run bench\` (bench/run.mjs) on ${m.date}; the whole run took ${fix(results.seconds, 0)} s. ` +
      'Every figure below was measured in that run; run it again to refresh this file.',
  );
  L.push('');
  L.push('## Machine');
  L.push('');
  L.push(`- CPU: ${m.cpu}, ${m.cores} cores; memory ${fix(m.memoryGiB, 1)} GiB; ${m.kernel}`);
  L.push(`- Node ${m.node}; ${m.postgres}`);
  L.push(
    `- PostgreSQL settings: ${Object.entries(m.postgresSettings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  );
  L.push(
    `- Code: commit ${m.commit}. Production build: the project's \`tsc -p tsconfig.build.json\` (what \`npm run build\` runs) into a private copy of dist/ ` +
      '(node_modules/.cache/uag-bench, so concurrent builds cannot swap it), started as `node dist/src/main.js` with NODE_ENV=production, LOG_LEVEL=warn, ' +
      'a JWT_SECRET (every request carries an HS256 ADMIN bearer token, also sent to the references, which ignore it) and the rate limit raised to 1,000,000 per second.',
  );
  L.push(
    `- Versions: ${Object.entries(m.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  L.push('');
  L.push('Everything (servers, PostgreSQL, load generator, proxy) shares the same cores, so the figures are for comparison on this machine, not capacity planning.');
  L.push('');
  L.push('## Method');
  L.push('');
  L.push(
    `- Dataset \`${db.uniformName}\`: ${db.counts.users} users, ${db.counts.teams} teams, ${db.counts.memberships} memberships, made with the project's ` +
      '`npm run db:migrate` and seed CLI (`npm run db:seed -- --users 10000 --teams 1000 --memberships-per-user 5`), then `VACUUM ANALYZE`.',
  );
  L.push(
    `- Each scenario: ${cfg.warmup} s warm-up, ${cfg.idle} s idle (statement baseline), then ${cfg.duration} s measured with autocannon, ` +
      `${cfg.connections} connections, POST /graphql on 127.0.0.1. Every server uses a database pool of ${cfg.poolMax} connections. Latency percentiles are exact (every response time kept).`,
  );
  L.push(
    "- The stack's floor (bench/hello-world/floor.mjs): GraphQL Yoga on node:http with node-postgres, the same versions as ours, answering our node by id and createUser " +
      'queries with the one statement ours runs for each (our statement with its constant parameters written inline, a named prepared statement as ours are; createUser writes its outbox event too) and nothing else: no ' +
      'authentication, validation, limits, metrics, logging, error masking, DataLoader, Pothos or Prisma. What ours spends above the floor is what our own code costs; ' +
      "the floor is what any server on this stack pays for the same answer. On createUser a second floor server runs too, whose statement inserts the user alone (as PostGraphile's does): " +
      'between the two is what the outbox event costs.',
  );
  L.push(
    '- "WAL B/req": bytes of write-ahead log the PostgreSQL server wrote during the measured run (`pg_current_wal_insert_lsn()` before and after; nothing else of ' +
      'the benchmark writes meanwhile, autovacuum and checkpoints may add a little), per request: what a write costs the database in log volume, which replicas, backups and the disk all carry. Reads write next to none.',
  );
  L.push(
    `- Ours, PostGraphile and the floor run side by side and take turns scenario by scenario, in ${cfg.rounds} round(s) with the order reversed each round; the Yoga ceiling is measured ` +
      'before and after. The table shows, per server and scenario, the round with the highest throughput (the least disturbed one); "req/s per round" lists them all. ' +
      'The machine is shared (other work may be running: see "CPU other procs"), so compare figures from the same run.',
  );
  L.push(
    '- Queries: node by id rotates over 100 users (ours: `node(id)` with the user fields; PostGraphile: `userByRowId(rowId)`, same fields); ' +
      'users page = 50 users (creation order) × their first 5 teams (role + team id, name) + totalCount; teams page = 20 teams (slug order) × their first 20 members ' +
      "(role + user id, email) + both totalCounts; createUser with a unique email per request (the created users are deleted after each run). PostGraphile's are the Amber preset's " +
      '`allUsers` / `membershipsByUserId` / `teamByTeamId`, `allTeams` / `membershipsByTeamId` / `userByUserId`, `createUser` with the same orderings. Exact texts: bench/lib/queries.mjs.',
  );
  L.push(
    '- Response cache: the comparison with PostGraphile runs ours with `RESPONSE_CACHE=false` (the work of answering, which PostGraphile does every time). ' +
      'The "cache hits" rows run ours again with `RESPONSE_CACHE=true` on node by id and the users page, the same way (warm-up, idle, measured run, best of the rounds): ' +
      'the warm-up fills the cache, so the measured requests are hits (SQL stmts/req near 0 shows it). "(memory)": each process\'s own cache; "(Redis)": the shared store at ' +
      '`BENCH_REDIS_URL` (default redis://127.0.0.1:6379), which then also holds the rate limit budgets, as in a deployment with `REDIS_URL`.' +
      (results.notes?.length ? ` ${results.notes.join(' ')}` : ''),
  );
  L.push('- Errors: non-2xx responses, socket errors and timeouts, plus 200 responses with a GraphQL `errors` entry (for createUser also a result that is not a success).');
  L.push(
    "- SQL statements per request: a TCP proxy (bench/lib/pg-proxy.mjs, unit-checked at the start of every run) sits between each server and PostgreSQL and counts the frontend protocol's " +
      'Query (`Q`) and Execute (`E`) messages; (statements in the run − idle baseline) ÷ requests completed. BEGIN/COMMIT/ROLLBACK are counted too; "tx" shows how many of them per request.',
  );
  L.push(
    '- Peak RSS: the maximum VmRSS of the server process sampled every 100 ms during the measured run (/proc/<pid>/status). CPU: CPU seconds used during the run ÷ wall time, ' +
      'from /proc: the server process; the PostgreSQL backends behind its proxy connections (pg_stat_activity.client_port); this benchmark process (load generator + proxy); ' +
      'and everything else on the machine (/proc/stat busy time minus those). 100% = one core.',
  );
  L.push('');
  L.push('## Results');
  L.push('');
  L.push(mdTable(HEAD, rows(results).map(cells), ['l', 'l']));
  L.push('');
  if (results.ours.processPeakRss || results.postgraphile.processPeakRss) {
    L.push(`Whole-process peak RSS (VmHWM) over all four scenarios: ours ${mib(results.ours.processPeakRss)}, PostGraphile ${mib(results.postgraphile.processPeakRss)}.`);
    L.push('');
  }
  L.push('### Ratios');
  L.push('');
  L.push(
    mdTable(
      [
        'Scenario',
        'ours ÷ PostGraphile req/s',
        'ours ÷ PostGraphile p99',
        'ours ÷ Yoga ceiling req/s',
        'PostGraphile ÷ Yoga ceiling req/s',
        'floor ÷ Yoga ceiling req/s',
        'ours ÷ floor req/s',
        'floor ÷ PostGraphile req/s',
        'SQL stmts/req ours / PostGraphile',
      ],
      ratioRows(results).map((r) => [
        r.label,
        times(r.rps),
        times(r.p99),
        pct(r.ceiling),
        pct(r.pglCeiling),
        pct(r.floorCeiling),
        times(r.oursFloor),
        times(r.floorPgl),
        `${fix(r.stmts[0], 2)} / ${fix(r.stmts[1], 2)}`,
      ]),
      ['l'],
    ),
  );
  L.push('');
  L.push('### Goals');
  L.push('');
  for (const g of goals(results)) L.push(`- ${g}`);
  L.push('');
  L.push('### SQL per request under load');
  L.push('');
  L.push('The statements each server ran during the measured run of the best round, per request (texts cut at 200 characters):');
  L.push('');
  for (const name of SCENARIOS) {
    for (const [target, label] of SERVERS) {
      const st = results[target]?.[name]?.statements;
      if (!st?.texts?.length) continue;
      L.push(`- ${LABELS[name]}, ${label}: ${fix(st.perRequest, 2)} statements per request`);
      for (const t of st.texts) L.push(`  - ${fix(t.perRequest, 2)}× \`${t.text.replace(/`/g, "'")}${t.text.length >= 200 ? '…' : ''}\``);
    }
  }
  L.push('');
  if (results.downstream) {
    L.push('## Profile service down: the breaker sheds load');
    L.push('');
    L.push(
      'Our server alone (same build and settings) with `PROFILE_SERVICE_URL` at a local downstream on 127.0.0.1 that is down: it accepts connections and never answers ' +
        '("hangs"), or nothing listens on its port ("refuses"). `PROFILE_SERVICE_BATCH=true`, every other `PROFILE_*` at its default (1 s timeout, 2 retries, breaker open after ' +
        'more than 3 consecutive failures, half-open after 30 s). Requests selecting `profile` are sent one at a time until `/metrics` shows the breaker open, then ' +
        `the page of 20 users with \`profile\` is measured (${cfg.warmup} s warm-up, ${cfg.duration} s, ${cfg.connections} connections): each answer has the page and ` +
        'a `DOWNSTREAM_UNAVAILABLE` error per profile, which is what it should get and is not counted as an error. The same page without `profile` on the same server is the reference; ' +
        `the two take turns in ${cfg.rounds} round(s), the best round of each is shown, and the breaker is re-opened before each measurement if it half-opened. ` +
        'Every 30 s the breaker half-opens: up to 5 probe requests wait for their timeout and reach the downstream ("calls reaching it", during the measured windows), the others are shed.',
    );
    L.push('');
    L.push(mdTable(DOWNSTREAM_HEAD, downstreamRows(results), ['l', 'l']));
    L.push('');
  }
  L.push('## Skewed vs uniform: the cost of a page must follow the page');
  L.push('');
  L.push(
    `\`${db.skewName}\` is \`${db.uniformName}\` plus ${db.skewCounts.hugeTeamMembers - db.counts.memberships / db.counts.teams} more users who all joined team-1 ` +
      `(${db.skewCounts.hugeTeamMembers} members) and user 1 in all ${db.skewCounts.busyUserTeams} teams; ${db.skewCounts.users} users and ${db.skewCounts.memberships} memberships in all. ` +
      `Team-1 heads the teams page and user 1 the users page. Each query runs against the same team/user in the uniform database (50 members, 5 teams) on a server of its own, started beside the skewed one: ` +
      `${cfg.skewWarmup + 1} requests to each to warm up, then ${cfg.skewRequests} measured requests each, one at a time, alternating between the two; the table gives their medians.`,
  );
  L.push('');
  L.push(
    mdTable(
      ['Query', 'Server', 'uniform median ms', 'uniform stmts', 'uniform page', 'skewed median ms', 'skewed stmts', 'skewed page', 'skewed ÷ uniform'],
      skewRows(results).map((s) => [
        s.label,
        s.target === 'ours' ? 'ours' : 'PostGraphile',
        fix(s.u?.median, 2),
        fix(s.u?.statements, 1),
        page(s.u),
        fix(s.k?.median, 2),
        fix(s.k?.statements, 1),
        page(s.k),
        times(s.slowdown, 1),
      ]),
      ['l', 'l'],
    ),
  );
  L.push('');
  L.push(
    '"page" is edges shown / totalCount of the first page (for the pages: of the connection at the top). Statements exclude the server’s own background statements (an idle baseline, as under load). Statement texts of our server on the skewed database (per request):',
  );
  L.push('');
  for (const [name, r] of Object.entries(results.skew.ours?.skewed ?? {})) {
    L.push(`- ${SKEW_LABELS[name]}: ${fix(r.median, 2)} ms, ${fix(r.statements, 1)} statements`);
    for (const t of r.texts) L.push(`  - ${fix(t.perRequest, 1)}× \`${t.text.replace(/`/g, "'")}${t.text.length >= 200 ? '…' : ''}\``);
  }
  L.push('');
  L.push('## What limits each figure');
  L.push('');
  L.push(
    "From the CPU split of each measured run and from CPU profiles of our server (`node --cpu-prof`, one process per scenario, the same load; shares are of the profile's busy time " +
      'inside the load window; "incl." = time with that package anywhere on the stack). Profiles are under bench/profiles/ (not committed); summarize one with ' +
      '`node bench/lib/profile-summary.mjs <file>`.',
  );
  L.push('');
  for (const name of SCENARIOS) {
    L.push(`### ${LABELS[name]}`);
    L.push('');
    for (const [target, label] of SERVERS) if (results[target]?.[name]) L.push(`- ${label}: ${limitOf(results[target][name])}.`);
    const prof = results.profiles?.[name];
    if (prof?.summary) {
      L.push(`- Profile of ours (${fix(prof.rps, 0)} req/s under the profiler, ${prof.file}): ${topPackages(prof.summary)}.`);
      L.push(`- Recognizable costs (self time): ${categoryLine(prof.summary)}.`);
      L.push(`- ${tracingOffLine(prof.summary)}`);
      L.push('');
      L.push(
        mdTable(
          ['self %', 'function (package path:line)'],
          prof.summary.functions.slice(0, 10).map((f) => [pct(f.share), `\`${f.name}\``]),
          ['r', 'l'],
        ),
      );
    }
    if (prof?.alloc) L.push('', ...allocationLines(prof.alloc));
    L.push('');
  }
  L.push('### Yoga ceiling ({ hello })');
  L.push('');
  L.push(`- ${limitOf(results.hello)}.`);
  const hp = results.profiles?.hello;
  if (hp?.summary) {
    L.push(`- Profile of the hello-world (${fix(hp.rps, 0)} req/s under the profiler, ${hp.file}): ${topPackages(hp.summary)}.`);
    L.push(`- Recognizable costs (self time): ${categoryLine(hp.summary)}.`);
    L.push('');
    L.push(
      mdTable(
        ['self %', 'function (package path:line)'],
        hp.summary.functions.slice(0, 10).map((f) => [pct(f.share), `\`${f.name}\``]),
        ['r', 'l'],
      ),
    );
  }
  L.push('');
  if (results.problems.length) {
    L.push('## Problems seen in this run');
    L.push('');
    for (const p of results.problems) L.push(`- ${p}`);
    L.push('');
  }
  if (results.memory) L.push(...memorySection(results.memory), '');
  if (results.ablation) L.push(...ablationSection(results.ablation), '');
  if (results.inProcessAblation) L.push(...inProcessAblationSection(results.inProcessAblation, results.ours.node), '');
  L.push('## Reproduce');
  L.push('');
  L.push(
    '`npm run bench` (installs bench/ dependencies on first use; needs PostgreSQL on 127.0.0.1:5432, or `BENCH_DATABASE_URL`). ' +
      'Knobs: `BENCH_DURATION` (s, default 10), `BENCH_WARMUP` (3), `BENCH_CONNECTIONS` (10), `BENCH_POOL_MAX` (10), `BENCH_SKEW_REQUESTS` (100), `BENCH_SKEW_WARMUP` (30), ' +
      '`BENCH_PROFILE_DURATION` (8), `BENCH_ALLOC_DURATION` (5), `BENCH_PROFILE=0` (no CPU or allocation profiles), `BENCH_SKIP_BUILD=1`, `BENCH_DB_NAME` (uag_bench), `BENCH_REDIS_URL` (redis://127.0.0.1:6379), `BENCH_CACHE=0` (no cache rows), `BENCH_ABLATION=1` (the ablation table), `BENCH_TRACING=0` (no tracing rows), `BENCH_HEAP=0` (no rows with the heap settings swapped).',
  );
  L.push('');
  return L.join('\n');
}

/**
 * Tracing off (the default; every profile runs so): the share of the profiled load with OpenTelemetry code
 * on the stack, i.e. what the tracing that is not exporting costs. Issue 14's "no cost when off".
 */
/** The allocation profile of one scenario (alloc-profile.mjs): per request, by package and by function. */
function allocationLines(a) {
  const kib = (bytes) => (bytes / 1024).toFixed(1);
  return [
    `- Allocated per request: **${kib(a.bytesPerRequest)} KiB** (V8's sampling heap profiler with collected objects counted, ${a.seconds} s of the same load, ${fix(a.rps, 0)} req/s, in a process of its own); ` +
      `by package: ${a.packages.map((p) => `${p.name} ${pct(p.share)}`).join(', ')}.`,
    '',
    mdTable(
      ['KiB/req', 'share', 'allocating function (package path:line)'],
      a.functions.slice(0, 8).map((f) => [kib(f.bytesPerRequest), pct(f.share), `\`${f.name}\``]),
      ['r', 'r', 'l'],
    ),
  ];
}

function tracingOffLine(summary) {
  const share = summary.tracingShare ?? 0;
  return `Tracing off (the default): OpenTelemetry code (\`@opentelemetry/*\`, \`src/tracing/\`, \`use-tracing\`) on the stack in ${(share * 100).toFixed(2)}% of the busy samples${share === 0 ? ' (none)' : ''}.`;
}

function categoryLine(summary) {
  return [...(summary.categories ?? [])]
    .sort((a, b) => b.share - a.share)
    .map((c) => `${c.name} ${pct(c.share)}`)
    .join(', ');
}

function page(r) {
  if (!r) return '–';
  if (r.problem) return `error: ${r.problem.slice(0, 80)}`;
  return `${r.edges ?? '?'} / ${r.totalCount ?? '?'}`;
}

// --- Memory --------------------------------------------------------------------------------------

/** Markdown lines: what the idle server's RSS is made of (bench/lib/memory.mjs). */
export function memorySection(m) {
  const b = m.before;
  const a = m.after;
  const fileBacked = b.rss - b.anonymous;
  const rest = b.anonymous - b.heapTotal - b.external;
  const L = ['## Memory of the idle server', ''];
  L.push(
    `Our server started as in production (\`NODE_OPTIONS=${m.nodeOptions}\`${m.mallocArenaMax ? `, \`MALLOC_ARENA_MAX=${m.mallocArenaMax}\`` : ''}, from the Dockerfile), a few requests, then idle; ` +
      `the heap snapshot (\`${m.file}\`, not committed) runs a full GC first. Summarize one with \`node bench/lib/heap-summary.mjs <file>\`.`,
  );
  L.push('');
  L.push(
    mdTable(
      ['part', 'idle', 'after the full GC'],
      [
        // After the snapshot RSS is inflated by the snapshot writer's own buffers: not shown.
        ['RSS', mib(b.rss), '–'],
        ['file-backed (node binary, libraries)', mib(fileBacked), '–'],
        ['V8 heap committed', mib(b.heapTotal), mib(a.heapTotal)],
        ['V8 heap used', mib(b.heapUsed), mib(a.heapUsed)],
        ['external (Buffers, ArrayBuffers)', mib(b.external), mib(a.external)],
        ['other anonymous (WASM memory and code, malloc, stacks)', mib(rest), '–'],
      ],
      ['l', 'r', 'r'],
    ),
  );
  L.push('');
  L.push(
    `V8 heap spaces used (idle): ${Object.entries(b.spaces)
      .filter(([, v]) => v >= 2 ** 19)
      .map(([k, v]) => `${k} ${mib(v)}`)
      .join(', ')}.`,
  );
  L.push('');
  L.push(`Reachable heap after GC by constructor (self size; ${fix(m.heap.totalBytes / 2 ** 20, 1)} MiB in ${m.heap.nodes} objects):`);
  L.push('');
  L.push(
    mdTable(
      ['self size', 'objects', 'constructor / kind'],
      m.heap.entries.map((e) => [`${fix(e.bytes / 2 ** 20, 2)} MiB`, String(e.count), `\`${e.name}\``]),
      ['r', 'r', 'l'],
    ),
  );
  if (m.heap.largest?.length) {
    L.push('');
    L.push('Largest single objects (module sources and data strings):');
    L.push('');
    L.push(
      mdTable(
        ['self size', 'kind', 'starts with'],
        m.heap.largest.map((e) => [`${fix(e.bytes / 2 ** 20, 2)} MiB`, e.type, `\`${e.name.replace(/`/g, "'")}\``]),
        ['r', 'l', 'l'],
      ),
    );
  }
  return L;
}

// --- Ablation ------------------------------------------------------------------------------------

function ablationRows(a) {
  return [
    ['nothing (all on, every turn)', '', fix(a.baseline.rps, 0), '–', fix(a.baseline.cpuMs, 3), '–', String(a.baseline.errors)],
    ...a.variants.map((v) => [
      v.name,
      v.off.join(', '),
      `${fix(v.rps, 0)} (all on ${fix(v.baseRps, 0)})`,
      `${fix(v.cost * 100, 1)}%`,
      `${fix(v.cpuMs, 3)} (all on ${fix(v.baseCpuMs, 3)})`,
      v.pairs?.length > 1 ? `${fix(v.cpuCost * 100, 1)}% (pairs: ${v.pairs.map((p) => fix(p.cpuCost * 100, 1)).join(', ')})` : `${fix(v.cpuCost * 100, 1)}%`,
      String(v.errors),
    ]),
  ];
}

const ABLATION_HEAD = ['switched off', 'DIAGNOSTIC_DISABLE_PLUGINS', 'node by id req/s', 'cost by req/s', 'server CPU ms/req', 'cost by CPU', 'errors'];

export function renderAblationConsole(a) {
  return table(ABLATION_HEAD, ablationRows(a));
}

/** Markdown lines: the in-process ablation (bench/lib/inprocess-ablation.mjs). */
function inProcessAblationSection(a, node) {
  // The share is of our server's CPU per node-by-id request in the comparison run (autocannon, one process).
  const serverUs = node?.rps ? (node.cpu.server * 1e6) / node.rps : NaN;
  const share = (us) => `${fix((100 * us) / serverUs, 1)}%`;
  return [
    '### The same, in one process',
    '',
    `One process holds an all-on app and one app per row (\`createApp\` with the row's parts off), each behind a node:http server of its own on the same database pool ` +
      '(and, made first, one more all-on app that serves every cycle but is never measured: the first instance of the app in a process ran 15-21 µs slower than any later identical one), ' +
      `and sends node by id to them over kept-alive connections one request at a time: ${a.rounds} cycles of one request to each app, the same request to all, ` +
      "in an order shuffled each cycle. A row's cost is the median of the cycles' differences in request time between the all-on app and the row's app " +
      '(one request at a time, that time is CPU work plus waits that are alike for every app: the database, the loopback), with a 95 % bootstrap interval; ' +
      "its share is of our server's CPU per node-by-id request in the comparison above" +
      (Number.isFinite(serverUs) ? ` (${fix(serverUs, 0)} µs).` : '.') +
      ` Both sides of a pair run within milliseconds of each other, so the machine's drift cancels; the control row (two identical all-on apps) shows what is left of the method's error, a few µs either way. All on: ${fix(a.allOnUs, 0)} µs per request (median).`,
    '',
    mdTable(
      ['switched off', 'cost µs/req', '95 % interval', 'share of server CPU/req', 'errors'],
      a.rows.map((r) => [r.name, fix(r.costUs, 1), `${fix(r.intervalUs[0], 1)} – ${fix(r.intervalUs[1], 1)}`, share(r.costUs), String(r.errors)]),
      ['l', 'r', 'r', 'r', 'r'],
    ),
  ];
}

/** Markdown lines: the ablation table (bench/lib/ablation.mjs). */
function ablationSection(a) {
  return [
    '## Ablation: what each part of our chain costs on node by id',
    '',
    `For each row a fresh all-on server and the row's server start side by side (neither behind the counting proxy), are warmed up alike, ` +
      `then the two take ${a.slices} alternating turns of ${fix(a.seconds / a.slices, 1)} s each, so each cost is against its own all-on turns` +
      (a.repeats > 1 ? `; each row does this with ${a.repeats} fresh pairs (their costs in brackets) and sums their turns. ` : '. ') +
      '`DIAGNOSTIC_DISABLE_PLUGINS` switches the parts off (a benchmarking aid, see README). Cost by req/s = 1 − rps(all on) / rps(switched off); ' +
      'cost by CPU = 1 − CPU ms per request (switched off) / CPU ms per request (all on), the server process only, less disturbed by other load on the machine. ' +
      `The spread of the all-on turns from row to row shows the noise, and the control row measures it: two all-on servers against each other, ` +
      'so its "cost" is the method\'s error on this machine; a cost within it is not measured. ' +
      'Without auth, node(id) answers UNAUTHENTICATED (another, shorter path): that row is not a cost.',
    '',
    mdTable(ABLATION_HEAD, ablationRows(a), ['l', 'l', 'r', 'r', 'r', 'r', 'r']),
  ];
}
