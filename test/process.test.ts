// The harness's own promise about spawned processes: whatever a test does (passes, fails, hangs until its
// timeout), what it spawned through test/helpers/process.ts is gone once it finishes, children included.
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { spawnProcess } from './helpers/process.js';

/** Running (a zombie, dead but not yet waited for, counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** A node process that starts a grandchild and ignores SIGTERM, so only a SIGKILL of the group ends both. */
function stubborn() {
  const script = `
    const { spawn } = require('node:child_process');
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    process.on('SIGTERM', () => {});
    console.log(JSON.stringify({ grandchild: child.pid }));
    setInterval(() => {}, 1000);`;
  return spawnProcess(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '' } });
}

describe('spawned processes are reaped when their test ends', () => {
  const pids: number[] = [];

  async function start() {
    const server = stubborn();
    const { grandchild } = await vi.waitFor(() => JSON.parse(server.stdout()) as { grandchild: number }, { timeout: 60_000, interval: 20 });
    pids.push(server.child.pid!, grandchild);
    expect(pids.every(alive)).toBe(true);
  }

  it('a test that passes (setup for the check below)', async () => {
    await start();
  });

  it('took its process and the grandchild with it', () => {
    expect(pids).toHaveLength(2);
    expect(pids.filter(alive)).toEqual([]);
    pids.length = 0;
  });

  it.fails('a test that times out (expected to fail: setup for the check below)', { timeout: 5_000 }, async () => {
    await start();
    await new Promise(() => {}); // never settles
  });

  it('took its process and the grandchild with it too', () => {
    expect(pids).toHaveLength(2);
    expect(pids.filter(alive)).toEqual([]);
  });
});
