// `npm start` (scripts/start.mjs) in a copy of the project: it builds dist/ when there is none, starts
// the compiled server without building when nothing changed, and builds again after a source changed.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const copy = mkdtempSync(path.join(tmpdir(), 'uag-start-'));
const running = new Set<ChildProcess>();

afterAll(async () => {
  for (const child of running) killGroup(child);
  rmSync(copy, { recursive: true, force: true });
});

/** The process and whatever it started (tsc), so nothing outlives the test. */
function killGroup(child: ChildProcess) {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** `npm start` in the copy; resolves once `until` matches the output. */
async function start(until: RegExp) {
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: copy,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', EMBEDDED_DATA_DIR: 'memory://' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  await expect.poll(() => until.test(output) || child.exitCode !== null, { timeout: 400_000, interval: 200 }).toBe(true);
  expect(output).toMatch(until);
  return {
    output: () => output,
    async stop(signal: NodeJS.Signals) {
      if (signal === 'SIGKILL') killGroup(child);
      else child.kill(signal);
      const [code] = await exited;
      running.delete(child);
      return code as number | null;
    },
  };
}

const LISTENING = /"msg":"listening on http:\/\/127\.0\.0\.1:\d+"/;

describe('npm start', () => {
  for (const entry of ['src', 'scripts', 'prisma', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) {
    cpSync(path.join(root, entry), path.join(copy, entry), { recursive: true });
  }
  symlinkSync(path.join(root, 'node_modules'), path.join(copy, 'node_modules'));

  it('builds only when a source changed since its last build', { timeout: 900_000 }, async () => {
    const first = await start(LISTENING);
    expect(first.output()).toContain('Building (tsc)…');
    expect(await first.stop('SIGTERM')).toBe(0);

    const again = await start(LISTENING);
    expect(again.output()).not.toMatch(/building/i);
    expect(await again.stop('SIGTERM')).toBe(0);

    appendFileSync(path.join(copy, 'src/ids.ts'), '\n// changed\n');
    const changed = await start(/Sources changed since the last build: building \(tsc\)…/);
    await changed.stop('SIGKILL');
  });
});
