import { type ArgType, type ColumnType, ColumnTypeEnum, type SqlResultSet } from '@prisma/driver-adapter-utils';
import { Prisma } from './generated/prisma/client.js';

const { Decimal } = Prisma;

/**
 * The two ends of a raw statement sent straight to Prisma's driver adapter (see `queryRows` in db.ts):
 * the argument types the adapter wants beside each value, and rows made of its result set with the
 * values `$queryRaw` gives (a bigint column as BigInt, timestamps as Date, json parsed, numeric as
 * Decimal), so a caller cannot tell the two paths apart; test/raw-rows.test.ts compares them.
 */

/** The adapter's type of an argument, as Prisma's raw query serialization infers it from the value. */
export function argTypeOf(value: unknown): ArgType {
  if (Array.isArray(value)) {
    const first: unknown = (value as unknown[]).find((v) => v !== null && v !== undefined);
    return { scalarType: scalarTypeOf(first), arity: 'list' };
  }
  return { scalarType: scalarTypeOf(value), arity: 'scalar' };
}

function scalarTypeOf(value: unknown): ArgType['scalarType'] {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return Number.isInteger(value) ? 'int' : 'float';
    case 'bigint':
      return 'bigint';
    case 'boolean':
      return 'boolean';
    case 'object':
      if (value instanceof Date) return 'datetime';
      if (value instanceof Uint8Array) return 'bytes';
      if (Decimal.isDecimal(value)) return 'decimal';
      return value === null ? 'unknown' : 'json';
    default:
      return 'unknown';
  }
}

type Convert = (value: unknown) => unknown;

const bigint: Convert = (v) => BigInt(typeof v === 'number' ? Math.trunc(v) : (v as string));
const int32: Convert = (v) => Math.trunc(typeof v === 'number' ? v : Number(v));
const json: Convert = (v) => (typeof v === 'string' ? JSON.parse(v) : v);
const boolean: Convert = (v) => (typeof v === 'string' ? v === 'true' || v === '1' : typeof v === 'number' ? v === 1 : v);
const date: Convert = (v) => new Date(v as string);
const time: Convert = (v) => new Date(`1970-01-01T${v as string}Z`);
const decimal: Convert = (v) => new Decimal(v as string);

/** What $queryRaw does to a value of `type` (undefined: nothing; text, enums, uuids, floats pass as they are). */
const CONVERTERS: Partial<Record<ColumnType, Convert>> = {
  [ColumnTypeEnum.Int32]: int32,
  [ColumnTypeEnum.Int64]: bigint,
  [ColumnTypeEnum.Numeric]: decimal,
  [ColumnTypeEnum.Boolean]: boolean,
  [ColumnTypeEnum.Date]: date,
  [ColumnTypeEnum.DateTime]: date,
  [ColumnTypeEnum.Time]: time,
  [ColumnTypeEnum.Json]: json,
};

/** An array type's element type, for the arrays whose elements are converted. */
const ELEMENTS: Partial<Record<ColumnType, ColumnType>> = {
  [ColumnTypeEnum.Int32Array]: ColumnTypeEnum.Int32,
  [ColumnTypeEnum.Int64Array]: ColumnTypeEnum.Int64,
  [ColumnTypeEnum.NumericArray]: ColumnTypeEnum.Numeric,
  [ColumnTypeEnum.BooleanArray]: ColumnTypeEnum.Boolean,
  [ColumnTypeEnum.DateArray]: ColumnTypeEnum.Date,
  [ColumnTypeEnum.DateTimeArray]: ColumnTypeEnum.DateTime,
  [ColumnTypeEnum.TimeArray]: ColumnTypeEnum.Time,
  [ColumnTypeEnum.JsonArray]: ColumnTypeEnum.Json,
};

function converterOf(type: ColumnType): Convert | undefined {
  const element = ELEMENTS[type];
  if (element === undefined) return CONVERTERS[type];
  const convert = CONVERTERS[element]!;
  return (v) => (v as unknown[]).map((e) => (e === null ? null : convert(e)));
}

/** The result set as objects keyed by column name, values as `$queryRaw` returns them. */
export function rowsOf<T>(result: SqlResultSet): T[] {
  const { columnNames: names, rows } = result;
  const converters = result.columnTypes.map(converterOf);
  const out = new Array<T>(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const object: Record<string, unknown> = {};
    for (let c = 0; c < names.length; c++) {
      const value = row[c];
      const convert = converters[c];
      object[names[c]!] = value === null || value === undefined ? null : convert ? convert(value) : value;
    }
    out[r] = object as T;
  }
  return out;
}
