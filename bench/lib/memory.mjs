// What the idle server's memory is made of: RSS split into file-backed pages (the node binary and
// libraries) and anonymous memory; of the latter, V8's committed heap (per space), external memory
// (Buffers, ArrayBuffers) and the rest (WASM instances and their compiled code, malloc, thread stacks);
// and the reachable heap after a full GC by constructor, from a heap snapshot the server writes on
// SIGUSR2 (it must run with --heapsnapshot-signal=SIGUSR2 and --diagnostic-dir=<dir>).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { summarizeHeapSnapshot } from './heap-summary.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** kB fields of /proc/<pid>/smaps_rollup, in bytes. */
function smapsRollup(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb('Rss'), anonymous: kb('Anonymous') };
}

/** Node's default metrics from prom-client, as numbers: heap sizes, spaces, external memory. */
async function nodeMetrics(metricsUrl, headers) {
  const text = await (await fetch(metricsUrl, { headers })).text();
  const one = (name) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1]);
  const spaces = {};
  for (const m of text.matchAll(/^nodejs_heap_space_size_used_bytes\{space="(\w+)"\} (\S+)/gm)) spaces[m[1]] = Number(m[2]);
  return {
    heapUsed: one('nodejs_heap_size_used_bytes'),
    heapTotal: one('nodejs_heap_size_total_bytes'),
    external: one('nodejs_external_memory_bytes'),
    spaces,
  };
}

async function waitForSnapshot(dir, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const file = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.heapsnapshot')) : undefined;
    if (file) {
      // Written synchronously by the server, but watch the size settle before reading it.
      const size = statSync(path.join(dir, file)).size;
      if (size > 0 && size === last) return path.join(dir, file);
      last = size;
    }
    if (Date.now() > deadline) throw new Error(`no heap snapshot in ${dir} after ${timeoutMs} ms`);
    await sleep(250);
  }
}

/**
 * The idle breakdown of a running `server` (from startServer, started with the flags above writing into
 * `dir`): measured after `idleMs` without requests, before and after the snapshot's full GC.
 */
export async function idleMemory(server, { dir, headers, idleMs = 2000, top = 15 }) {
  await sleep(idleMs);
  const metricsUrl = server.url.replace(/\/graphql$/, '/metrics');
  const before = { ...smapsRollup(server.pid), ...(await nodeMetrics(metricsUrl, headers)) };
  process.kill(server.pid, 'SIGUSR2');
  const file = await waitForSnapshot(dir);
  const after = { ...smapsRollup(server.pid), ...(await nodeMetrics(metricsUrl, headers)) };
  const heap = summarizeHeapSnapshot(file, { top });
  return { before, after, heap, file };
}
