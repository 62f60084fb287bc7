// In-process ablation of our plugin chain on node by id: one process holds one app per variant (each
// with parts switched off through DIAGNOSTIC_DISABLE_PLUGINS, all on the same database pool) and sends
// them the same requests through `yoga.fetch`, in alternating batches. Paired differences of CPU per
// request between a variant and the all-on app next to it remove what the machine's other load does to
// both, which two servers side by side (ablation.mjs) cannot: there, the control row moves by 5-20 %.
// Measures the app's own work (plugins, execution, Prisma, pg); not the socket, HTTP parsing or
// autocannon, which are the same with or without a part.
import { Agent, createServer, request } from 'node:http';
import { Writable } from 'node:stream';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const ACK = 'i-am-benchmarking-and-this-server-is-unprotected';

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** POST `body` to `port`'s /graphql over a kept-alive connection: [status, body text]. */
function post(port, headers, body) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve([res.statusCode, text]));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** CPU microseconds per request of `batch` requests to `target` (a listening app), `concurrency` in flight at once. */
async function batchCpu(target, bodies, headers, batch, concurrency, offset) {
  let next = 0;
  let errors = 0;
  const worker = async () => {
    while (next < batch) {
      const i = next++;
      const [status, text] = await post(target.port, headers, bodies[(offset + i) % bodies.length]);
      if (status !== 200 || text.includes('"errors"')) errors++;
    }
  };
  const start = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const used = process.cpuUsage(start);
  return { us: (used.user + used.system) / batch, errors };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
};

/** A 95 % bootstrap interval of the median of `values` (deterministic: a fixed-seed generator). */
function medianInterval(values, resamples = 2_000) {
  let seed = 0x2545f491;
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const medians = Array.from({ length: resamples }, () => median(values.map(() => values[Math.floor(random() * values.length)])));
  medians.sort((a, b) => a - b);
  return [medians[Math.floor(resamples * 0.025)], medians[Math.floor(resamples * 0.975)]];
}

/**
 * `variants`: [{ name, off: [...] }] (ablation.mjs's VARIANTS, whose `off` may be a function of the
 * switchable names). Returns the all-on CPU per request (app and client) and, per variant, the median
 * paired difference in µs of CPU per request with its 95 % interval.
 */
export async function inProcessAblation({ build, dbUrl, secret, header, bodies, variants, rounds = 200, batch = 50, concurrency = 10, poolMax = 10, say = () => undefined }) {
  const dist = (file) => pathToFileURL(path.join(build, 'dist/src', file)).href;
  const { loadConfig, DIAGNOSTIC_PLUGINS } = await import(dist('config.js'));
  const { openDatabase } = await import(dist('db.js'));
  const { createApp } = await import(dist('app.js'));
  const { default: pino } = await import(pathToFileURL(path.join(build, '..', '..', 'pino', 'pino.js')).href);
  const env = (off) => ({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: dbUrl,
    DB_POOL_MAX: String(poolMax),
    JWT_SECRET: secret,
    RATE_LIMIT_POINTS: '1000000',
    RATE_LIMIT_WINDOW_S: '1',
    RESPONSE_CACHE: 'false',
    ...(off.length ? { DIAGNOSTIC_DISABLE_PLUGINS: off.join(','), DIAGNOSTIC_DISABLE_PLUGINS_ACK: ACK } : {}),
  });
  const base = loadConfig(env([]));
  const db = await openDatabase(base.database);
  const logger = pino({ level: 'warn' }, new Writable({ write: (_c, _e, cb) => cb() }));
  const headers = { 'content-type': 'application/json', authorization: header };
  const resolved = variants.map((v) => ({ name: v.name, off: typeof v.off === 'function' ? v.off([...DIAGNOSTIC_PLUGINS]) : v.off }));
  const apps = [createApp(base, db, logger), ...resolved.map((v) => createApp(loadConfig(env(v.off)), db, logger))];
  // Each behind a node:http server of its own, as main.ts serves it; the client side is in this process
  // too, the same for every app, so it cancels out of the paired differences.
  const servers = [];
  for (const app of apps) {
    const server = createServer(app.yoga);
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    app.port = server.address().port;
  }
  try {
    // Warm-up: every app compiles its paths.
    for (let w = 0; w < 3; w++) for (const app of apps) await batchCpu(app, bodies, headers, batch, concurrency, 0);
    const allOn = [];
    const diffs = resolved.map(() => []);
    const errors = resolved.map(() => 0);
    for (let round = 0; round < rounds; round++) {
      for (let v = 0; v < resolved.length; v++) {
        // all-on and the variant back to back, in alternating order.
        const pair = round % 2 ? [apps[v + 1], apps[0]] : [apps[0], apps[v + 1]];
        const [a, b] = [await batchCpu(pair[0], bodies, headers, batch, concurrency, round * batch), await batchCpu(pair[1], bodies, headers, batch, concurrency, round * batch)];
        const [on, off] = round % 2 ? [b, a] : [a, b];
        allOn.push(on.us);
        diffs[v].push(on.us - off.us);
        errors[v] += off.errors;
      }
      if ((round + 1) % 50 === 0) say(`    round ${round + 1}/${rounds}`);
    }
    const onUs = median(allOn);
    return {
      allOnUs: onUs,
      rounds,
      batch,
      concurrency,
      rows: resolved.map((v, i) => ({ name: v.name, off: v.off, costUs: median(diffs[i]), intervalUs: medianInterval(diffs[i]), errors: errors[i] })),
    };
  } finally {
    agent.destroy();
    for (const server of servers) server.close();
    for (const app of apps) await app.close?.().catch(() => undefined);
    await db.close();
  }
}
