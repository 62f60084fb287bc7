import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { StartupError } from '../errors/startup.js';
import { lockDataDir } from './lock.js';
import { createFromTemplate, templateTarball } from './template.js';

/**
 * PGlite's start parameters with 16 MB of shared buffers instead of PostgreSQL's default 128 MB: setting
 * those up in WASM memory is most of PGlite's start (about 2 s of CPU against 0.7 s measured), and a
 * development or test database uses a fraction of 16 MB.
 */
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

export interface EmbeddedDatabase {
  readonly pglite: PGlite;
  /** True when this open created the database (a new directory, or `memory://`): it is empty. */
  readonly created: boolean;
  /** Closes PGlite and gives the directory up for other processes. Idempotent; a closure, safe to pass on. */
  readonly close: () => Promise<void>;
}

/**
 * Opens the embedded PostgreSQL (PGlite) in `dataDir`, or in memory for `memory://`. A directory is
 * held by one process at a time (see `lockDataDir`): a second server, `db:seed` or `db:migrate` on it
 * gets a StartupError saying who has it. A new database starts from the migrated template unless
 * `fromTemplate` is false (then initdb makes it empty, for the migration tool to migrate).
 */
export async function openEmbeddedDatabase(dataDir: string, { fromTemplate = true } = {}): Promise<EmbeddedDatabase> {
  if (dataDir.startsWith('memory://')) {
    const pglite = await PGlite.create({ ...(fromTemplate ? { loadDataDir: await templateTarball() } : {}), startParams: START_PARAMS });
    return { pglite, created: true, close: once(() => pglite.close()) };
  }
  const dir = path.resolve(dataDir);
  mkdirSync(path.dirname(dir), { recursive: true });
  const release = lockDataDir(dir);
  try {
    // PostgreSQL writes PG_VERSION first thing into a data directory.
    const created = !existsSync(path.join(dir, 'PG_VERSION'));
    if (created && existsSync(dir) && readdirSync(dir).length > 0) {
      throw new StartupError(`${dir} is not empty but holds no database (left from an interrupted first start?): delete it, or set EMBEDDED_DATA_DIR to another directory.`);
    }
    const pglite = await PGlite.create({ dataDir: dir, startParams: START_PARAMS, ...(created && fromTemplate ? await createFromTemplate(dir) : {}) });
    return {
      pglite,
      created,
      close: once(async () => {
        try {
          await pglite.close();
        } finally {
          release();
        }
      }),
    };
  } catch (error) {
    release();
    throw error;
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}
