/**
 * What a request allocates, which is the work the garbage collector then has (10-20 % of our server's
 * CPU in the profiles). V8's sampling heap profiler over the inspector protocol, with the objects the
 * GC already collected counted too: `node --heap-prof` keeps only what is still alive at the end,
 * which for a server under load is nearly nothing of what its requests allocated.
 */
import { load } from './load.mjs';
import { packageOf, shortUrl } from './profile-summary.mjs';
import { freePort, startServer } from './servers.mjs';

/** A Chrome DevTools Protocol session over the inspector's WebSocket (Node's global WebSocket). */
async function inspectorSession(port) {
  const [target] = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', () => reject(new Error('inspector: could not connect')), { once: true });
  });
  let next = 0;
  const pending = new Map();
  ws.addEventListener('message', (event) => {
    const message = JSON.parse(event.data);
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(`inspector: ${message.error.message}`));
    else waiter.resolve(message.result);
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = ++next;
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

const frameName = (cf) => `${cf.functionName || '(anonymous)'}${cf.url ? ` ${shortUrl(cf.url)}:${cf.lineNumber + 1}` : ''}`;

/**
 * Bytes per request by package and by function (self: where the allocation happened), largest first.
 * A built-in (`Map`, `push`, ...) is named with the function that called it.
 */
export function summarizeAllocation(profile, requests, { top = 10 } = {}) {
  const byPackage = new Map();
  const byFunction = new Map();
  let total = 0;
  const stack = [{ node: profile.head, caller: null }];
  while (stack.length > 0) {
    const { node, caller } = stack.pop();
    const cf = node.callFrame;
    const name = frameName(cf);
    for (const child of node.children) stack.push({ node: child, caller: cf.url ? name : caller });
    if (node.selfSize === 0) continue;
    total += node.selfSize;
    const pkg = packageOf(cf);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + node.selfSize);
    const key = !cf.url && caller ? `${name} ← ${caller}` : name;
    byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize);
  }
  const rows = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, bytes]) => ({ name, bytesPerRequest: bytes / requests, share: bytes / total }));
  return { requests, bytesPerRequest: total / requests, packages: rows(byPackage), functions: rows(byFunction) };
}

/**
 * Starts `spec` with the inspector on, warms it up, samples allocations (one sample per
 * `intervalBytes` on average) during `seconds` of load, and summarizes them per request.
 */
export async function allocationRun({ spec, scenario, isError, headers, connections, warmup, seconds, intervalBytes = 8192 }) {
  const inspectPort = await freePort();
  const server = await startServer({ ...spec, nodeArgs: [`--inspect=127.0.0.1:${inspectPort}`] });
  try {
    const run = (secs, startIndex) => load({ url: server.url, body: scenario.body, isError, headers, connections, seconds: secs, startIndex });
    if (warmup > 0) await run(warmup, 2_000_000);
    const inspector = await inspectorSession(inspectPort);
    try {
      await inspector.send('HeapProfiler.enable');
      await inspector.send('HeapProfiler.startSampling', {
        samplingInterval: intervalBytes,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
      const r = await run(seconds, 3_000_000);
      const { profile } = await inspector.send('HeapProfiler.stopSampling');
      return { rps: r.rps, errors: r.errorCount, errorKinds: r.errors, errorSamples: r.errorSamples, seconds, ...summarizeAllocation(profile, r.requests) };
    } finally {
      inspector.close();
    }
  } finally {
    await server.stop(30_000);
  }
}
