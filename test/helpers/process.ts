import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, afterEach, onTestFinished, vi } from 'vitest';

export interface ServerProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** What it wrote to stdout only, and to stderr only. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  /** Resolves with the exit code and the signal that ended it. */
  readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SpawnOptions {
  /** The whole environment (nothing is inherited). */
  env: Record<string, string>;
  cwd?: string;
  /** Default 'ignore'. */
  stdin?: 'ignore' | 'pipe';
}

// One set per worker (helpers are loaded again for each test file): what is still to be killed.
const live: Set<ServerProcess> = ((globalThis as Record<symbol, unknown>)[Symbol.for('uag.test.processes')] ??= (() => {
  const set = new Set<ServerProcess>();
  // The worker exiting (a crash, a bail-out) takes its processes with it; only a SIGKILL of the worker can't.
  process.once('exit', () => {
    for (const server of set) signalGroup(server.child, 'SIGKILL');
  });
  return set;
})()) as Set<ServerProcess>;

// Whatever this file spawned from a hook, or left running in a test that timed out, ends with the file.
afterAll(async () => {
  await Promise.all([...live].map((server) => reap(server)));
});

/** Sends `signal` to the process group `child` leads (spawnProcess starts one per process). */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // the group is gone already
  }
}

/**
 * Ends a process and whatever it started: SIGTERM to its process group, SIGKILL to the group if it is
 * still there after `graceMs`, and SIGKILL once more for anything the leader left behind.
 */
export async function reap(server: ServerProcess, graceMs = 2_000): Promise<void> {
  if (server.child.pid === undefined) return;
  if (server.child.exitCode === null && server.child.signalCode === null) {
    signalGroup(server.child, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(server.child, 'SIGKILL'), graceMs);
    await server.exited.finally(() => clearTimeout(timer));
  }
  signalGroup(server.child, 'SIGKILL');
  live.delete(server);
}

/**
 * Starts `command args` in a process group of its own, collecting its output. It is reaped (see `reap`)
 * when the test that started it finishes, pass or fail or time-out; started from a hook, after the file.
 */
export function spawnProcess(command: string, args: string[], options: SpawnOptions): ServerProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stderr += chunk.toString();
  });
  const ended = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const server: ServerProcess = {
    child,
    output: () => output,
    stdout: () => stdout,
    stderr: () => stderr,
    exited: ended.then(({ code }) => code),
    ended,
  };
  live.add(server);
  try {
    onTestFinished(() => reap(server));
  } catch {
    // Started from a hook, not a test: the afterAll above reaps it.
  }
  return server;
}

/**
 * Starts `node <args>` (default: `src/main.ts` through tsx) with only `env` and PATH set; reaped like
 * `spawnProcess`.
 */
export function spawnServer(env: Record<string, string>, args = ['--import', 'tsx', 'src/main.ts']): ServerProcess {
  return spawnProcess(process.execPath, args, { env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env } });
}

/** Waits for the "listening" log line of the GraphQL server and returns its port. */
export async function waitForPort(server: ServerProcess, timeoutMs = 120_000): Promise<number> {
  let exited = false;
  void server.exited.then(() => (exited = true));
  const port = await vi.waitFor(
    () => {
      const match = /"server":"graphql","port":(\d+)/.exec(server.output());
      if (match) return Number(match[1]);
      if (exited) return undefined; // no use waiting longer
      throw new Error(`server did not start:\n${server.output()}`);
    },
    { timeout: timeoutMs, interval: 50 },
  );
  if (port === undefined) throw new Error(`server exited early:\n${server.output()}`);
  return port;
}

/**
 * Servers of one test file, each killed after its test if still running, whatever the test did (a
 * failed assertion must not leave a server holding a port or an embedded directory).
 */
export function useServerProcesses() {
  const running: ServerProcess[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((server) => stopServer(server, 'SIGKILL')));
  });
  return {
    spawn(env: Record<string, string>, args?: string[]): ServerProcess {
      const server = spawnServer(env, args);
      running.push(server);
      return server;
    },
  };
}

/** Sends `signal` unless the process already exited; resolves with its exit code. */
export async function stopServer(server: ServerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill(signal);
  return server.exited;
}

/** The JSON log lines a process wrote (other lines skipped). */
export function logLines(output: string): Record<string, any>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, any>];
      } catch {
        return [];
      }
    });
}
