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
 * key, (teamId, userId) index) and builds text only for the rows it returns, so the cost of a page
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
  /** How a nested row's text value of each scalar comes back (a scalar not named cannot be nested). */
  readonly texts: ReadonlyMap<string, TextKind>;
  /** Scalars that are never NULL. */
  readonly required: ReadonlySet<string>;
  readonly relations: ReadonlyMap<string, Relation>;
}

/** A scalar's value in a nested row's text array: as it is (text, uuid, enum), a number, a boolean, a Date. */
type TextKind = 'text' | 'number' | 'boolean' | 'date';

const TEXT_KINDS: Readonly<Record<string, TextKind>> = { String: 'text', Int: 'number', Float: 'number', Boolean: 'boolean', DateTime: 'date' };

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
  isRequired: boolean;
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
      texts: new Map(
        fields.flatMap((f): [string, TextKind][] => {
          const kind = f.kind === 'enum' ? 'text' : f.kind === 'scalar' ? TEXT_KINDS[f.type] : undefined;
          return kind && !f.isList ? [[f.name, kind]] : [];
        }),
      ),
      required: new Set(fields.filter((f) => f.kind !== 'object' && f.isRequired).map((f) => f.name)),
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
 * How the root rows' columns come back: Prisma's values already, but for Dates given as text and the
 * relations, whose rows are text arrays (`Layout`).
 */
interface Shape {
  readonly fields: readonly ShapeField[];
}

interface ShapeField {
  readonly key: string;
  /** A DateTime: JSON gives its text. */
  readonly date: boolean;
  /** A relation: how its rows read, and whether it is a list of them. */
  readonly nested?: Layout;
  readonly list: boolean;
}

/**
 * A nested row is one text array, `ARRAY[…]::text[]`, positional (`Layout` says where each value is):
 * the values of each to-one relation it has, flattened into the same array (a LEFT JOIN on the related
 * row's key), its own scalars, and each list relation it has as the JSON text of its rows. A relation's page is
 * `to_json(ARRAY(SELECT ARRAY[…] …))`: JSON arrays of strings. Against the form before it (a
 * `json_build_array` per row, which looks up its arguments' output functions on every call, a scalar
 * subquery per to-one relation, and a membership's userId and teamId repeated beside the rows they
 * name), the bench's statements cost PostgreSQL (pgbench -M prepared, both forms interleaved on one
 * connection, the bench's dataset, two runs): users page 2.51 → 1.95 and 1.74 → 1.36 ms (−22 %),
 * teams page 2.72 → 1.55 and 1.85 → 1.06 ms (−43 %); and our server parses less JSON.
 */
interface Layout {
  readonly slots: readonly Slot[];
  /** A to-one relation's row: the index of its key, NULL only when the row is absent (a list's row: -1). */
  readonly marker: number;
}

type Slot =
  /** values[at], read as `as`. */
  | { readonly kind: 'value'; readonly key: string; readonly at: number; readonly as: TextKind }
  /** The parent row's `from`: a list's join column, equal to the parent's key by the join itself. */
  | { readonly kind: 'parent'; readonly key: string; readonly from: string }
  /** A to-one relation flattened into this array: null when its marker is. */
  | { readonly kind: 'one'; readonly key: string; readonly layout: Layout }
  /** A list relation: values[at] is the JSON text of its rows. */
  | { readonly kind: 'many'; readonly key: string; readonly at: number; readonly layout: Layout };

/**
 * Which nested row `textRow` builds: a list's, whose join column may be read from the parent row
 * (`fromParent`: [its column, the parent's], equal by the join, when the parent carries its own), or a
 * to-one relation's, present when the `key` it is joined on is not NULL.
 */
type RowOf = { readonly list: true; readonly fromParent?: readonly [string, string] } | { readonly list: false; readonly key: string };

/** A nested row's SQL: the array's elements and the joins its to-one relations need, in order. */
interface TextRow {
  readonly elements: Prisma.Sql[];
  readonly joins: Prisma.Sql[];
}

/**
 * A DateTime as text that reads back exactly: epoch milliseconds. Floored, as a JavaScript Date drops
 * finer digits (our columns are timestamptz(3), where nothing is dropped).
 */
const epochMs = (column: Prisma.Sql) => Prisma.sql`floor(extract(epoch from ${column}) * 1000)::int8::text`;

/** The scalar and relation keys one row carries: Prisma's `select` (only those) or `include` (all scalars and those). */
interface Chosen {
  readonly scalars: string[];
  readonly relations: [string, Relation, PlannedQuery | true][];
}

class Compiler {
  private aliases = 0;

  constructor(private readonly columns: ColumnChoice = {}) {}

  alias(): string {
    this.aliases += 1;
    return `p${this.aliases}`;
  }

  choose(modelName: string, selection: PlannedQuery | true): Chosen {
    const model = modelInfo(modelName);
    if (selection !== true) checkKeys(selection);
    const chosen = selection === true ? undefined : (selection.select ?? selection.include);
    const onlySelected = selection !== true && selection.select !== undefined;
    const wanted = this.columns[modelName];
    const scalars = onlySelected ? [] : [...model.scalars].filter((s) => !wanted || wanted.has(s));
    const relations: [string, Relation, PlannedQuery | true][] = [];
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
      relations.push([key, relation, value as PlannedQuery | true]);
    }
    return { scalars, relations };
  }

  /** The root rows' columns: their scalars as they are, each relation as the JSON of its text rows. */
  fields(modelName: string, alias: string, selection: PlannedQuery | true) {
    const model = modelInfo(modelName);
    const { scalars, relations } = this.choose(modelName, selection);
    const columns: [string, Prisma.Sql][] = scalars.map((s) => [s, model.enums.has(s) ? Prisma.sql`${col(alias, s)}::text` : col(alias, s)]);
    const fields: ShapeField[] = scalars.map((key) => ({ key, date: model.dates.has(key), list: false }));
    for (const [key, relation, args] of relations) {
      const [sql, layout] = this.relation(relation, alias, args, scalars.includes(relation.on[1]));
      columns.push([key, sql]);
      fields.push({ key, date: false, nested: layout, list: relation.list });
    }
    return { columns, shape: { fields } satisfies Shape };
  }

  /**
   * A relation of the row aliased `parentAlias`, as JSON: a list's page of text arrays, or a to-one's
   * text array (NULL when there is no row). `parentHasKey`: the parent row carries its join column, so
   * a list's rows need not repeat it.
   */
  relation(relation: Relation, parentAlias: string, args: PlannedQuery | true, parentHasKey: boolean): [Prisma.Sql, Layout] {
    const model = modelInfo(relation.model);
    const alias = this.alias();
    const [related, parent] = relation.on;
    const out: TextRow = { elements: [], joins: [] };
    if (!relation.list) {
      checkToOne(args);
      const layout = this.textRow(relation.model, alias, args, out, { list: false, key: related });
      const join = Prisma.sql`${col(alias, related)} = ${col(parentAlias, parent)}`;
      return [Prisma.sql`(SELECT to_json(ARRAY[${Prisma.join(out.elements)}]) FROM ${model.table} AS ${ident(alias)} ${joins(out)} WHERE ${join})`, layout];
    }
    const page = args === true ? {} : args;
    const scan = this.alias();
    const { rows, order } = this.page(relation.model, scan, page, Prisma.sql`${col(scan, related)} = ${col(parentAlias, parent)}`);
    const layout = this.textRow(relation.model, alias, args, out, { list: true, fromParent: parentHasKey ? [related, parent] : undefined });
    // ARRAY(subquery) keeps its rows in its ORDER BY; json_agg(… ORDER BY …) sorted them again in an
    // ordered aggregate per parent row (pgbench: the users page's statement 4-5 % faster). No rows give [].
    return [Prisma.sql`to_json(ARRAY(SELECT ARRAY[${Prisma.join(out.elements)}] FROM (${rows}) AS ${ident(alias)} ${joins(out)} ORDER BY ${order(alias, false)}))`, layout];
  }

  /** Appends the values of one nested row of `modelName` (aliased `alias`) to `out` and says how they read. */
  textRow(modelName: string, alias: string, selection: PlannedQuery | true, out: TextRow, row: RowOf): Layout {
    const model = modelInfo(modelName);
    const { scalars, relations } = this.choose(modelName, selection);
    const slots: Slot[] = [];
    const push = (sql: Prisma.Sql) => out.elements.push(sql) - 1;
    const valueOf = (key: string): Slot => {
      const as = model.texts.get(key);
      if (!as) throw new UnsupportedQuery(`${modelName}.${key} in a nested row`);
      const column = col(alias, key);
      return { kind: 'value', key, as, at: push(as === 'date' ? epochMs(column) : Prisma.sql`${column}::text`) };
    };
    // The to-one relations first: a required foreign key reads as its related row's key (the same text).
    const ones = new Map<string, Layout>();
    for (const [key, relation, args] of relations) {
      if (relation.list) continue;
      checkToOne(args);
      const joined = this.alias();
      const [related, parent] = relation.on;
      out.joins.push(Prisma.sql`LEFT JOIN ${modelInfo(relation.model).table} AS ${ident(joined)} ON ${col(joined, related)} = ${col(alias, parent)}`);
      const layout = this.textRow(relation.model, joined, args, out, { list: false, key: related });
      ones.set(parent, layout);
      slots.push({ kind: 'one', key, layout });
    }
    const fromParent = row.list ? row.fromParent : undefined;
    const scalarSlots = scalars.map((key): Slot => {
      if (fromParent && key === fromParent[0]) return { kind: 'parent', key, from: fromParent[1] };
      const one = ones.get(key);
      if (one && model.required.has(key)) return { kind: 'value', key, at: one.marker, as: 'text' };
      return valueOf(key);
    });
    // A to-one relation's row is present when the key it is joined on is, selected or not.
    let marker = -1;
    if (!row.list) {
      const { key } = row;
      const keySlot = scalarSlots.find((slot) => slot.kind === 'value' && slot.key === key);
      marker = keySlot?.kind === 'value' ? keySlot.at : push(Prisma.sql`${col(alias, key)}::text`);
    }
    for (const [key, relation, args] of relations) {
      if (!relation.list) continue;
      const [sql, layout] = this.relation(relation, alias, args, scalars.includes(relation.on[1]));
      slots.push({ kind: 'many', key, at: push(Prisma.sql`(${sql})::text`), layout });
    }
    // ARRAY[] has no type, and ARRAY(SELECT …) cannot gather empty arrays: a row of nothing has a blank.
    if (out.elements.length === 0) push(Prisma.sql`''`);
    return { slots: [...scalarSlots, ...slots], marker };
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

const joins = (row: TextRow) => (row.joins.length ? Prisma.join(row.joins, ' ') : Prisma.empty);

function checkToOne(args: PlannedQuery | true): void {
  if (args !== true && (args.take !== undefined || args.skip || args.cursor || args.orderBy)) {
    throw new UnsupportedQuery('paging a to-one relation');
  }
}

/** A scalar from its text in a nested row. */
function fromText(text: string | null, as: TextKind): unknown {
  if (text === null) return null;
  switch (as) {
    case 'text':
      return text;
    case 'number':
      return Number(text);
    case 'boolean':
      return text === 'true';
    case 'date':
      return new Date(Number(text));
  }
}

/** A nested row from its text array (`Compiler.textRow`): the object Prisma would give. */
function fromTexts(values: readonly (string | null)[], layout: Layout, parent: Record<string, unknown> | undefined): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const slot of layout.slots) {
    switch (slot.kind) {
      case 'value':
        row[slot.key] = fromText(values[slot.at] ?? null, slot.as);
        break;
      case 'parent':
        row[slot.key] = parent![slot.from];
        break;
      case 'one':
        row[slot.key] = values[slot.layout.marker] === null ? null : fromTexts(values, slot.layout, undefined);
        break;
      case 'many':
        row[slot.key] = rowsOf(JSON.parse(values[slot.at]!) as (string | null)[][], slot.layout, row);
        break;
    }
  }
  return row;
}

const rowsOf = (items: readonly (string | null)[][], layout: Layout, parent: Record<string, unknown>) => items.map((item) => fromTexts(item, layout, parent));

/** A root row's field: a Date from its text, a relation's row or rows from their text arrays. */
function revive(value: unknown, field: ShapeField, row: Record<string, unknown>): unknown {
  if (value === null || value === undefined) return null;
  if (field.date) return typeof value === 'string' ? new Date(value) : value;
  const nested = field.nested;
  if (!nested) return value;
  return field.list ? rowsOf(value as (string | null)[][], nested, row) : fromTexts(value as (string | null)[], nested, undefined);
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
    for (const field of revived) r[field.key] = revive(r[field.key], field, r);
    out.push(r as T);
  }
  return { rows: out, totalCount: withCount ? (totalCount ?? 0) : undefined };
}
