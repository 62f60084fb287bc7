import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { applyMigrations, findProjectRoot, migrationsDigest } from '../migrations.js';

/**
 * A migrated, empty embedded database to start new ones from: copying a directory and opening it takes
 * a moment, where initdb and every migration take seconds. Kept in node_modules/.cache as a data
 * directory (copied for a new EMBEDDED_DATA_DIR) and as the tarball of it (loaded for `memory://`).
 * The names carry a digest of the migrations and the PGlite version, so a template made before a
 * migration was added or edited is never used: the first open after the change builds a new one and
 * deletes the old. Where the cache cannot be written (a read-only image) it is built in memory, once
 * per process.
 */
interface Template {
  /** The template data directory; undefined when only the in-memory tarball exists. */
  readonly dir: string | undefined;
  /** `dumpDataDir('gzip')` of it. */
  readonly tarball: Blob;
}

export interface TemplateOptions {
  /** Default: prisma/migrations. */
  readonly migrationsDir?: string;
  /** Default: node_modules/.cache/user-api-gateway. */
  readonly cacheDir?: string;
}

const PREFIX = 'embedded-template-';

/** Per cache directory, the template of the latest migrations asked for (one per process). */
const current = new Map<string, { key: string; template: Promise<Template> }>();

/** Makes `dataDir` (absent or empty) a copy of the template, ready to open. */
export async function createFromTemplate(dataDir: string, options: TemplateOptions = {}): Promise<{ loadDataDir?: Blob }> {
  const template = await embeddedTemplate(options);
  if (!template.dir) return { loadDataDir: template.tarball };
  cpSync(template.dir, dataDir, { recursive: true });
  return {};
}

/** The template's tarball, for an in-memory database. */
export async function templateTarball(options: TemplateOptions = {}): Promise<Blob> {
  return (await embeddedTemplate(options)).tarball;
}

async function embeddedTemplate({ migrationsDir, cacheDir = defaultCacheDir() }: TemplateOptions): Promise<Template> {
  const key = `${(await migrationsDigest(migrationsDir)).slice(0, 24)}-${pgliteVersion()}`.replace(/[^a-zA-Z0-9.-]/g, '_');
  let entry = current.get(cacheDir);
  if (entry?.key !== key) {
    const template = loadOrBuild(cacheDir, key, migrationsDir);
    entry = { key, template };
    current.set(cacheDir, entry);
    template.catch(() => current.delete(cacheDir));
  }
  return entry.template;
}

const defaultCacheDir = () => path.join(findProjectRoot(), 'node_modules/.cache/user-api-gateway');

async function loadOrBuild(cacheDir: string, key: string, migrationsDir: string | undefined): Promise<Template> {
  const dir = path.join(cacheDir, `${PREFIX}${key}`);
  const tarballFile = `${dir}.tar.gz`;
  if (existsSync(path.join(dir, 'PG_VERSION')) && existsSync(tarballFile)) return { dir, tarball: new Blob([readFileSync(tarballFile)]) };
  let building: string | undefined;
  try {
    mkdirSync(cacheDir, { recursive: true });
    building = `${dir}.${process.pid}.building`;
    rmSync(building, { recursive: true, force: true });
    const tarball = await build(building, migrationsDir);
    // Renamed into place whole: processes building at once each finish a complete template.
    writeFileSync(`${tarballFile}.${process.pid}.tmp`, Buffer.from(await tarball.arrayBuffer()));
    renameSync(`${tarballFile}.${process.pid}.tmp`, tarballFile);
    if (existsSync(dir)) rmSync(building, { recursive: true, force: true });
    else renameSync(building, dir);
    removeOthers(cacheDir, key);
    return { dir, tarball };
  } catch {
    // Not writable (or lost a race oddly): build in memory, and start directories from the tarball.
    if (building) rmSync(building, { recursive: true, force: true });
    return { dir: undefined, tarball: await build(undefined, migrationsDir) };
  }
}

/** Runs the migrations on a new database (in `dataDir`, or in memory), and returns its dump. */
async function build(dataDir: string | undefined, migrationsDir: string | undefined): Promise<Blob> {
  const pglite = await PGlite.create(dataDir === undefined ? {} : { dataDir });
  try {
    await applyMigrations(new PrismaPGlite(pglite), { migrationsDir });
    // The data files, not WAL to replay, on every open of a copy.
    await pglite.exec('CHECKPOINT');
    return await pglite.dumpDataDir('gzip');
  } finally {
    await pglite.close();
  }
}

/** Templates of earlier migrations or PGlite versions. */
function removeOthers(cacheDir: string, key: string): void {
  for (const name of readdirSync(cacheDir)) {
    if (name.startsWith(PREFIX) && !name.startsWith(`${PREFIX}${key}`) && !name.includes('.building') && !name.endsWith('.tmp')) {
      rmSync(path.join(cacheDir, name), { recursive: true, force: true });
    }
  }
}

/** The installed PGlite version: a data directory need not open in another one. */
function pgliteVersion(): string {
  try {
    const file = path.join(findProjectRoot(), 'node_modules/@electric-sql/pglite/package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
