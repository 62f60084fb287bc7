// Servers under test as child processes: start, wait until they answer GraphQL, sample their memory and
// CPU from /proc, stop (SIGTERM, then SIGKILL after a grace period). Every child is killed if the
// benchmark itself ends early.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const live = new Set();
function killAll() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Only what a process needs to run; nothing from the caller's environment configures the servers. */
function baseEnv() {
  const keep = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];
  return Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Spawns `node [nodeArgs] script` with `env`, logs to `logFile`, and waits until POST /graphql `{ __typename }`
 * (sent with `headers`) answers with data. Resolves to { name, pid, url, stop(), logFile, exited }.
 */
export async function startServer({ name, script, cwd, env, nodeArgs = [], headers = {}, logFile, readyTimeoutMs = 60_000 }) {
  const port = await freePort();
  mkdirSync(path.dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  log.write(`\n=== ${new Date().toISOString()} start ${name}: node ${[...nodeArgs, script].join(' ')}\n`);
  const child = spawn(process.execPath, [...nodeArgs, script], {
    cwd,
    env: { ...baseEnv(), ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  let stderrTail = '';
  child.stderr.on('data', (d) => {
    stderrTail = (stderrTail + d.toString()).slice(-4000);
  });
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  let exitInfo = null;
  void exited.then((info) => {
    exitInfo = info;
  });

  const url = `http://127.0.0.1:${port}/graphql`;
  const deadline = Date.now() + readyTimeoutMs;
  let lastAnswer;
  let firstRefusal;
  for (;;) {
    if (exitInfo) throw new Error(`${name} exited during start-up (${JSON.stringify(exitInfo)}): ${stderrTail}`);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{"query":"{ __typename }"}',
      });
      const text = await res.text();
      if (res.ok && text.includes('"data"')) break;
      // Listening but refusing: give it a few seconds (readiness may lag), then report what it said.
      lastAnswer = `HTTP ${res.status}: ${text.slice(0, 300)}`;
      firstRefusal ??= Date.now();
      if (Date.now() - firstRefusal > 10_000) {
        child.kill('SIGKILL');
        throw new Error(`${name} answers { __typename } with ${lastAnswer}`);
      }
    } catch (error) {
      if (String(error?.message).startsWith(`${name} answers`)) throw error;
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not answer within ${readyTimeoutMs} ms (${lastAnswer ?? 'no answer'}): ${stderrTail}`);
    }
    await sleep(100);
  }

  return {
    name,
    pid: child.pid,
    url,
    logFile,
    stderrTail: () => stderrTail,
    /** SIGTERM, wait up to `graceMs` (a --cpu-prof child writes its profile on the way out), then SIGKILL. */
    async stop(graceMs = 15_000) {
      if (exitInfo) return exitInfo;
      child.kill('SIGTERM');
      const info = await Promise.race([exited, sleep(graceMs).then(() => null)]);
      if (info) return info;
      child.kill('SIGKILL');
      return { ...(await exited), killed: true };
    },
  };
}

// --- /proc sampling ----------------------------------------------------------------------------------

/** VmRSS and VmHWM (peak) of `pid` in bytes, or null when it is gone. */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return null;
  }
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system) `pid` has used so far, or 0 when it is gone. */
export function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command may contain spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime (fields 14, 15)
  } catch {
    return 0;
  }
}

/** Samples the RSS of `pid` every `everyMs` until stopped; resolves { maxRss, hwm } on stop(). */
export function sampleMemory(pid, everyMs = 100) {
  let maxRss = 0;
  let hwm = 0;
  const take = () => {
    const m = memoryOf(pid);
    if (m) {
      maxRss = Math.max(maxRss, m.rss);
      hwm = Math.max(hwm, m.hwm);
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { maxRss, hwm };
    },
  };
}

/** CPU seconds the whole machine has been busy (all cores; /proc/stat minus idle and iowait). */
export function machineBusySeconds() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return (total - fields[3] - fields[4]) / TICKS_PER_SECOND;
}

/**
 * CPU seconds used so far by the PostgreSQL backends serving the given client ports (the proxy's
 * connections), as { pid: seconds }. `admin` is a connected pg.Client that does not go through a proxy.
 */
export async function backendCpu(admin, ports) {
  if (!ports.length) return {};
  const { rows } = await admin.query('SELECT pid, client_port FROM pg_stat_activity WHERE client_port = ANY($1::int[])', [ports]);
  return Object.fromEntries(rows.map((r) => [r.pid, cpuSecondsOf(r.pid)]));
}
