// src/migrations.ts drives Prisma-internal packages (the WASM schema engine); these tests pin down that it
// still behaves like `prisma migrate deploy`. PGlite always; PostgreSQL too when TEST_DATABASE_URL or
// DATABASE_URL names a server (each run creates and drops its own databases there).
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, diffToSchema, findProjectRoot, isEmptyMigration } from '../src/migrations.js';
import { testServerUrl } from './helpers/postgres.js';

const serverUrl = testServerUrl();
const slow = { timeout: 60_000 };
const migrationsDir = path.join(findProjectRoot(), 'prisma/migrations');
const folders = readdirSync(migrationsDir, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();
/** What `prisma migrate deploy` records: the sha256 (hex) of the migration.sql bytes. */
const checksum = (folder: string) =>
  createHash('sha256')
    .update(readFileSync(path.join(migrationsDir, folder, 'migration.sql')))
    .digest('hex');

type Query = <T>(sql: string) => Promise<T[]>;
interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

const SCHEMA_SQL = {
  columns: `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
            WHERE table_schema = 'public' ORDER BY table_name, column_name`,
  indexes: `SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname`,
};
const snapshot = async (query: Query) => ({ columns: await query(SCHEMA_SQL.columns), indexes: await query(SCHEMA_SQL.indexes) });

/** The checks both databases must pass once migrated. */
function migratedDatabaseCases(db: () => { query: Query; first: { applied: string[] } }) {
  it('applies every migration to an empty database and records it as prisma migrate deploy does', () => {
    expect(db().first.applied).toEqual(folders);
  });

  it('records one finished row per migration folder, with the sha256 of migration.sql as checksum', async () => {
    const rows = await db().query<MigrationRow>('SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY migration_name');
    expect(rows.map((r) => r.migration_name)).toEqual(folders);
    for (const row of rows) {
      expect(row.finished_at).not.toBeNull();
      expect(row.rolled_back_at).toBeNull();
      expect(row.checksum).toBe(checksum(row.migration_name));
    }
  });

  it('rejects an upper-case email (the CHECK that makes the unique index case-insensitive)', async () => {
    const insert = (email: string) => db().query(`INSERT INTO "User" (email, name) VALUES ('${email}', 'Check') RETURNING id`);
    await expect(insert('Mixed.Case@example.com')).rejects.toThrow(/User_email_lowercase/);
    await expect(insert('lower.case@example.com')).resolves.toHaveLength(1);
  });

  it('gives new users, teams and outbox events time-ordered ids (UUID version 7)', async () => {
    const defaults = await db().query<{ table_name: string; column_default: string }>(
      `SELECT table_name, column_default FROM information_schema.columns
       WHERE table_schema = 'public' AND column_name = 'id' AND table_name IN ('User', 'Team', 'OutboxEvent') ORDER BY table_name`,
    );
    expect(defaults).toEqual(['OutboxEvent', 'Team', 'User'].map((table_name) => ({ table_name, column_default: 'uuid_generate_v7()' })));

    const before = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [row] = await db().query<{ id: string }>(`INSERT INTO "User" (email, name) VALUES ('v7-${i}@example.com', 'V7') RETURNING id`);
      ids.push(row!.id);
      await new Promise((resolve) => setTimeout(resolve, 3)); // the next id is in a later millisecond
    }
    const after = Date.now();
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      // The first 48 bits are the database's clock in milliseconds (the same machine's clock here).
      const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
      expect(ms).toBeGreaterThanOrEqual(before - 1_000);
      expect(ms).toBeLessThanOrEqual(after + 1_000);
    }
    // In creation order by PostgreSQL's own uuid comparison, which B-tree inserts follow.
    const sorted = await db().query<{ id: string }>(`SELECT id FROM "User" WHERE email LIKE 'v7-%' ORDER BY id`);
    expect(sorted.map((r) => r.id)).toEqual(ids);
    // Random in the rest: two ids made in the same statement (hence usually the same millisecond) differ.
    const [pair] = await db().query<{ a: string; b: string }>('SELECT uuid_generate_v7() AS a, uuid_generate_v7() AS b');
    expect(pair!.a).not.toBe(pair!.b);
  });
}

let pglite: PGlite;
let pgliteFirst: { applied: string[] };
const pgliteQuery: Query = async <T>(sql: string) => (await pglite.query<T>(sql)).rows;

beforeAll(async () => {
  pglite = new PGlite('memory://');
  pgliteFirst = await applyMigrations(new PrismaPGlite(pglite));
}, 60_000);
afterAll(async () => {
  await pglite?.close();
});

describe('migrations on PGlite', () => {
  migratedDatabaseCases(() => ({ query: pgliteQuery, first: pgliteFirst }));

  it('is a no-op when the database is up to date', slow, async () => {
    expect(await applyMigrations(new PrismaPGlite(pglite))).toEqual({ applied: [] });
  });

  it('finds schema.prisma and the migrations in agreement (diffToSchema is empty)', slow, async () => {
    expect(isEmptyMigration(await diffToSchema(new PrismaPGlite(pglite)))).toBe(true);
  });

  it('diffs from an empty migrations directory to the full schema', slow, async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'migrations-'));
    try {
      const sql = await diffToSchema(new PrismaPGlite(pglite), { migrationsDir: empty });
      expect(isEmptyMigration(sql)).toBe(false);
      expect(sql).toContain('CREATE TABLE "User"');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('keeps a uuid_generate_v7() the database already has (as the pg_uuidv7 extension makes) and uses it', slow, async () => {
    const db = new PGlite('memory://');
    try {
      const theirs = '01890a5d-ac96-774b-bcce-b302099a8057';
      await db.exec(`CREATE FUNCTION uuid_generate_v7() RETURNS uuid LANGUAGE sql AS $$ SELECT '${theirs}'::uuid $$`);
      expect((await applyMigrations(new PrismaPGlite(db))).applied).toEqual(folders);
      const { rows } = await db.query<{ id: string }>(`INSERT INTO "User" (email, name) VALUES ('theirs@example.com', 'Theirs') RETURNING id`);
      expect(rows).toEqual([{ id: theirs }]);
    } finally {
      await db.close();
    }
  });

  it('reports a failing migration with the database error and does not record it as finished', slow, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'migrations-'));
    const db = new PGlite('memory://');
    try {
      writeFileSync(path.join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
      mkdirSync(path.join(dir, '20260101000000_broken'));
      // The ';' in the comment must not split the script; the statements before the error must roll back.
      writeFileSync(path.join(dir, '20260101000000_broken/migration.sql'), 'CREATE TABLE "A" (id int);\n-- one; two\nSELECT 1/0;\n');
      await expect(applyMigrations(new PrismaPGlite(db), { migrationsDir: dir })).rejects.toThrow(/division by zero/);
      expect((await db.query('SELECT finished_at FROM _prisma_migrations')).rows).toEqual([{ finished_at: null }]);
      expect((await db.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'A'`)).rows).toEqual([]);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

it('isEmptyMigration ignores comments and whitespace only', () => {
  expect(isEmptyMigration('-- This is an empty migration.\n')).toBe(true);
  expect(isEmptyMigration('  /* nothing */\n\n')).toBe(true);
  expect(isEmptyMigration('-- AddColumn\nALTER TABLE "User" ADD COLUMN "bio" TEXT;\n')).toBe(false);
});

describe.skipIf(!serverUrl)('migrations on PostgreSQL', () => {
  const created: string[] = [];
  const admin = () => {
    const url = new URL(serverUrl ?? '');
    url.pathname = '/postgres';
    return url.toString();
  };
  async function createDatabase(): Promise<string> {
    const name = `migrations_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
    const client = new pg.Client({ connectionString: admin() });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } finally {
      await client.end();
    }
    created.push(name);
    const url = new URL(serverUrl ?? '');
    url.pathname = `/${name}`;
    return url.toString();
  }

  let url: string;
  let client: pg.Client;
  let first: { applied: string[] };
  const query: Query = async <T>(sql: string) => (await client.query(sql)).rows as T[];

  beforeAll(async () => {
    url = await createDatabase();
    first = await applyMigrations(new PrismaPg({ connectionString: url }), { connectionString: url });
    client = new pg.Client({ connectionString: url });
    await client.connect();
  }, 60_000);

  afterAll(async () => {
    await client?.end();
    const adminClient = new pg.Client({ connectionString: admin() });
    await adminClient.connect();
    try {
      for (const name of created) await adminClient.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await adminClient.end();
    }
  }, 60_000);

  migratedDatabaseCases(() => ({ query, first }));

  it('is a no-op when the database is up to date', slow, async () => {
    expect(await applyMigrations(new PrismaPg({ connectionString: url }), { connectionString: url })).toEqual({ applied: [] });
  });

  it('applies each migration exactly once when replicas migrate at the same time', slow, async () => {
    const fresh = await createDatabase();
    const runs = await Promise.all([1, 2, 3].map(() => applyMigrations(new PrismaPg({ connectionString: fresh }), { connectionString: fresh })));
    expect(runs.flatMap((r) => r.applied).sort()).toEqual(folders);
    const check = new pg.Client({ connectionString: fresh });
    await check.connect();
    try {
      const { rows } = await check.query('SELECT migration_name, count(*)::int AS n, bool_and(finished_at IS NOT NULL) AS finished FROM _prisma_migrations GROUP BY 1 ORDER BY 1');
      expect(rows).toEqual(folders.map((migration_name) => ({ migration_name, n: 1, finished: true })));
      // Neither our lock nor the engine's may outlive the runs (the next replica would wait for it).
      expect(
        (await check.query(`SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)).rows,
      ).toEqual([]);
    } finally {
      await check.end();
    }
  });

  it('leaves no advisory lock behind in a pool the caller keeps (as src/db.ts passes one)', slow, async () => {
    const pool = new pg.Pool({ connectionString: url });
    try {
      expect(await applyMigrations(new PrismaPg(pool), { connectionString: url })).toEqual({ applied: [] });
      expect((await pool.query(`SELECT objid FROM pg_locks WHERE locktype = 'advisory'`)).rows).toEqual([]);
    } finally {
      await pool.end();
    }
  });

  it('builds the same tables, columns and indexes as on PGlite', async () => {
    const onPostgres = await snapshot(query);
    expect(onPostgres.columns).toContainEqual({ table_name: 'User', column_name: 'email', data_type: 'character varying', is_nullable: 'NO' });
    expect(onPostgres.indexes).toContainEqual({ indexname: 'User_email_key' });
    expect(onPostgres).toEqual(await snapshot(pgliteQuery));
  });

  it('finds schema.prisma and the migrations in agreement (diffToSchema is empty)', slow, async () => {
    expect(isEmptyMigration(await diffToSchema(new PrismaPg({ connectionString: url })))).toBe(true);
  });
});
