// Ablation of our plugin chain on node by id: the same server started again with one part switched
// off at a time (DIAGNOSTIC_DISABLE_PLUGINS, accepted only with its acknowledgement; see README), then
// groups. The cost of a part is the share of a request's time it takes: 1 - rps(all on) / rps(it off),
// and, less disturbed by other processes on a shared machine, the share of the server's CPU time per
// request: 1 - cpu/req(it off) / cpu/req(all on). The all-on baseline runs first and last, and their mean
// is the reference, so a drift of the machine over the phase shows as the difference between the two.
import { load } from './load.mjs';
import { quickError } from './queries.mjs';
import { cpuSecondsOf, startServer } from './servers.mjs';

const ACK = 'i-am-benchmarking-and-this-server-is-unprotected';

/** Each alone, then groups: issue 9's "cost of hardening" and the whole chain. */
export const VARIANTS = [
  { name: 'auth', off: ['auth'] },
  { name: 'rate limit', off: ['rateLimit'] },
  { name: 'request id/info (context)', off: ['requestInfo'] },
  { name: 'request logging', off: ['requestLogging'] },
  { name: 'HTTP metrics', off: ['httpMetrics'] },
  { name: 'GraphQL metrics (envelop)', off: ['graphqlMetrics'] },
  { name: 'operation limits and cost', off: ['operationLimits'] },
  { name: 'deadline', off: ['deadline'] },
  { name: 'error masking report', off: ['masking'] },
  { name: 'error status', off: ['errorStatus'] },
  { name: 'events', off: ['events'] },
  { name: 'routing', off: ['routing'] },
  { name: 'HTTP hardening', off: ['httpHardening'] },
  { name: 'probes (health, ready, metrics)', off: ['probes'] },
  {
    name: 'hardening: routing, refusals, limits, rate limit, deadline, bounded metrics',
    off: ['routing', 'httpHardening', 'operationLimits', 'rateLimit', 'deadline', 'httpMetrics', 'graphqlMetrics'],
  },
  {
    // Auth stays: without it node(id) answers UNAUTHENTICATED, another path (see the auth row's errors).
    name: 'everything switchable but auth',
    off: ['routing', 'httpMetrics', 'requestLogging', 'httpHardening', 'rateLimit', 'probes', 'graphqlMetrics', 'operationLimits', 'deadline', 'masking', 'errorStatus', 'events', 'requestInfo'],
  },
];

/**
 * Runs the ablation: `spec` is our server's start spec, `scenario` node by id. `say` prints a line.
 * Resolves to { baseline: [run, run], variants: [{ name, off, rps, errors, cost }] }.
 */
export async function runAblation({ cfg, spec, scenario, say, seconds, warmup }) {
  const counter = { next: 2_000_000 };
  const once = async (label, off) => {
    const env = off.length ? { ...spec.env, DIAGNOSTIC_DISABLE_PLUGINS: off.join(','), DIAGNOSTIC_DISABLE_PLUGINS_ACK: ACK } : spec.env;
    const server = await startServer({ ...spec, env });
    try {
      const isError = (text) => quickError(true, 'node', text);
      const common = { url: server.url, body: scenario.body, isError, headers: cfg.headers, connections: cfg.connections };
      if (warmup > 0) await load({ ...common, seconds: warmup, startIndex: counter.next });
      const cpu0 = cpuSecondsOf(server.pid);
      const r = await load({ ...common, seconds, startIndex: counter.next });
      const cpuMs = r.requests ? ((cpuSecondsOf(server.pid) - cpu0) * 1000) / r.requests : NaN;
      say(`    ${label.padEnd(44).slice(0, 44)} ${r.rps.toFixed(0).padStart(6)} req/s  ${cpuMs.toFixed(3)} CPU ms/req  p50 ${r.p50.toFixed(2)} ms  errors ${r.errorCount}`);
      for (const sample of r.errorSamples.slice(0, 1)) say(`      error sample: ${sample}`);
      return { rps: r.rps, cpuMs, p50: r.p50, p99: r.p99, errors: r.errorCount };
    } finally {
      await server.stop();
    }
  };
  const first = await once('all on (baseline, first)', []);
  const variants = [];
  for (const v of VARIANTS) variants.push({ ...v, ...(await once(`off: ${v.name}`, v.off)) });
  const last = await once('all on (baseline, last)', []);
  const base = (first.rps + last.rps) / 2;
  const baseCpuMs = (first.cpuMs + last.cpuMs) / 2;
  for (const v of variants) {
    v.cost = 1 - base / v.rps;
    v.cpuCost = 1 - v.cpuMs / baseCpuMs;
  }
  return { baseline: [first, last], base, baseCpuMs, variants, seconds, warmup };
}
