import { queryRows } from '../db.js';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { getDatamodel } from '../generated/pothos-types.js';

/**
 * One SQL statement for a root connection page: the page, every nested connection the GraphQL
 * selection asks for (each with its own per-parent LIMIT) and, when asked, the root totalCount.
 *
 * Why raw SQL: Prisma's query builder puts a page and its nested relations in one statement
 * (`relationLoadStrategy: 'join'`), but it cannot add an aggregate over the root rows to it, so the
 * root totalCount always cost a second statement (`prisma.user.count()`). This module takes the very
 * query plugin-prisma planned from the selection (`include`/`select`, `take`, `skip`, `cursor`,
 * `orderBy`) and writes it as one statement with Prisma's tagged-template raw SQL, answering rows of
 * the shape Prisma would have answered, so Pothos resolves every nested field from them. Anything
 * outside the small grammar our schema produces (a relation count, a nested filter, a model or
 * relation it does not know) raises `UnsupportedQuery`, and the caller runs Prisma's own query
 * instead: slower, never wrong.
 *
 * Cursor semantics are Prisma's: the cursor row's order-by values bound the page (inclusive), `skip`
 * passes over the cursor row, a negative `take` pages backwards and the rows come back in the
 * requested order. A cursor naming a row that no longer exists gives an empty page, as with Prisma.
 * Every nested page is a LIMIT over an index-ordered scan of Membership ((userId, teamId) primary
 * key, (teamId, userId) index) and builds JSON only for the rows it returns, so the cost of a page
 * follows the page, not the size of a team or of a user's team list.
 */

export class UnsupportedQuery extends Error {}

/**
 * Which columns of a model's rows the caller will read, by model; a model not named gets whole rows.
 * Narrows rows Prisma's query would load whole (`include`, or a relation given as `true`), and the
 * scalars a `select` names (a membership page selects its key, role and joinedAt whatever is read).
 */
export type ColumnChoice = Partial<Record<string, ReadonlySet<string>>>;

type Direction = 'asc' | 'desc';

/** The part of a Prisma findMany argument plugin-prisma plans: what this module compiles. */
export interface PlannedQuery {
  take?: number;
  skip?: number;
  cursor?: Record<string, unknown>;
  /** Prisma's orderBy: `{ column: 'asc' | 'desc' }` or a list of them (checked when compiled). */
  orderBy?: unknown;
  select?: Record<string, unknown>;
  include?: Record<string, unknown>;
}

interface ModelInfo {
  readonly table: Prisma.Sql;
  readonly scalars: ReadonlySet<string>;
  readonly enums: ReadonlySet<string>;
  readonly dates: ReadonlySet<string>;
  readonly relations: ReadonlyMap<string, Relation>;
}

interface Relation {
  readonly model: string;
  readonly list: boolean;
  /** Column of the related row = column of the parent row. */
  readonly on: readonly [related: string, parent: string];
}

/** Columns a cursor may name: the keys, which are uuid (a text parameter needs the cast to use the index). */
const UUID_COLUMNS: Record<string, ReadonlySet<string>> = {
  User: new Set(['id']),
  Team: new Set(['id']),
  Membership: new Set(['userId', 'teamId']),
};

interface DmmfField {
  name: string;
  kind: string;
  type: string;
  isList: boolean;
  relationName?: string;
  relationFromFields?: string[];
}

/** The three models' columns, from Prisma's datamodel (so a new column is selected without a change here). */
const MODELS: ReadonlyMap<string, ModelInfo> = (() => {
  const models = getDatamodel().datamodel.models as unknown as Record<string, { fields: DmmfField[] }>;
  const result = new Map<string, ModelInfo>();
  for (const name of Object.keys(UUID_COLUMNS)) {
    const fields = models[name]!.fields;
    const relations = new Map<string, Relation>();
    for (const f of fields.filter((f) => f.kind === 'object')) {
      if (f.isList) {
        // The foreign key is on the other side: find it there by the relation's name.
        const back = models[f.type]!.fields.find((g) => g.relationName === f.relationName && g.kind === 'object');
        const fk = back?.relationFromFields?.[0];
        if (fk) relations.set(f.name, { model: f.type, list: true, on: [fk, 'id'] });
      } else if (f.relationFromFields?.length === 1) {
        relations.set(f.name, { model: f.type, list: false, on: ['id', f.relationFromFields[0]!] });
      }
    }
    result.set(name, {
      table: Prisma.raw(`"${name}"`),
      scalars: new Set(fields.filter((f) => f.kind === 'scalar' || f.kind === 'enum').map((f) => f.name)),
      enums: new Set(fields.filter((f) => f.kind === 'enum').map((f) => f.name)),
      dates: new Set(fields.filter((f) => f.type === 'DateTime').map((f) => f.name)),
      relations,
    });
  }
  return result;
})();

function modelInfo(name: string): ModelInfo {
  const model = MODELS.get(name);
  if (!model) throw new UnsupportedQuery(`model ${name}`);
  return model;
}

const ident = (name: string) => Prisma.raw(`"${name}"`);
const col = (alias: string, name: string) => Prisma.raw(`"${alias}"."${name}"`);

/**
 * One level's fields in the order of its JSON array (a nested row is `json_build_array`, positional:
 * no key repeated in every row of the JSON text), and how each comes back to Prisma's value.
 */
interface Shape {
  readonly fields: readonly ShapeField[];
}

interface ShapeField {
  readonly key: string;
  /** A DateTime: JSON gives its text. */
  readonly date: boolean;
  /** A relation: its rows' shape, and whether it is a list of them. */
  readonly nested?: Shape;
  readonly list: boolean;
}

class Compiler {
  private aliases = 0;

  constructor(private readonly columns: ColumnChoice = {}) {}

  alias(): string {
    this.aliases += 1;
    return `p${this.aliases}`;
  }

  /** The scalars and relations one row carries: Prisma's `select` (only those) or `include` (all scalars and those). */
  fields(modelName: string, alias: string, selection: PlannedQuery | true) {
    const model = modelInfo(modelName);
    if (selection !== true) checkKeys(selection);
    const chosen = selection === true ? undefined : (selection.select ?? selection.include);
    const onlySelected = selection !== true && selection.select !== undefined;
    const wanted = this.columns[modelName];
    const scalars = onlySelected ? [] : [...model.scalars].filter((s) => !wanted || wanted.has(s));
    const relations: [string, Prisma.Sql, Shape, boolean][] = [];
    for (const [key, value] of Object.entries(chosen ?? {})) {
      if (value === false || value === undefined) continue;
      if (model.scalars.has(key)) {
        if (value !== true) throw new UnsupportedQuery(`${modelName}.${key}`);
        // Named in a select, narrowed like a whole row's columns (a membership page selects role and
        // joinedAt for its edges, asked or not). Named in an include, a field's `select` asks for it: it comes.
        if (onlySelected && wanted && !wanted.has(key)) continue;
        if (!scalars.includes(key)) scalars.push(key);
        continue;
      }
      const relation = model.relations.get(key);
      if (!relation) throw new UnsupportedQuery(`${modelName}.${key}`);
      const [sql, shape] = this.relation(relation, alias, value as PlannedQuery | true);
      relations.push([key, sql, shape, relation.list]);
    }
    // In the order of `columns`: scalars, then relations.
    const shape: Shape = {
      fields: [
        ...scalars.map((key): ShapeField => ({ key, date: model.dates.has(key), list: false })),
        ...relations.map(([key, , nested, list]): ShapeField => ({ key, date: false, nested, list })),
      ],
    };
    const columns: [string, Prisma.Sql][] = [
      ...scalars.map((s): [string, Prisma.Sql] => [s, model.enums.has(s) ? Prisma.sql`${col(alias, s)}::text` : col(alias, s)]),
      ...relations.map(([key, sql]): [string, Prisma.Sql] => [key, sql]),
    ];
    return { columns, shape };
  }

  /**
   * A row as a JSON array of its fields, in the order of its shape (`fromArray` makes the object).
   * Positional rather than json_build_object: the keys of every nested row were a quarter of a teams
   * page's JSON text, and JSON.parse of it (in Prisma's raw-result decoding) was a tenth of the
   * page's CPU.
   */
  object(modelName: string, alias: string, selection: PlannedQuery | true): [Prisma.Sql, Shape] {
    const { columns, shape } = this.fields(modelName, alias, selection);
    // A function takes at most 100 arguments; our models have a dozen columns.
    if (columns.length > 100) throw new UnsupportedQuery(`${columns.length} fields of ${modelName}`);
    return [Prisma.sql`json_build_array(${columns.length ? Prisma.join(columns.map(([, sql]) => sql)) : Prisma.empty})`, shape];
  }

  relation(relation: Relation, parentAlias: string, args: PlannedQuery | true): [Prisma.Sql, Shape] {
    const model = modelInfo(relation.model);
    const alias = this.alias();
    const [related, parent] = relation.on;
    const join = Prisma.sql`${col(alias, related)} = ${col(parentAlias, parent)}`;
    if (!relation.list) {
      if (args !== true && (args.take !== undefined || args.skip || args.cursor || args.orderBy)) {
        throw new UnsupportedQuery('paging a to-one relation');
      }
      const [object, shape] = this.object(relation.model, alias, args);
      return [Prisma.sql`(SELECT ${object} FROM ${model.table} AS ${ident(alias)} WHERE ${join})`, shape];
    }
    const page = args === true ? {} : args;
    const scan = this.alias();
    const { rows, order } = this.page(relation.model, scan, page, Prisma.sql`${col(scan, related)} = ${col(parentAlias, parent)}`);
    const [object, shape] = this.object(relation.model, alias, args);
    // ARRAY(subquery) keeps its rows in its ORDER BY; json_agg(… ORDER BY …) sorted them again in an
    // ordered aggregate per parent row (pgbench, both forms interleaved on one connection: the users
    // page's statement 4-5 % faster in two runs, 2.59 → 2.48 and 2.09 → 1.99 ms; the teams page's
    // unchanged, 3.09 ms). No rows give [] either way.
    return [Prisma.sql`to_json(ARRAY(SELECT ${object} FROM (${rows}) AS ${ident(alias)} ORDER BY ${order(alias, false)}))`, shape];
  }

  /**
   * `SELECT * FROM <model> WHERE <where> [AND cursor] ORDER BY … LIMIT … OFFSET …`, aliased `scan`;
   * `order(alias, reversed)` writes the ORDER BY of the caller's rows.
   */
  page(modelName: string, scan: string, query: PlannedQuery, where: Prisma.Sql) {
    const model = modelInfo(modelName);
    const terms = orderTerms(query.orderBy);
    for (const [column] of terms) if (!model.scalars.has(column)) throw new UnsupportedQuery(`order by ${column}`);
    if (terms.length === 0 && (query.take !== undefined || query.cursor)) throw new UnsupportedQuery('a page without an order');
    const backward = (query.take ?? 0) < 0;
    const order = (alias: string, reversed: boolean) =>
      Prisma.join(terms.map(([column, dir]) => Prisma.sql`${col(alias, column)} ${Prisma.raw((dir === 'desc') !== reversed ? 'DESC' : 'ASC')}`));
    const conditions = [where];
    if (query.cursor) conditions.push(this.cursor(modelName, scan, query.cursor, terms, backward));
    // Literals, not parameters: a statement whose only parameters are its keys gets PostgreSQL's
    // cached generic plan (see statementNames in pool.ts); with a LIMIT parameter the planner would
    // plan every execution anew. Page sizes are bounded (maxSize), so the texts are few.
    const limit = query.take === undefined ? Prisma.empty : Prisma.sql`LIMIT ${literalInt(Math.abs(query.take))}`;
    const offset = query.skip ? Prisma.sql`OFFSET ${literalInt(query.skip)}` : Prisma.empty;
    const orderBy = terms.length ? Prisma.sql`ORDER BY ${order(scan, backward)}` : Prisma.empty;
    const rows = Prisma.sql`SELECT * FROM ${model.table} AS ${ident(scan)} WHERE ${Prisma.join(conditions, ' AND ')} ${orderBy} ${limit} ${offset}`;
    return { rows, order, terms };
  }

  /** Rows from the cursor row on, in the page's direction: `(o1, o2) >= (the cursor row's o1, o2)`. */
  cursor(modelName: string, scan: string, cursor: Record<string, unknown>, terms: [string, Direction][], backward: boolean) {
    const model = modelInfo(modelName);
    const keys = uniqueKey(modelName, cursor);
    const directions = new Set(terms.map(([, dir]) => dir));
    if (directions.size !== 1) throw new UnsupportedQuery('a cursor over mixed directions');
    const ascending = (terms[0]![1] === 'asc') !== backward;
    const at = this.alias();
    const match = Prisma.join(
      keys.map(([column, value]) => Prisma.sql`${col(at, column)} = ${value}::uuid`),
      ' AND ',
    );
    const mine = Prisma.join(terms.map(([column]) => col(scan, column)));
    const theirs = Prisma.join(terms.map(([column]) => col(at, column)));
    return Prisma.sql`(${mine}) ${Prisma.raw(ascending ? '>=' : '<=')} (SELECT ${theirs} FROM ${model.table} AS ${ident(at)} WHERE ${match})`;
  }
}

/** A non-negative integer written into the SQL text. */
function literalInt(value: number): Prisma.Sql {
  if (!Number.isSafeInteger(value) || value < 0) throw new UnsupportedQuery(`a LIMIT or OFFSET of ${value}`);
  return Prisma.raw(String(value));
}

/** What this module compiles; anything else (a nested `where`, `distinct`, `omit`, ...) is Prisma's. */
const KNOWN_KEYS: ReadonlySet<string> = new Set(['take', 'skip', 'cursor', 'orderBy', 'select', 'include']);

function checkKeys(query: PlannedQuery): void {
  for (const key of Object.keys(query)) {
    if (!KNOWN_KEYS.has(key)) throw new UnsupportedQuery(`${key} in a planned query`);
  }
  if (query.select && query.include) throw new UnsupportedQuery('select and include together');
}

function orderTerms(orderBy: unknown): [string, Direction][] {
  const list: unknown[] = orderBy === undefined ? [] : Array.isArray(orderBy) ? orderBy : [orderBy];
  return list.flatMap((term) =>
    Object.entries(term as Record<string, unknown>).map(([column, dir]): [string, Direction] => {
      if (dir !== 'asc' && dir !== 'desc') throw new UnsupportedQuery(`order ${String(dir)}`);
      return [column, dir];
    }),
  );
}

/** `{ id }` or `{ userId_teamId: { userId, teamId } }`: the uuid columns and values naming the cursor row. */
function uniqueKey(modelName: string, cursor: Record<string, unknown>): [string, string][] {
  const uuids = UUID_COLUMNS[modelName]!;
  const entries = Object.entries(cursor).flatMap(([key, value]) =>
    value !== null && typeof value === 'object' ? Object.entries(value as Record<string, unknown>) : [[key, value] as const],
  );
  for (const [column, value] of entries) {
    if (!uuids.has(column) || typeof value !== 'string') throw new UnsupportedQuery(`cursor on ${modelName}.${column}`);
  }
  const columns = new Set(entries.map(([column]) => column));
  const unique = modelName === 'Membership' ? columns.has('userId') && columns.has('teamId') : columns.has('id');
  if (!unique) throw new UnsupportedQuery(`cursor ${JSON.stringify(cursor)}`);
  return entries as [string, string][];
}

/** A nested row from its JSON array (`Compiler.object`): the object Prisma would give, Dates revived. */
function fromArray(values: readonly unknown[], shape: Shape): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  const { fields } = shape;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    row[field.key] = revive(values[i], field);
  }
  return row;
}

/** A field's value from JSON: a Date from its text, a relation's row or rows from their arrays. */
function revive(value: unknown, field: ShapeField): unknown {
  if (value === null || value === undefined) return null;
  if (field.date) return typeof value === 'string' ? new Date(value) : value;
  const nested = field.nested;
  if (!nested) return value;
  return field.list ? (value as unknown[][]).map((item) => fromArray(item, nested)) : fromArray(value as unknown[], nested);
}

export interface Page<T> {
  readonly rows: T[];
  /** Present when it was asked for: how many rows match `where`, across all pages. */
  readonly totalCount?: number;
}

export interface PageOptions {
  /** The page's condition on the row aliased `alias` (the same for the page and its count). */
  readonly where: (alias: string) => Prisma.Sql;
  /** Compute the totalCount in the statement. */
  readonly withCount: boolean;
  /** Narrow whole rows to these columns (see ColumnChoice). */
  readonly columns?: ColumnChoice;
  /**
   * A scalar subquery giving the same number as counting `where`, cheaper (a counter column kept
   * exact by triggers); default: COUNT(*) over the rows matching `where`.
   */
  readonly count?: Prisma.Sql;
}

/** The page of `modelName` that `query` plans, with its totalCount when asked: one statement. */
export async function findPage<T>(
  prisma: PrismaClient,
  modelName: 'User' | 'Team',
  query: PlannedQuery,
  { where, withCount, columns: columnChoice, count }: PageOptions,
): Promise<Page<T>> {
  // The root rows are ordered again outside the count's join: their order columns must come out.
  const wanted = columnChoice?.[modelName];
  const orderColumns = orderTerms(query.orderBy).map(([column]) => column);
  const compiler = new Compiler(wanted ? { ...columnChoice, [modelName]: new Set([...wanted, ...orderColumns]) } : columnChoice);
  const scan = compiler.alias();
  const { rows, order } = compiler.page(modelName, scan, query, where(scan));
  const row = compiler.alias();
  const { columns, shape } = compiler.fields(modelName, row, query);
  const select = Prisma.join(columns.map(([key, sql]) => Prisma.sql`${sql} AS ${ident(key)}`));
  const pageSql = Prisma.sql`SELECT ${select} FROM (${rows}) AS ${ident(row)} ORDER BY ${order(row, false)}`;
  let sql = pageSql;
  if (withCount) {
    // The count rides on every row, and on one row of NULLs when the page is empty.
    const counted = compiler.alias();
    const model = modelInfo(modelName);
    const pageAlias = compiler.alias();
    const total = count ?? Prisma.sql`(SELECT count(*) FROM ${model.table} AS ${ident(counted)} WHERE ${where(counted)})`;
    sql = Prisma.sql`SELECT ${ident(pageAlias)}.*, c."__totalCount"
      FROM (SELECT coalesce(${total}, 0)::int AS "__totalCount") AS c
      LEFT JOIN LATERAL (${pageSql}) AS ${ident(pageAlias)} ON true
      ORDER BY ${order(pageAlias, false)}`;
  }
  const result = await queryRows<Record<string, unknown>>(prisma, sql);
  let totalCount: number | undefined;
  const out: T[] = [];
  // The root row's columns are Prisma's values already, but for its relations' JSON (and Dates
  // when they come as text): those fields, chosen once for every row.
  const revived = shape.fields.filter((field) => field.date || field.nested);
  for (const r of result) {
    if (withCount) {
      totalCount = Number(r.__totalCount);
      delete r.__totalCount;
      if (r.id === null) continue;
    }
    for (const field of revived) r[field.key] = revive(r[field.key], field);
    out.push(r as T);
  }
  return { rows: out, totalCount: withCount ? (totalCount ?? 0) : undefined };
}
