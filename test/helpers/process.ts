import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach } from 'vitest';

export interface ServerProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

/** Starts `node <args>` (default: `src/main.ts` through tsx) with only `env` and PATH set. */
export function spawnServer(env: Record<string, string>, args = ['--import', 'tsx', 'src/main.ts']): ServerProcess {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output: () => output, exited };
}

/** Waits for the "listening" log line of the GraphQL server and returns its port. */
export function waitForPort(server: ServerProcess, timeoutMs = 120_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /"server":"graphql","port":(\d+)/.exec(server.output());
      if (match) {
        clearInterval(timer);
        clearTimeout(deadline);
        resolve(Number(match[1]));
      }
    }, 50);
    const deadline = setTimeout(() => {
      clearInterval(timer);
      reject(new Error(`server did not start:\n${server.output()}`));
    }, timeoutMs);
    void server.exited.then(() => {
      clearInterval(timer);
      clearTimeout(deadline);
      reject(new Error(`server exited early:\n${server.output()}`));
    });
  });
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
