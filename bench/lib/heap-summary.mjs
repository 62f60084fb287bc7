// Summarizes a V8 .heapsnapshot (as written by `node --heapsnapshot-signal` or v8.writeHeapSnapshot):
// self size per constructor (objects) or per node type (strings, code, arrays, closures...), largest
// first, and the largest single objects. Taking a snapshot runs a full GC first, so what it holds is what is reachable.
// Runnable alone: node bench/lib/heap-summary.mjs <file.heapsnapshot> [top]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** { totalBytes, nodes, entries: [{ name, type, bytes, count }] } of the snapshot in `file`. */
export function summarizeHeapSnapshot(file, { top = 15 } = {}) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const { nodes, strings } = snap;
  const groups = new Map();
  const largest = [];
  let totalBytes = 0;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]];
    const size = nodes[i + iSize];
    totalBytes += size;
    // Objects by constructor; everything else (strings, code, arrays, closures, hidden) by its type.
    const name = type === 'object' || type === 'native' ? strings[nodes[i + iName]] : `(${type})`;
    const key = `${type}\u0000${name}`;
    const g = groups.get(key) ?? { name, type, bytes: 0, count: 0 };
    g.bytes += size;
    g.count += 1;
    groups.set(key, g);
    if (size >= 256 * 1024) largest.push({ type, bytes: size, name: strings[nodes[i + iName]].slice(0, 80).replace(/\s+/g, ' ') });
  }
  largest.sort((a, b) => b.bytes - a.bytes);
  const entries = [...groups.values()].sort((a, b) => b.bytes - a.bytes).slice(0, top);
  return { totalBytes, nodes: nodes.length / width, entries, largest: largest.slice(0, 8) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const s = summarizeHeapSnapshot(process.argv[2], { top: Number(process.argv[3] ?? 25) });
  const out = [`${(s.totalBytes / 2 ** 20).toFixed(1)} MiB in ${s.nodes} nodes`];
  for (const e of s.entries) out.push(`${(e.bytes / 2 ** 20).toFixed(2).padStart(8)} MiB ${String(e.count).padStart(8)}  ${e.name}`);
  out.push('largest single objects:');
  for (const e of s.largest) out.push(`${(e.bytes / 2 ** 20).toFixed(2).padStart(8)} MiB  (${e.type}) ${e.name}`);
  process.stdout.write(`${out.join('\n')}\n`);
}
