import { describe, expect, it } from 'vitest';
import { statementNames } from '../src/pool.js';
import { toGlobalId } from '../src/ids.js';
import { useTestApp } from './helpers/app.js';
import { onPostgres } from './helpers/database.js';

/**
 * Statements are prepared by name (DB_STATEMENT_CACHE_SIZE): parsed once per connection and run on
 * PostgreSQL's cached generic plan, and a page's LIMITs are literals so that the plan can be cached.
 */

describe('statementNames', () => {
  it('is off at 0', () => {
    expect(statementNames(0)).toBeUndefined();
  });

  it('gives each distinct query or write a stable name, up to its capacity, and leaves the rest unnamed', () => {
    const name = statementNames(2)!;
    const first = name({ sql: 'SELECT 1' });
    expect(first).toMatch(/^uag_\d+$/);
    expect(name({ sql: 'SELECT 1' })).toBe(first);
    const second = name({ sql: 'with x as (select 1) insert into t select * from x' });
    expect(second).toMatch(/^uag_\d+$/);
    expect(second).not.toBe(first);
    expect(name({ sql: 'SELECT 3' })).toBe('');
    expect(name({ sql: 'SELECT 1' })).toBe(first);
  });

  it('does not name transaction control, SET or DDL', () => {
    const name = statementNames(10)!;
    for (const sql of ['BEGIN', 'COMMIT', 'SET LOCAL statement_timeout = 1000', 'CREATE TABLE t (a int)', 'SELECTED', '']) expect(name({ sql })).toBe('');
  });
});

describe.skipIf(!onPostgres)('a page on PostgreSQL', () => {
  const t = useTestApp({ DB_POOL_MAX: '1' });
  const PAGE = '{ users(first: 3) { totalCount edges { node { id teams(first: 2) { totalCount edges { node { id } } } } } } }';

  it('runs on a named statement with a cached generic plan, its LIMITs written as literals', async () => {
    for (let i = 0; i < 7; i++) expect((await t.gql(PAGE)).errors).toBeUndefined();
    // DB_POOL_MAX=1: this runs on the connection that ran the pages.
    const prepared = await t.db.prisma.$queryRaw<{ name: string; statement: string; generic_plans: bigint; custom_plans: bigint }[]>`
      SELECT name, statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%__totalCount%' AND statement NOT LIKE '%pg_prepared_statements%'`;
    expect(prepared).toHaveLength(1);
    const [page] = prepared;
    expect(page!.name).toMatch(/^uag_\d+$/);
    expect(page!.statement).toMatch(/LIMIT 4\b/);
    expect(page!.statement).not.toMatch(/\$\d/);
    expect(Number(page!.generic_plans)).toBeGreaterThanOrEqual(6);
  });

  it('looks rows up by key on a cached generic plan: node(id), user(id) with its teams, team(id)', async () => {
    const user = await t.db.prisma.user.create({ data: { email: `prep-${Date.now().toString(36)}@example.com`, name: 'Prepared' } });
    const team = await t.db.prisma.team.create({ data: { slug: `prep-${Date.now().toString(36)}`, name: 'Prepared' } });
    // Tables big enough for the planner to price an index lookup: on a handful of rows a scan wins
    // either way, and `= ANY($1)` gets its generic plan too.
    await t.db.prisma.$executeRaw`INSERT INTO "User" ("email", "name") SELECT 'prep-' || i || '-' || ${team.id} || '@example.com', 'Filler' FROM generate_series(1, 2000) AS i`;
    await t.db.prisma.$executeRaw`INSERT INTO "Team" ("slug", "name") SELECT 'prep-' || i || '-' || ${team.id}, 'Filler' FROM generate_series(1, 2000) AS i`;
    await t.db.prisma.$executeRaw`ANALYZE "User", "Team", "Membership"`;
    const lookups = [
      ['node(id)', `{ node(id: "${toGlobalId('User', user.id)}") { id } }`],
      ['user(id) with teams', `{ user(id: "${toGlobalId('User', user.id)}") { id teams(first: 2) { edges { node { id } } } } }`],
      ['team(id)', `{ team(id: "${toGlobalId('Team', team.id)}") { id name } }`],
    ] as const;
    for (const [name, query] of lookups) {
      t.resetStatements();
      for (let i = 0; i < 7; i++) expect((await t.gql(query)).errors, name).toBeUndefined();
      const sent = [...new Set(t.statements)];
      expect(sent, name).toHaveLength(1);
      const [row] = await t.db.prisma.$queryRaw<{ generic_plans: bigint; custom_plans: bigint }[]>`
        SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = ${sent[0]}`;
      // PostgreSQL plans the first five executions for their values, then keeps the generic plan.
      expect(Number(row!.generic_plans), name).toBeGreaterThanOrEqual(2);
    }
  });
});
