// Unit check of the counting proxy: a known sequence of statements through node-postgres (simple protocol,
// extended protocol unnamed and named, a transaction, a multi-row fetch) must count exactly. Runs by itself
// (`node bench/lib/proxy-check.mjs`, DATABASE_URL or BENCH_DATABASE_URL base) and before every benchmark.
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startProxy } from './pg-proxy.mjs';

/** Throws when the proxy miscounts; resolves to a one-line summary. */
export async function checkProxy(serverUrl) {
  const url = new URL(serverUrl);
  const proxy = await startProxy({ host: url.hostname, port: Number(url.port || 5432) });
  const viaProxy = new URL(url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  if (!viaProxy.pathname || viaProxy.pathname === '/') viaProxy.pathname = '/postgres';
  const client = new pg.Client({ connectionString: viaProxy.toString(), application_name: 'bench-proxy-check' });
  try {
    await client.connect();
    const start = proxy.counts.snapshot();
    await client.query('SELECT 1'); // simple protocol: 1 'Q'
    await client.query('SELECT $1::int AS n', [2]); // extended, unnamed: P B D E S → 1 'E'
    await client.query({ name: 'bench-check', text: 'SELECT $1::int + 1 AS n', values: [3] }); // named: 1
    await client.query({ name: 'bench-check', text: 'SELECT $1::int + 1 AS n', values: [4] }); // named, reused: 1
    await client.query('BEGIN'); // tx control: 1
    await client.query('SELECT generate_series(1, $1::int)', [500]); // many rows, still 1
    await client.query('COMMIT'); // tx control: 1
    await client.query('SELECT 1; SELECT 2'); // one Query message with two statements: 1 round trip
    const end = proxy.counts.snapshot();
    const statements = end.statements - start.statements;
    const tx = end.txControl - start.txControl;
    if (statements !== 8 || tx !== 2) {
      throw new Error(`proxy check failed: expected 8 statements (2 BEGIN/COMMIT), counted ${statements} (${tx})`);
    }
    return `proxy check: 8 statements sent through node-postgres, 8 counted (2 BEGIN/COMMIT)`;
  } finally {
    await client.end().catch(() => undefined);
    await proxy.close();
  }
}

const entry = process.argv[1];
if (entry && fileURLToPath(import.meta.url) === entry) {
  const base = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/';
  checkProxy(base).then(
    (summary) => process.stdout.write(`${summary}\n`),
    (error) => {
      process.stderr.write(`${error.stack ?? error}\n`);
      process.exitCode = 1;
    },
  );
}
