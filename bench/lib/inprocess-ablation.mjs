// In-process ablation of our plugin chain on node by id: one process holds an all-on app and one app per
// row (each with parts switched off through DIAGNOSTIC_DISABLE_PLUGINS, all on the same database pool),
// each behind a node:http server of its own, and sends them node by id one request at a time, one to
// each app in a shuffled order (a cycle), so that every app's requests are spread over the same seconds. What a part
// costs is the paired difference of request time between the all-on app and the row's app within each
// cycle: a request is a millisecond, so both sides of a pair see the same machine state, which batches
// of requests (tried first: alternating 50-request batches at 10 in flight) do not. On a 2-core VM those
// moved by ±30 % from batch to batch, and the control row's 95 % interval was -16 to +38 µs; with single
// requests to each app in turn it was -5.5 to +1.5 µs (of ~1,000 µs of CPU per request). One request at a time, the time of a request is
// its CPU work plus waits that are the same for every app (the database's answer, the loopback), so the
// difference is the part's CPU work.
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

/** Microseconds of one request to `target` (a listening app): [µs, whether it failed]. */
async function timed(target, body, headers) {
  const start = process.hrtime.bigint();
  const [status, text] = await post(target.port, headers, body);
  const us = Number(process.hrtime.bigint() - start) / 1_000;
  return [us, status !== 200 || text.includes('"errors"')];
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
};

/** A fixed-seed generator of numbers in [0, 1), so that a run's choices repeat. */
function xorshift(seed = 0x2545f491) {
  return () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
}

/** A 95 % bootstrap interval of the median of `values` (deterministic: a fixed-seed generator). */
function medianInterval(values, resamples = 2_000) {
  const random = xorshift();
  const medians = Array.from({ length: resamples }, () => median(values.map(() => values[Math.floor(random() * values.length)])));
  medians.sort((a, b) => a - b);
  return [medians[Math.floor(resamples * 0.025)], medians[Math.floor(resamples * 0.975)]];
}

/**
 * `spec`: our server's start spec (its build and environment); `rows`: ablationRows(spec). Returns the
 * all-on app's median request time and, per row, the median paired difference in µs with its 95 %
 * interval, over `rounds` cycles (one request to each app per cycle).
 */
export async function inProcessAblation({ spec, rows, header, bodies, rounds = 3_000, say = () => undefined }) {
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
  // The first app made is never measured: in one process, the first instance of the app ran 15-21 µs
  // slower per request than any later identical one (four identical apps read 15.1 to 21.1 µs against
  // the first, within ±3 µs of each other), likely V8 optimizing the first closures of each function
  // before the others existed. It serves in every cycle like the rest; the all-on baseline is the second.
  const apps = [createApp(base, db, logger), createApp(base, db, logger), ...rows.map((row) => createApp(loadConfig(row.env), db, logger))];
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
    for (let i = 0; i < 500; i++) for (const app of apps) await timed(app, bodies[i % bodies.length], headers);
    const times = apps.map(() => new Float64Array(rounds));
    const errors = apps.map(() => 0);
    const random = xorshift();
    const order = apps.map((_, i) => i);
    for (let round = 0; round < rounds; round++) {
      const body = bodies[round % bodies.length];
      // Every app gets the same request, in an order shuffled each cycle: in a fixed cyclic order each app
      // would always follow the same one, and inherit its garbage and cache state as a steady bias.
      for (let k = order.length - 1; k > 0; k--) {
        const j = Math.floor(random() * (k + 1));
        [order[k], order[j]] = [order[j], order[k]];
      }
      for (const i of order) {
        const [us, failed] = await timed(apps[i], body, headers);
        times[i][round] = us;
        if (failed) errors[i]++;
      }
      if ((round + 1) % 1_000 === 0) say(`    cycle ${round + 1}/${rounds}`);
    }
    const allOn = times[1];
    return {
      allOnUs: median(Array.from(allOn)),
      rounds,
      rows: rows.map((v, r) => {
        const diffs = Array.from(allOn, (on, i) => on - times[r + 2][i]);
        return { name: v.name, off: v.off, costUs: median(diffs), intervalUs: medianInterval(diffs), errors: errors[r + 2] };
      }),
      allOnErrors: errors[1],
    };
  } finally {
    agent.destroy();
    for (const server of servers) server.close();
    for (const app of apps) await app.close?.().catch(() => undefined);
    await db.close();
  }
}
