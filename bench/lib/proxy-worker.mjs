// The counting proxy in its own worker thread, so its forwarding never waits behind the load generator's
// event loop. The parent asks for counts by message.
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { startProxy } from './pg-proxy.mjs';

if (parentPort && workerData?.role === 'pg-proxy') {
  const proxy = await startProxy(workerData.target);
  parentPort.postMessage({ type: 'ready', port: proxy.port });
  parentPort.on('message', async (msg) => {
    const c = proxy.counts;
    if (msg.type === 'counts') parentPort.postMessage({ type: 'counts', id: msg.id, counts: c.snapshot() });
    else if (msg.type === 'record') {
      c.recordTexts = msg.on;
      if (msg.on) c.texts.clear();
      parentPort.postMessage({ type: 'record', id: msg.id, texts: [...c.texts.entries()] });
    } else if (msg.type === 'close') {
      await proxy.close();
      parentPort.postMessage({ type: 'closed', id: msg.id });
    }
  });
}

/**
 * Starts the proxy to `target` ({ host, port }) in a worker. Resolves to { port, counts(), record(on),
 * close() }; `record(false)` returns the statement texts seen since `record(true)`.
 */
export function startProxyWorker(target) {
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: 'pg-proxy', target } });
  let nextId = 0;
  const pending = new Map();
  const ask = (msg) =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      worker.postMessage({ ...msg, id });
    });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (msg) => {
      if (msg.type === 'ready') {
        resolve({
          port: msg.port,
          counts: () => ask({ type: 'counts' }).then((m) => m.counts),
          record: (on) => ask({ type: 'record', on }).then((m) => m.texts),
          close: () => ask({ type: 'close' }).then(() => worker.terminate()),
        });
        return;
      }
      const done = pending.get(msg.id);
      pending.delete(msg.id);
      done?.(msg);
    });
  });
}
