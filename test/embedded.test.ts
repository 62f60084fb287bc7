// The embedded database's start-up parts: the directory lock, the migrated template, migration status.
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { afterAll, describe, expect, it } from 'vitest';
import { openEmbeddedDatabase } from '../src/embedded/index.js';
import { lockDataDir, lockFileOf, lockHolder } from '../src/embedded/lock.js';
import { createFromTemplate, templateTarball } from '../src/embedded/template.js';
import { findProjectRoot, migrationStatus } from '../src/migrations.js';
import { StartupError } from '../src/startup/errors.js';
import { spawnProcess } from './helpers/process.js';

const SLOW = 180_000; // PGlite starts take seconds on a loaded machine
const work = mkdtempSync(path.join(tmpdir(), 'uag-embedded-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => path.join(work, `${name}-${++n}`);

/** A process that is alive until killed (or its test ends), and one that has exited (its pid now free). */
async function otherProcess(alive: boolean) {
  const other = spawnProcess(process.execPath, ['-e', alive ? 'setTimeout(() => {}, 600000)' : ''], { env: { PATH: process.env.PATH ?? '' } });
  if (!alive) await other.exited;
  return other.child;
}

describe('the embedded directory lock', () => {
  it('is held once: a second take in this process is refused, and released it can be taken again', () => {
    const dir = fresh('db');
    const release = lockDataDir(dir);
    expect(lockHolder(dir)?.pid).toBe(process.pid);
    expect(() => lockDataDir(dir)).toThrow(StartupError);
    release();
    expect(existsSync(lockFileOf(dir))).toBe(false);
    expect(lockHolder(dir)).toBeUndefined();
    lockDataDir(dir)();
  });

  it('refuses while the process named in the lock runs, saying which one and what to do', async () => {
    const dir = fresh('db');
    const holder = await otherProcess(true);
    try {
      writeFileSync(lockFileOf(dir), JSON.stringify({ pid: holder.pid, hostname: (await import('node:os')).hostname(), since: 'then' }));
      expect(() => lockDataDir(dir)).toThrow(
        `The embedded database ${dir} is in use by another process (pid ${holder.pid}, since then): stop it first, or set EMBEDDED_DATA_DIR to another directory. If no such process runs, delete ${dir}.lock.`,
      );
      expect(lockHolder(dir)?.pid).toBe(holder.pid);
    } finally {
      holder.kill('SIGKILL');
      await once(holder, 'exit').catch(() => undefined);
    }
  });

  it('takes over at once a lock whose process is gone (killed, crashed), and an unreadable one', async () => {
    const dir = fresh('db');
    const gone = await otherProcess(false);
    writeFileSync(lockFileOf(dir), JSON.stringify({ pid: gone.pid, hostname: (await import('node:os')).hostname(), since: 'then' }));
    expect(lockHolder(dir)).toBeUndefined();
    lockDataDir(dir)();
    writeFileSync(lockFileOf(dir), '{"pid":');
    lockDataDir(dir)();
  });

  it('counts a lock from another host as held (its process cannot be checked from here)', () => {
    const dir = fresh('db');
    writeFileSync(lockFileOf(dir), JSON.stringify({ pid: 1, hostname: 'elsewhere.example', since: 'then' }));
    expect(() => lockDataDir(dir)).toThrow(/in use by another process \(pid 1 on host elsewhere\.example, since then\)/);
  });
});

describe('the migrated template', () => {
  const migrationsDir = path.join(work, 'migrations');
  const cacheDir = path.join(work, 'cache');
  cpSync(path.join(findProjectRoot(), 'prisma/migrations'), migrationsDir, { recursive: true });
  // The project's own template (npm install made it; the first call below makes it where it did not) is
  // copied in, so only the template of the changed migrations is built here.
  const seeded = templateTarball().then(() => {
    const real = path.join(findProjectRoot(), 'node_modules/.cache/user-api-gateway');
    cpSync(real, cacheDir, { recursive: true, filter: (src) => !/\.(tmp|building)/.test(src) });
  });
  const names = () =>
    readdirSync(migrationsDir)
      .filter((f) => !f.endsWith('.toml'))
      .sort();

  const applied = async (pglite: PGlite) =>
    (await pglite.query<{ migration_name: string }>('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY 1')).rows.map((r) => r.migration_name);

  it('starts a directory and an in-memory database with every migration applied, as recorded by the engine', { timeout: SLOW }, async () => {
    await seeded;
    const dataDir = fresh('data');
    mkdirSync(dataDir);
    const onDisk = await PGlite.create({ dataDir, ...(await createFromTemplate(dataDir, { migrationsDir, cacheDir })) });
    const inMemory = await PGlite.create({ loadDataDir: await templateTarball({ migrationsDir, cacheDir }) });
    try {
      expect(await applied(onDisk)).toEqual(names());
      expect(await applied(inMemory)).toEqual(names());
      expect((await onDisk.query('SELECT count(*)::int AS n FROM "User"')).rows).toEqual([{ n: 0 }]);
    } finally {
      await onDisk.close();
      await inMemory.close();
    }
  });

  it('is never used stale: after a new migration the next database has it, and the old template is gone', { timeout: SLOW }, async () => {
    const before = readdirSync(cacheDir);
    mkdirSync(path.join(migrationsDir, '29990101000000_extra'));
    writeFileSync(path.join(migrationsDir, '29990101000000_extra/migration.sql'), 'CREATE TABLE "Extra" (id int);\n');
    const dataDir = fresh('data');
    const pglite = await PGlite.create({ dataDir, ...(await createFromTemplate(dataDir, { migrationsDir, cacheDir })) });
    try {
      expect(await applied(pglite)).toEqual(names());
      expect(names()).toContain('29990101000000_extra');
      expect((await pglite.query('SELECT count(*)::int AS n FROM "Extra"')).rows).toEqual([{ n: 0 }]);
    } finally {
      await pglite.close();
    }
    const after = readdirSync(cacheDir);
    expect(after.filter((f) => before.includes(f))).toEqual([]);
    expect(after).toHaveLength(2); // the directory and its tarball
  });
});

describe('openEmbeddedDatabase', () => {
  it('reports a new directory as created and a reopened one as not; holds the directory while open', { timeout: SLOW }, async () => {
    const dataDir = fresh('data');
    const first = await openEmbeddedDatabase(dataDir);
    expect(first.created).toBe(true);
    await expect(openEmbeddedDatabase(dataDir)).rejects.toThrow(/is in use by another process/);
    await first.close();
    expect(existsSync(lockFileOf(dataDir))).toBe(false);
    const again = await openEmbeddedDatabase(dataDir);
    expect(again.created).toBe(false);
    await again.close();
  });

  it('refuses a non-empty directory that holds no database, and gives the directory up', { timeout: SLOW }, async () => {
    const dataDir = fresh('data');
    mkdirSync(dataDir);
    writeFileSync(path.join(dataDir, 'stray.txt'), 'x');
    await expect(openEmbeddedDatabase(dataDir)).rejects.toThrow(`${dataDir} is not empty but holds no database`);
    expect(existsSync(lockFileOf(dataDir))).toBe(false);
  });
});

describe('migrationStatus', () => {
  it('lists every migration as pending on an empty database and none once migrated', { timeout: SLOW }, async () => {
    const empty = await PGlite.create();
    const migrated = await PGlite.create({ loadDataDir: await templateTarball() });
    try {
      const all = readdirSync(path.join(findProjectRoot(), 'prisma/migrations'))
        .filter((f) => !f.endsWith('.toml'))
        .sort();
      expect(await migrationStatus(new PrismaPGlite(empty))).toEqual({ pending: all, failed: [] });
      expect(await migrationStatus(new PrismaPGlite(migrated))).toEqual({ pending: [], failed: [] });
      await migrated.exec(`UPDATE _prisma_migrations SET finished_at = NULL WHERE migration_name = '${all.at(-1)}'`);
      expect(await migrationStatus(new PrismaPGlite(migrated))).toEqual({ pending: [all.at(-1)], failed: [all.at(-1)] });
    } finally {
      await empty.close();
      await migrated.close();
    }
  });
});
