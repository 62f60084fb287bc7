import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

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
export function waitForPort(server: ServerProcess, timeoutMs = 60_000): Promise<number> {
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
