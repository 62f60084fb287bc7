// Ablation of our plugin chain on node by id: the same server started again with one part switched
// off at a time (DIAGNOSTIC_DISABLE_PLUGINS, accepted only with its acknowledgement; see README), then
// groups. The cost of a part is the share of a request's time it takes: 1 - rps(all on) / rps(it off),
// and, less disturbed by other processes on a shared machine, the share of the server's CPU time per
// request: 1 - cpu/req(it off) / cpu/req(all on), each against all-on turns taken in between its own.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { load } from './load.mjs';
import { quickError } from './queries.mjs';
import { cpuSecondsOf, startServer } from './servers.mjs';

const ACK = 'i-am-benchmarking-and-this-server-is-unprotected';

/** Each alone, then groups: issue 9's "cost of hardening" and the whole chain. */
export const VARIANTS = [
  // Two all-on servers against each other: whatever "cost" this row shows is the method's noise.
  { name: 'nothing (control: a second all-on server)', off: [] },
  { name: 'auth', off: ['auth'] },
  { name: 'rate limit', off: ['rateLimit'] },
  { name: 'request id/info (context)', off: ['requestInfo'] },
  { name: 'request logging', off: ['requestLogging'] },
  { name: 'HTTP metrics', off: ['httpMetrics'] },
  { name: 'GraphQL metrics', off: ['graphqlMetrics'] },
  { name: 'operation limits and cost', off: ['operationLimits'] },
  { name: 'deadline', off: ['deadline'] },
  { name: 'error masking report', off: ['masking'] },
  { name: 'error status', off: ['errorStatus'] },
  { name: 'routing', off: ['routing'] },
  { name: 'HTTP hardening', off: ['httpHardening'] },
  { name: 'probes (health, ready, metrics)', off: ['probes'] },
  // Not a cost but a speed-up: what interpreting every query (graphql-tools' executor) would cost instead.
  { name: 'compiled queries (graphql-jit)', off: ['compiledQueries'] },
  {
    name: 'hardening: routing, refusals, limits, rate limit, deadline, bounded metrics',
    off: ['routing', 'httpHardening', 'operationLimits', 'rateLimit', 'deadline', 'httpMetrics', 'graphqlMetrics'],
  },
  {
    // Auth stays: without it node(id) answers UNAUTHENTICATED, another path (see the auth row's errors).
    // Every other name the server accepts, read from the build under test (config.ts's DIAGNOSTIC_PLUGINS),
    // but compiled queries, which save work rather than cost it.
    name: 'everything switchable but auth',
    off: (switchable) => switchable.filter((part) => part !== 'auth' && part !== 'compiledQueries'),
  },
];

/** One load slice on `server`: requests, seconds, server CPU seconds, errors. */
async function slice(server, common, seconds, startIndex) {
  const cpu0 = cpuSecondsOf(server.pid);
  const r = await load({ ...common, url: server.url, seconds, startIndex });
  return { requests: r.requests, seconds: r.seconds, cpu: cpuSecondsOf(server.pid) - cpu0, errors: r.errorCount, sample: r.errorSamples[0], p50: r.p50 };
}

function sum(slices) {
  const t = slices.reduce((a, b) => ({ requests: a.requests + b.requests, seconds: a.seconds + b.seconds, cpu: a.cpu + b.cpu, errors: a.errors + b.errors }), {
    requests: 0,
    seconds: 0,
    cpu: 0,
    errors: 0,
  });
  return { rps: t.requests / t.seconds, cpuMs: t.requests ? (t.cpu * 1000) / t.requests : NaN, errors: t.errors, sample: slices.find((x) => x.sample)?.sample };
}

/**
 * The VARIANTS rows named by `only` (prefixes; all when empty), each with its `off` list resolved against
 * the names the build under test accepts and the environment that switches them off: `spec.env` plus
 * DIAGNOSTIC_DISABLE_PLUGINS and its acknowledgement. Both ablations (here and inprocess-ablation.mjs) run these.
 */
export async function ablationRows(spec, only = []) {
  const chosen = only.length ? VARIANTS.filter((v) => only.some((name) => v.name.startsWith(name))) : VARIANTS;
  if (chosen.length === 0) throw new Error(`BENCH_ABLATION_VARIANTS matches none of: ${VARIANTS.map((v) => v.name).join('; ')}`);
  // The names DIAGNOSTIC_DISABLE_PLUGINS accepts, from the built server's own config module.
  const { DIAGNOSTIC_PLUGINS } = await import(pathToFileURL(path.join(path.dirname(spec.script), 'config.js')).href);
  return chosen.map((row) => {
    const off = typeof row.off === 'function' ? row.off(DIAGNOSTIC_PLUGINS) : row.off;
    const env = off.length ? { ...spec.env, DIAGNOSTIC_DISABLE_PLUGINS: off.join(','), DIAGNOSTIC_DISABLE_PLUGINS_ACK: ACK } : spec.env;
    return { name: row.name, off, env };
  });
}

/**
 * Runs the ablation: `spec` is our server's start spec, `rows` ablationRows(spec), `scenario` node by id. For each variant a fresh
 * all-on server and the variant's server start side by side, are warmed up alike, and take turns in
 * `slices` short loads (alternating which goes first), so a change in the machine's other load hits
 * both alike: each cost is measured against its own all-on turns. `say` prints a line. Resolves to
 * { baseline: { rps, cpuMs } (all turns), variants: [{ name, off, rps, cpuMs, baseRps, baseCpuMs, cost, cpuCost, errors }] }.
 */
export async function runAblation({ cfg, spec, rows, scenario, say, seconds, warmup, slices = 3, repeats = 1 }) {
  let next = 2_000_000;
  const isError = (text) => quickError(true, 'node', text);
  const common = { body: scenario.body, isError, headers: cfg.headers, connections: cfg.connections };
  const allBase = [];
  const variants = [];
  for (const { env, ...v } of rows) {
    // A fresh all-on server per row, started and warmed like the variant: a long-running one is more
    // optimized by the JIT than a new process, which made every part look cheaper than nothing. With
    // `repeats` > 1 the row takes that many fresh pairs: two processes of the same build differ by a
    // few per cent for good (the JIT's choices), which one pair cannot tell from a cost.
    const on = [];
    const offRuns = [];
    const pairs = [];
    for (let r = 0; r < repeats; r++) {
      const baseServer = await startServer(spec);
      const server = await startServer({ ...spec, env });
      try {
        if (warmup > 0) {
          for (const target of [baseServer, server]) {
            await load({ ...common, url: target.url, seconds: warmup, startIndex: next });
            next += 100_000;
          }
        }
        const pairOn = [];
        const pairOff = [];
        for (let k = 0; k < slices; k++) {
          const pair =
            k % 2 === 0
              ? [
                  [baseServer, pairOn],
                  [server, pairOff],
                ]
              : [
                  [server, pairOff],
                  [baseServer, pairOn],
                ];
          for (const [target, into] of pair) {
            into.push(await slice(target, common, seconds / slices, next));
            next += 100_000;
          }
        }
        const pb = sum(pairOn);
        const po = sum(pairOff);
        pairs.push({ cost: 1 - pb.rps / po.rps, cpuCost: 1 - po.cpuMs / pb.cpuMs });
        on.push(...pairOn);
        offRuns.push(...pairOff);
      } finally {
        await server.stop();
        await baseServer.stop();
      }
    }
    allBase.push(...on);
    const b = sum(on);
    const o = sum(offRuns);
    const measured = { ...v, rps: o.rps, cpuMs: o.cpuMs, errors: o.errors, baseRps: b.rps, baseCpuMs: b.cpuMs, cost: 1 - b.rps / o.rps, cpuCost: 1 - o.cpuMs / b.cpuMs, pairs };
    variants.push(measured);
    const perPair = pairs.length > 1 ? `  (per pair, CPU: ${pairs.map((p) => `${(p.cpuCost * 100).toFixed(1)}%`).join(', ')})` : '';
    say(
      `    off: ${v.name.padEnd(40).slice(0, 40)} ${o.rps.toFixed(0).padStart(6)} req/s ${o.cpuMs.toFixed(3)} CPU ms/req` +
        `  (all on: ${b.rps.toFixed(0)} req/s ${b.cpuMs.toFixed(3)})  cost ${(measured.cost * 100).toFixed(1)}% / CPU ${(measured.cpuCost * 100).toFixed(1)}%  errors ${o.errors}${perPair}`,
    );
    if (o.sample) say(`      error sample: ${o.sample}`);
  }
  const base = sum(allBase);
  return { baseline: base, variants, seconds, warmup, slices, repeats };
}
