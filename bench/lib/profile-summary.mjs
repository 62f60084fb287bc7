// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time per function and self / inclusive time
// per package, as shares of the non-idle time. CLI: node bench/lib/profile-summary.mjs <file.cpuprofile> [top]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Recognizable costs, by self time of the frames that match (package or function and file). */
const CATEGORIES = [
  ['socket writes (writev/write syscalls)', (pkg, key) => /^(writev|writeBuffer|writeUtf8String|writeLatin1String) /.test(`${key} `)],
  ['garbage collection', (pkg) => pkg === '(garbage collector)'],
  ['AbortSignal bookkeeping (node:internal/abort_controller)', (pkg, key) => key.includes('node:internal/abort_controller')],
  ['JWT verification (jose + WebCrypto jobs)', (pkg, key) => pkg === 'jose' || key.includes('node:internal/crypto')],
  ['Prisma client runtime + query compiler', (pkg) => pkg === '@prisma/client' || pkg === 'wasm' || pkg.startsWith('@prisma/')],
  ['GraphQL parse/validate/execute', (pkg) => pkg === 'graphql' || pkg.startsWith('@graphql-tools/') || pkg === 'grafast'],
  ['pg driver', (pkg) => pkg === 'pg' || pkg === 'pg-protocol' || pkg === 'pg-pool'],
  ['metrics (prom-client)', (pkg) => pkg === 'prom-client'],
  ['logging (pino)', (pkg) => pkg === 'pino' || pkg.startsWith('pino-')],
];

/**
 * The parts of our plugin chain (the ablation's names), by the files of their own code: the share of
 * busy time with such a frame on the stack is what the part's hooks and what they call cost, without the
 * hook runner between plugins (Yoga/envelop's, a fraction of a microsecond per hook). Wrappers of the
 * whole execution (the SQL budget's tally) are left out: everything would be under them.
 */
const PARTS = [
  ['routing', /\/dist\/src\/plugins\/use-routing\.js|\/dist\/src\/(routes|request-info)\.js/],
  [
    'HTTP hardening (media types, body reader, refusal statuses, security headers)',
    /\/dist\/src\/plugins\/use-(content-negotiation|request-error-status|security-headers)\.js|\/dist\/src\/(request-body|request-parsers|media-types)\.js/,
  ],
  ['auth', /\/dist\/src\/plugins\/use-auth\.js|\/dist\/src\/auth\.js/],
  ['rate limit', /\/dist\/src\/plugins\/use-rate-limit\.js|\/dist\/src\/client-address\.js/],
  ['HTTP metrics', /\/dist\/src\/plugins\/use-http-metrics\.js/],
  ['GraphQL metrics', /\/dist\/src\/plugins\/use-graphql-metrics\.js/],
  [
    'operation limits and cost',
    /\/dist\/src\/plugins\/(use-operation-limits|cost-limit|cost-estimate|document-limits|document-size|validation-limits|max-directives|argument-bounds|suggestion-hiding)\.js|graphql-armor/,
  ],
  ['deadline', /\/dist\/src\/plugins\/use-request-deadline\.js|\/dist\/src\/request-signal\.js/],
  ['request logging', /\/dist\/src\/plugins\/use-request-logging\.js/],
  ['error masking and status', /\/dist\/src\/plugins\/use-(error-masking|error-status)\.js/],
];

const SPECIAL = new Set(['(garbage collector)', '(program)', '(idle)', '(root)']);

/** Tracing code: the OpenTelemetry packages and the app's tracing module and plugin. */
const isTracingFrame = (callFrame) => /\/node_modules\/@opentelemetry\/|\/dist\/src\/tracing\/|\/dist\/src\/plugins\/use-tracing\.js/.test(callFrame.url);

/** Where a frame's code lives: an npm package, node core, WASM, the app's own code, or a V8 pseudo-frame. */
export function packageOf(callFrame) {
  const { url, functionName } = callFrame;
  if (!url) return SPECIAL.has(functionName) ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node core';
  if (url.startsWith('wasm://')) return 'wasm';
  const app = url.indexOf('/dist/src/');
  if (app >= 0 && !url.slice(app).includes('/node_modules/'))
    return `app ${url
      .slice(app + 1)
      .split('/')
      .slice(0, 2)
      .join('/')}`;
  const i = url.lastIndexOf('/node_modules/');
  if (i >= 0) {
    const rest = url.slice(i + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0)
    return `app ${url
      .slice(dist + 1)
      .split('/')
      .slice(0, 2)
      .join('/')}`;
  return url.replace(/^file:\/\//, '');
}

/** A frame's file, short: the app's `dist/src/...`, a package's path inside node_modules, or the URL. */
export function shortUrl(url) {
  if (!url) return '';
  const app = url.indexOf('/dist/src/');
  if (app >= 0 && !url.slice(app).includes('/node_modules/')) return url.slice(app + 1);
  const i = url.lastIndexOf('/node_modules/');
  if (i >= 0) return url.slice(i + '/node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

function quantileOf(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) * q)] ?? 0;
}

/**
 * Returns { totalMs, idleMs, busyMs, functions[], packages[], windowed } sorted by self time. With `fromUs` /
 * `toUs` (V8's monotonic clock, the one `process.hrtime` reads) only the samples in that window count, so
 * start-up and warm-up can be left out; when the window misses the profile, every sample counts.
 */
export function summarizeProfile(profile, { top = 15, fromUs = -Infinity, toUs = Infinity } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const { samples, timeDeltas } = profile;
  const windowed = fromUs > profile.startTime && fromUs < profile.endTime;
  // Each sample counts as one sampling interval (the median gap): a gap after a sample is often the
  // process waiting for a core on a busy machine, not time spent in the sampled function.
  const interval = quantileOf(timeDeltas.slice(1), 0.5) / 1000 || 1;
  const selfMs = new Map(); // node id → ms
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i];
    if (windowed && (t < fromUs || t > toUs)) continue;
    selfMs.set(samples[i], (selfMs.get(samples[i]) ?? 0) + interval);
  }

  let totalMs = 0;
  let idleMs = 0;
  const fnSelf = new Map();
  const pkgSelf = new Map();
  const pkgIncl = new Map();
  // Time with tracing code anywhere on the stack: what tracing costs the profiled run.
  let tracingMs = 0;
  const partMs = new Map(PARTS.map(([name]) => [name, 0]));
  for (const [id, ms] of selfMs) {
    const node = byId.get(id);
    const cf = node.callFrame;
    totalMs += ms;
    if (cf.functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    const key = `${cf.functionName || '(anonymous)'}${cf.url ? ` ${shortUrl(cf.url)}:${cf.lineNumber + 1}` : ''}`;
    const fn = fnSelf.get(key) ?? { name: key, package: packageOf(cf), ms: 0 };
    fn.ms += ms;
    fnSelf.set(key, fn);
    const pkg = packageOf(cf);
    pkgSelf.set(pkg, (pkgSelf.get(pkg) ?? 0) + ms);
    // Inclusive: every package on this sample's stack, once.
    const seen = new Set();
    const parts = new Set();
    let traced = false;
    for (let n = id; n !== undefined; n = parent.get(n)) {
      const frame = byId.get(n).callFrame;
      seen.add(packageOf(frame));
      traced ||= isTracingFrame(frame);
      for (const [name, test] of PARTS) if (test.test(frame.url)) parts.add(name);
    }
    for (const p of seen) if (p !== '(root)') pkgIncl.set(p, (pkgIncl.get(p) ?? 0) + ms);
    for (const name of parts) partMs.set(name, partMs.get(name) + ms);
    if (traced) tracingMs += ms;
  }
  const busyMs = totalMs - idleMs;
  const share = (ms) => (busyMs > 0 ? ms / busyMs : 0);
  const categories = CATEGORIES.map(([name, test]) => ({
    name,
    share: share([...fnSelf.values()].filter((f) => test(f.package, f.name)).reduce((a, f) => a + f.ms, 0)),
  })).filter((c) => c.share > 0);
  const functions = [...fnSelf.values()]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top)
    .map((f) => ({ ...f, share: share(f.ms) }));
  const packages = [...pkgSelf.entries()]
    .map(([name, ms]) => ({ name, selfMs: ms, selfShare: share(ms), inclShare: share(pkgIncl.get(name) ?? 0) }))
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, top);
  const ourParts = [...partMs].map(([name, ms]) => ({ name, share: share(ms) }));
  return { totalMs, idleMs, busyMs, functions, packages, categories, ourParts, windowed, tracingShare: share(tracingMs) };
}

export function summarizeProfileFile(file, options) {
  return summarizeProfile(JSON.parse(readFileSync(file, 'utf8')), options);
}

const pct = (x) => `${(x * 100).toFixed(1)}%`;

/** Plain-text rendering for the console. */
export function formatSummary(s) {
  const lines = [
    `profile: ${(s.totalMs / 1000).toFixed(1)} s sampled, ${pct(s.busyMs / s.totalMs)} busy (shares below are of busy time)`,
    'top functions by self time:',
    ...s.functions.map((f) => `  ${pct(f.share).padStart(6)}  ${f.name}`),
    'recognizable costs (self):',
    ...s.categories.map((c) => `  ${pct(c.share).padStart(6)}  ${c.name}`),
    'packages (self / inclusive):',
    ...s.packages.map((p) => `  ${pct(p.selfShare).padStart(6)} / ${pct(p.inclShare).padStart(6)}  ${p.name}`),
    `tracing code (@opentelemetry/*, src/tracing, use-tracing) on the stack: ${(s.tracingShare * 100).toFixed(2)}% of busy time`,
    'parts of our plugin chain (their own code on the stack; not the hook runner between plugins):',
    ...(s.ourParts ?? []).map((p) => `  ${pct(p.share).padStart(6)}  ${p.name}`),
  ];
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bench/lib/profile-summary.mjs <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${formatSummary(summarizeProfileFile(file, { top: Number(top ?? 15) }))}\n`);
}
