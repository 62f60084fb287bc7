// In-process ablation of our plugin chain on node by id: one process holds an all-on app and one app per
// row (each with parts switched off through DIAGNOSTIC_DISABLE_PLUGINS, all on the same database pool),
// each behind a node:http server of its own, and sends them the same requests in alternating batches.
// Paired differences of CPU per request between a row's app and the all-on app next to it remove what
// the machine's other load does to both, which two servers side by side (ablation.mjs) cannot: there,
// the control row moves by 5-20 %. The client's own CPU is in every batch alike and cancels out.
import { Agent, createServer, request } from 'node:http';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

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
 * `spec`: our server's start spec (its build and environment); `rows`: ablationRows(spec). Returns the
 * all-on CPU per request (app and client) and, per row, the median paired difference in µs of CPU per
 * request with its 95 % interval.
 */
export async function inProcessAblation({ spec, rows, header, bodies, rounds = 200, batch = 50, concurrency = 10, say = () => undefined }) {
  const dist = (file) => pathToFileURL(path.join(path.dirname(spec.script), file)).href;
  const { loadConfig } = await import(dist('config.js'));
  const { openDatabase } = await import(dist('db.js'));
  const { createApp } = await import(dist('app.js'));
  // The app's own pino, found from the build as its imports find it.
  const pino = createRequire(spec.script)('pino');
  const base = loadConfig(spec.env);
  const db = await openDatabase(base.database);
  const logger = pino({ level: 'warn' }, new Writable({ write: (_c, _e, cb) => cb() }));
  const headers = { 'content-type': 'application/json', authorization: header };
  const apps = [createApp(base, db, logger), ...rows.map((row) => createApp(loadConfig(row.env), db, logger))];
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
    const diffs = rows.map(() => []);
    const errors = rows.map(() => 0);
    for (let round = 0; round < rounds; round++) {
      for (let v = 0; v < rows.length; v++) {
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
      rows: rows.map((v, i) => ({ name: v.name, off: v.off, costUs: median(diffs[i]), intervalUs: medianInterval(diffs[i]), errors: errors[i] })),
    };
  } finally {
    agent.destroy();
    for (const server of servers) server.close();
    for (const app of apps) await app.close?.().catch(() => undefined);
    await db.close();
  }
}
