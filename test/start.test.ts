// `npm start` (scripts/start.mjs) in a copy of the project: it builds dist/ when there is none, starts
// the compiled server without building when nothing changed, and builds again after a source changed.
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { signalGroup, spawnProcess } from './helpers/process.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const copy = mkdtempSync(path.join(tmpdir(), 'uag-start-'));

// The processes (and whatever they started: tsc) are reaped by helpers/process.ts when their test ends.
afterAll(() => rmSync(copy, { recursive: true, force: true }));

/** `npm start` in the copy; resolves once `until` matches the output. */
async function start(until: RegExp) {
  const server = spawnProcess(process.execPath, ['scripts/start.mjs'], {
    cwd: copy,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', EMBEDDED_DATA_DIR: 'memory://' },
  });
  await expect.poll(() => until.test(server.output()) || server.child.exitCode !== null, { timeout: 400_000, interval: 200 }).toBe(true);
  expect(server.output()).toMatch(until);
  return {
    output: () => server.output(),
    async stop(signal: NodeJS.Signals) {
      // SIGKILL: the process and whatever it started (tsc), so nothing outlives the test.
      if (signal === 'SIGKILL') signalGroup(server.child, 'SIGKILL');
      else server.child.kill(signal);
      return server.exited;
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
