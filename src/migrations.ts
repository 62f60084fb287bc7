// Prisma Migrate without native engines: the schema engine compiled to WASM (@prisma/schema-engine-wasm)
// driven through our driver adapters. Both packages are Prisma internals; this is the only module that
// touches them, so a Prisma upgrade (re-pin schema-engine-wasm to the new prisma's engine hash) changes
// one file, and test/migrations.test.ts says whether it still behaves like `prisma migrate deploy`.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { bindMigrationAwareSqlAdapterFactory, DriverAdapterError, type SqlDriverAdapter, type SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';

// --- The parts of the engine's API we use (see schema_engine_bg.d.ts of the pinned version). ---
type FileContent = { tag: 'ok'; value: string } | { tag: 'error'; value: string };
interface MigrationList {
  baseDir: string;
  lockfile: { path: string; content: string | null };
  shadowDbInitScript: string;
  migrationDirectories: { path: string; migrationFile: { path: string; content: FileContent } }[];
}
type DiffTarget = { tag: 'empty' } | ({ tag: 'migrations' } & MigrationList) | { tag: 'schemaDatamodel'; files: { path: string; content: string }[] };
interface SchemaFilter {
  externalTables: string[];
  externalEnums: string[];
}
interface SchemaEngine {
  applyMigrations(input: { migrationsList: MigrationList; filters: SchemaFilter }): Promise<{ appliedMigrationNames: string[] }>;
  diff(params: { from: DiffTarget; to: DiffTarget; script: boolean; exitCode: boolean | null; filters: SchemaFilter }): Promise<{ stdout: string | null }>;
  free(): void;
}
interface WasmBindings {
  __wbg_set_wasm(exports: WebAssembly.Exports): void;
  SchemaEngine: { new: (options: { datamodels: [string, string][] }, log: (json: string) => void, adapterFactory: object) => Promise<SchemaEngine> };
}

const NO_FILTERS: SchemaFilter = { externalTables: [], externalEnums: [] };
/** Prisma's own migration lock key: holding it also keeps a native `prisma migrate deploy` out. */
const PRISMA_LOCK_KEY = 72707369;
const ENGINE_LOCK_SQL = /^\s*SELECT pg_advisory_lock\(72707369\)\s*;?\s*$/i;
/** The engine panics without a datamodel; deploying needs no more than the provider (not schema.prisma). */
const DATASOURCE_ONLY = 'datasource db {\n  provider = "postgresql"\n}\n';

// Rust panics are reported through this global (@prisma/client installs its own); without one a panic
// surfaces as "Cannot read properties of undefined (reading 'set_message')".
const panics = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { set_message(message: string): void } };
panics.PRISMA_WASM_PANIC_REGISTRY ??= {
  set_message(message) {
    throw new Error(`Prisma schema engine panicked: ${message}`);
  },
};

let bindings: Promise<WasmBindings> | undefined;
/** The package entry does `import * as wasm from "./x.wasm"`, which Node cannot load: instantiate it by hand, once. */
function loadEngine(): Promise<WasmBindings> {
  bindings ??= (async () => {
    const jsPath = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const bg = (await import(pathToFileURL(jsPath).href)) as WasmBindings & WebAssembly.ModuleImports;
    const bytes = await readFile(path.join(path.dirname(jsPath), 'schema_engine_bg.wasm'));
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': bg });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return bg;
  })();
  return bindings;
}

/** The nearest directory above this module holding package.json (works from src/ and dist/src/). */
export function findProjectRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`No package.json above ${from}`);
  }
}

/** Reads the migrations directory exactly as the Prisma CLI does (sorted folders, missing files as errors). */
async function listMigrations(baseDir: string): Promise<MigrationList> {
  const lockfile = { path: 'migration_lock.toml', content: await readFile(path.join(baseDir, 'migration_lock.toml'), 'utf8').catch(() => null) };
  const entries = await readdir(baseDir, { withFileTypes: true }).catch(() => []);
  const dirs = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b));
  const migrationDirectories = await Promise.all(
    dirs.map(async (dir) => ({
      path: dir,
      migrationFile: {
        path: 'migration.sql',
        content: await readFile(path.join(baseDir, dir, 'migration.sql'), 'utf8').then(
          (value): FileContent => ({ tag: 'ok', value }),
          (error: Error): FileContent => ({ tag: 'error', value: error.message }),
        ),
      },
    })),
  );
  return { baseDir, lockfile, shadowDbInitScript: '', migrationDirectories };
}

/**
 * The adapter as the engine should see it. The engine runs each migration through `executeScript`, which
 * @prisma/adapter-pg 7.10 splits on every ';' (a ';' in a comment or string breaks the script) and
 * pglite-prisma-adapter 0.7 does not await (a failing script would be recorded as applied). Send the
 * whole script as one simple-protocol query instead, as the native engine does: PostgreSQL then runs it
 * as one implicit transaction. `skipEngineLock` drops the engine's own advisory lock when we hold it.
 */
function forEngine(adapter: SqlDriverAdapter, skipEngineLock: boolean): SqlDriverAdapter {
  type Driver = { exec?: (sql: string) => Promise<unknown>; query?: (sql: string) => Promise<unknown> } | undefined;
  // adapter-pg exposes its pg.Pool; pglite-prisma-adapter keeps the PGlite in `client`.
  const driver = ((adapter as { underlyingDriver?: () => unknown }).underlyingDriver?.() ?? (adapter as { client?: unknown }).client) as Driver;
  // PGlite's exec, and pg's query without parameters, use the simple query protocol: many statements, one call.
  const runScript = (sql: string): Promise<unknown> =>
    typeof driver?.exec === 'function' ? driver.exec(sql) : typeof driver?.query === 'function' ? driver.query(sql) : adapter.executeScript(sql);
  const info = adapter.getConnectionInfo?.bind(adapter);
  return {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    queryRaw: (query) => adapter.queryRaw(query),
    executeRaw: (query) => (skipEngineLock && ENGINE_LOCK_SQL.test(query.sql) ? Promise.resolve(0) : adapter.executeRaw(query)),
    executeScript: async (script) => {
      await runScript(script).catch((error: unknown) => {
        throw asAdapterError(error);
      });
    },
    startTransaction: (isolationLevel) => adapter.startTransaction(isolationLevel),
    ...(info ? { getConnectionInfo: info } : {}),
    dispose: () => adapter.dispose(),
  };
}

/** A driver's error as the engine reads it: a plain Error would only show as "External error id#0". */
function asAdapterError(error: unknown): unknown {
  const e = error as Partial<Record<'code' | 'severity' | 'detail' | 'column' | 'hint', unknown>>;
  if (!(error instanceof Error) || typeof e.code !== 'string') return error;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return new DriverAdapterError({
    kind: 'postgres',
    code: e.code,
    severity: text(e.severity) ?? 'ERROR',
    message: error.message,
    detail: text(e.detail),
    column: text(e.column),
    hint: text(e.hint),
  });
}

/**
 * Runs `fn` with an engine on `adapterFactory`. The engine opens connections itself and never closes
 * them, so we close them afterwards; the shadow database (diff only) is always a fresh in-memory PGlite.
 */
async function withEngine<T>(
  adapterFactory: SqlDriverAdapterFactory,
  datamodel: string,
  skipEngineLock: boolean,
  log: ((msg: string) => void) | undefined,
  fn: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const { SchemaEngine } = await loadEngine();
  const opened: SqlDriverAdapter[] = [];
  const shadows: PGlite[] = [];
  const factory = bindMigrationAwareSqlAdapterFactory({
    provider: adapterFactory.provider,
    adapterName: adapterFactory.adapterName,
    connect: async () => {
      const adapter = await adapterFactory.connect();
      opened.push(adapter);
      return forEngine(adapter, skipEngineLock);
    },
    // Not the adapter's own shadow: @prisma/adapter-pg 7.10 cannot read the "char" columns of the
    // engine's introspection queries, and a PGlite shadow needs no CREATEDB right on the server.
    connectToShadowDb: async () => {
      const shadow = new PGlite();
      shadows.push(shadow);
      return forEngine(await new PrismaPGlite(shadow).connect(), false);
    },
  });
  const engine = await SchemaEngine.new(
    { datamodels: [['schema.prisma', datamodel]] },
    (json) => {
      const message = log && engineMessage(json);
      if (message) log(message);
    },
    factory,
  );
  try {
    return await fn(engine);
  } finally {
    engine.free();
    await Promise.allSettled([...opened.map((a) => a.dispose()), ...shadows.map((s) => s.close())]);
  }
}

/** The engine logs JSON lines; keep the text of INFO and above ("Applying `20261124000000_init`"). */
function engineMessage(json: string): string | undefined {
  try {
    const { level = 'INFO', fields } = JSON.parse(json) as { level?: string; fields?: { message?: string } };
    if (level === 'DEBUG' || level === 'TRACE') return undefined;
    return `${level === 'INFO' ? '' : `${level}: `}${fields?.message ?? json}`;
  } catch {
    return json;
  }
}

/** Takes Prisma's migration lock on a dedicated session (a pooled one would keep it after release). */
async function withAdvisoryLock<T>(connectionString: string, log: ((msg: string) => void) | undefined, fn: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString, application_name: 'migrations-lock' });
  client.on('error', () => undefined); // a dropped session releases the lock; the query in flight reports it
  await client.connect();
  try {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [PRISMA_LOCK_KEY]);
    if (!rows[0]?.ok) {
      log?.('Another process is migrating this database; waiting for its lock');
      await client.query('SELECT pg_advisory_lock($1)', [PRISMA_LOCK_KEY]);
    }
    return await fn();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_LOCK_KEY]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

let queue: Promise<unknown> = Promise.resolve();
/** Serializes lock-less runs within this process (PGlite is one session, so advisory locks cannot). */
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const result = queue.then(fn, fn);
  queue = result.catch(() => undefined);
  return result;
}

export interface ApplyMigrationsOptions {
  /** Default: `prisma/migrations` under the project root. */
  migrationsDir?: string;
  /** Progress: lock waits and the engine's messages (e.g. "Applying `20261124000000_init`"). */
  log?: (msg: string) => void;
  /**
   * PostgreSQL only, and wanted there: the URL the adapter connects to. Prisma's advisory lock
   * (72707369) is then held on a dedicated session around the whole run, so replicas migrating at once
   * take turns, waiting as long as needed. Without it the engine takes that lock itself on a pooled
   * connection, gives up after 10 s (P1002) and leaves it with whatever pool the factory uses.
   */
  connectionString?: string;
}

/**
 * Applies the pending `migrations/<name>/migration.sql` scripts and records them in `_prisma_migrations`
 * with Prisma's checksums, like `prisma migrate deploy` (either can take over from the other).
 * Returns the migrations this call applied: `[]` when the database was up to date.
 */
export async function applyMigrations(adapterFactory: SqlDriverAdapterFactory, options: ApplyMigrationsOptions = {}): Promise<{ applied: string[] }> {
  const { migrationsDir = path.join(findProjectRoot(), 'prisma/migrations'), log, connectionString } = options;
  // Nothing to do is the usual case (every start of the embedded database): answer it with one query
  // instead of loading the engine (seconds). A failed migration still goes to the engine, which reports it.
  const status = await migrationStatus(adapterFactory, migrationsDir);
  if (status.pending.length === 0 && status.failed.length === 0) return { applied: [] };
  const run = () =>
    withEngine(adapterFactory, DATASOURCE_ONLY, connectionString !== undefined, log, async (engine) => {
      const migrationsList = await listMigrations(path.resolve(migrationsDir));
      const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: NO_FILTERS });
      return { applied: appliedMigrationNames };
    });
  return connectionString !== undefined ? withAdvisoryLock(connectionString, log, run) : serialized(run);
}

/**
 * The SQL that takes a database built by the existing migrations to `prisma/schema.prisma`, i.e. the next
 * migration. Replays the migrations on a throwaway in-memory PGlite; `adapterFactory`'s database is only
 * probed, never changed. Empty (see {@link isEmptyMigration}) when schema and migrations agree.
 */
export async function diffToSchema(adapterFactory: SqlDriverAdapterFactory, options: { migrationsDir?: string; schemaPath?: string } = {}): Promise<string> {
  const root = findProjectRoot();
  const { migrationsDir = path.join(root, 'prisma/migrations'), schemaPath = path.join(root, 'prisma/schema.prisma') } = options;
  const datamodel = await readFile(schemaPath, 'utf8');
  return withEngine(adapterFactory, datamodel, false, undefined, async (engine) => {
    const migrations = await listMigrations(path.resolve(migrationsDir));
    // With no migrations there is no migration_lock.toml either, and the engine needs one to pick a connector.
    const from: DiffTarget = migrations.migrationDirectories.length ? { tag: 'migrations', ...migrations } : { tag: 'empty' };
    const to: DiffTarget = { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: datamodel }] };
    const { stdout } = await engine.diff({ from, to, script: true, exitCode: null, filters: NO_FILTERS });
    return stdout ?? '';
  });
}

/** True when `sql` holds nothing but comments and whitespace (the engine says "-- This is an empty migration."). */
export function isEmptyMigration(sql: string): boolean {
  return (
    sql
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/--[^\n]*/g, '')
      .trim() === ''
  );
}

/** Which migrations of a directory a database lacks. */
export interface MigrationStatus {
  /** Not applied (in order); all of them when `_prisma_migrations` does not exist. */
  readonly pending: string[];
  /** Recorded as started but neither finished nor rolled back: `prisma migrate deploy` refuses to go on. */
  readonly failed: string[];
}

/**
 * Compares `migrations/` with the database's `_prisma_migrations` table, in one read-only query and
 * without the engine, so a server can check on every start that its database is migrated.
 */
export async function migrationStatus(adapterFactory: SqlDriverAdapterFactory, migrationsDir = path.join(findProjectRoot(), 'prisma/migrations')): Promise<MigrationStatus> {
  const names = (await listMigrations(path.resolve(migrationsDir))).migrationDirectories.map((d) => d.path);
  const adapter = await adapterFactory.connect();
  try {
    const query = (sql: string) => adapter.queryRaw({ sql, args: [], argTypes: [] });
    const table = await query(`SELECT to_regclass('_prisma_migrations') IS NOT NULL AS "exists"`);
    if (!table.rows[0]?.[0]) return { pending: names, failed: [] };
    const { rows } = await query('SELECT migration_name, finished_at IS NOT NULL, rolled_back_at IS NOT NULL FROM _prisma_migrations');
    const finished = new Set(rows.filter((r) => r[1] && !r[2]).map((r) => String(r[0])));
    const failed = rows.filter((r) => !r[1] && !r[2]).map((r) => String(r[0]));
    return { pending: names.filter((n) => !finished.has(n)), failed };
  } finally {
    await adapter.dispose();
  }
}

/** A digest of the migrations (names and scripts): it changes with any new or edited migration. */
export async function migrationsDigest(migrationsDir = path.join(findProjectRoot(), 'prisma/migrations')): Promise<string> {
  const hash = createHash('sha256');
  for (const { path: name, migrationFile } of (await listMigrations(path.resolve(migrationsDir))).migrationDirectories) {
    hash.update(`${name}\0${migrationFile.content.tag === 'ok' ? migrationFile.content.value : ''}\0`);
  }
  return hash.digest('hex');
}
