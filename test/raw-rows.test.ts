import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { queryRows, StatementTally } from '../src/db.js';
import { Prisma } from '../src/generated/prisma/client.js';
import { classifyDatabaseError } from '../src/resolvers/errors.js';
import { useTestApp } from './helpers/app.js';

/**
 * queryRows sends a raw statement straight to Prisma's driver adapter. Differential tests: every value
 * type and argument type through queryRows and through `$queryRaw` must give equal rows; the statement
 * is counted in its scope like any other; failures are classified as `$queryRaw`'s are.
 */
const t = useTestApp();

const bothWays = async (statement: Prisma.Sql) => {
  const direct = await queryRows<Record<string, unknown>>(t.db.prisma, statement);
  const client = await t.db.prisma.$queryRaw<Record<string, unknown>[]>(statement);
  return { direct, client };
};

describe('queryRows', () => {
  it('gives the rows $queryRaw gives, for every column type the schema uses and more', async () => {
    const { direct, client } = await bothWays(Prisma.sql`
      SELECT 7::int AS "int", 9007199254740993::bigint AS "bigint", 1.5::float8 AS "float", 2.25::real AS "real",
             123.4500::numeric AS "numeric", true AS "bool", 'text'::text AS "text", 'c'::char(3) AS "char",
             '2025-01-02 03:04:05.678'::timestamp(3) AS "timestamp", '2025-01-02 03:04:05.678+02'::timestamptz AS "timestamptz",
             '2025-01-02'::date AS "date", '04:05:06'::time AS "time", '{"a": [1, "x", null]}'::jsonb AS "jsonb",
             '00000000-0000-4000-8000-000000000001'::uuid AS "uuid", 'OWNER'::"TeamRole" AS "enum",
             ARRAY[1, 2]::int[] AS "ints", ARRAY[3, NULL]::bigint[] AS "bigints", ARRAY['2025-01-01 00:00:00'::timestamp] AS "timestamps",
             ARRAY['a', NULL]::text[] AS "texts", ARRAY[1.5, NULL]::numeric[] AS "numerics", ARRAY[true, false] AS "bools",
             ARRAY['2025-01-02'::date] AS "dates", ARRAY['{"a": 1}'::jsonb] AS "jsons",
             ARRAY['00000000-0000-4000-8000-000000000001'::uuid] AS "uuids", NULL::int AS "nothing"`);
    expect(direct).toEqual(client);
    expect(direct[0]!.bigint).toBe(9007199254740993n);
    expect(direct[0]!.timestamp).toBeInstanceOf(Date);
    expect(Object.keys(direct[0]!)).toEqual(Object.keys(client[0]!));
  });

  it('binds every argument type as $queryRaw does', async () => {
    const when = new Date('2025-06-07T08:09:10.123Z');
    const ids = [randomUUID(), randomUUID()];
    const { direct, client } = await bothWays(Prisma.sql`
      SELECT ${'text'}::text AS "s", ${42}::int AS "i", ${1.25}::float8 AS "f", ${12345678901234n}::bigint AS "b",
             ${true}::boolean AS "t", ${when}::timestamp(3) AS "d", ${ids}::uuid[] AS "ids", ${null}::text AS "n",
             ${{ a: 1 }}::jsonb AS "j", ${[1, 2, 3]}::int[] AS "ints"`);
    expect(direct).toEqual(client);
    expect(direct[0]!.d).toEqual(when);
    expect(direct[0]!.ids).toEqual(ids);
  });

  it('gives the model rows findMany gives when it selects the model columns', async () => {
    const email = `raw-${randomUUID()}@example.com`;
    const user = await t.db.prisma.user.create({ data: { email, name: 'Raw Rows' } });
    const columns = Prisma.raw(
      Object.values(Prisma.UserScalarFieldEnum)
        .map((c) => `"${c}"`)
        .join(', '),
    );
    const [row] = await queryRows(t.db.prisma, Prisma.sql`SELECT ${columns} FROM "User" WHERE "id" = ANY(${[user.id]}::uuid[])`);
    expect(row).toEqual(user);
    expect(row).toEqual(await t.db.prisma.user.findUnique({ where: { id: user.id } }));
  });

  it('is a statement of the scope that sends it, counted and named like any other', async () => {
    const tally = new StatementTally([]);
    await t.db.tally(tally, () => queryRows(t.db.prisma, Prisma.sql`SELECT ${1}::int AS "one"`));
    expect(tally.count).toBe(1);
    expect(tally.texts).toEqual(['SELECT $1::int AS "one"']);
  });

  it('is refused once its scope was aborted, as every statement is', async () => {
    const controller = new AbortController();
    controller.abort(new Error('deadline passed'));
    const tally = new StatementTally(undefined, controller.signal);
    const error = await t.db.tally(tally, () => queryRows(t.db.prisma, Prisma.sql`SELECT 1`)).catch((e: unknown) => e);
    expect((error as Error).message).toBe('deadline passed');
    expect(tally.count).toBe(0);
  });

  it('fails as $queryRaw fails: a unique violation is classified the same way', async () => {
    const email = `raw-dup-${randomUUID()}@example.com`;
    await t.db.prisma.user.create({ data: { email, name: 'First' } });
    const insert = Prisma.sql`INSERT INTO "User" ("email", "name", "updatedAt") VALUES (${email}, 'Second', now())`;
    const direct = await queryRows(t.db.prisma, insert).catch((e: unknown) => e);
    const client = await t.db.prisma.$queryRaw(insert).catch((e: unknown) => e);
    expect(classifyDatabaseError(client)).toMatchObject({ kind: 'unique' });
    expect(classifyDatabaseError(direct)).toEqual(classifyDatabaseError(client));
  });

  it('goes through the client when rawThroughClient is set (tracing on), with the same rows', async () => {
    const statement = Prisma.sql`SELECT ${5}::int AS "five"`;
    const spy = vi.spyOn(t.db.prisma, '$queryRaw');
    try {
      t.db.rawThroughClient = true;
      expect(await queryRows(t.db.prisma, statement)).toEqual([{ five: 5 }]);
      expect(spy).toHaveBeenCalledTimes(1);
      t.db.rawThroughClient = false;
      expect(await queryRows(t.db.prisma, statement)).toEqual([{ five: 5 }]);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      t.db.rawThroughClient = false;
      spy.mockRestore();
    }
  });
});
