import { isDriverAdapterError } from '@prisma/driver-adapter-utils';
import { Prisma } from '../generated/prisma/client.js';

/**
 * Expected failures of the contract, returned as data in result unions. Each is a class so the
 * GraphQL layer can tell them apart with `instanceof`.
 */
export class FieldError {
  constructor(
    readonly path: string[],
    readonly message: string,
  ) {}
}

export class ValidationError {
  readonly message = 'The input is not valid.';
  constructor(readonly fieldErrors: FieldError[]) {}
}

export class EmailTakenError {
  readonly message: string;
  constructor(readonly email: string) {
    this.message = `The email ${email} is already taken.`;
  }
}

export class SlugTakenError {
  readonly message: string;
  constructor(readonly slug: string) {
    this.message = `The slug ${slug} is already taken.`;
  }
}

export class NotFoundError {
  readonly message: string;
  constructor(
    readonly id: string,
    what = 'entity',
  ) {
    this.message = `No ${what} with id ${id}.`;
  }
}

export class VersionConflictError {
  readonly message: string;
  constructor(readonly currentVersion: number) {
    this.message = `The record was changed by someone else; its current version is ${currentVersion}.`;
  }
}

export class MembershipError {
  constructor(readonly message: string) {}
}

/**
 * The caller lost the right to make this change while it waited for its locks (see teams.ts). Not a
 * contract type: the GraphQL layer answers it as it answers any refusal, with a top-level FORBIDDEN.
 */
export class ForbiddenError {
  readonly message = 'Not allowed.';
}

/** The database errors the domain turns into contract results; everything else is unexpected. */
export type DatabaseFailure = { kind: 'unique'; fields: string[] } | { kind: 'notFound' } | { kind: 'serialization' } | { kind: 'foreignKey' };

/** Translates a Prisma error into a known database failure, or null when it is not one we expect. */
export function classifyDatabaseError(error: unknown): DatabaseFailure | null {
  // A raw statement sent straight to the driver adapter (queryRows) fails with the adapter's error,
  // which `$queryRaw` wraps as P2010: the same classification. (By name: the PGlite adapter has its
  // own copy of the class.)
  if (isDriverAdapterError(error)) return rawStatementFailure({ driverAdapterError: error });
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return null;
  // A raw statement's failure ("Raw query failed") carries the driver adapter's error kind instead.
  if (error.code === 'P2010') return rawStatementFailure(error.meta);
  switch (error.code) {
    case 'P2002':
      return { kind: 'unique', fields: uniqueFields(error.meta) };
    case 'P2025':
      return { kind: 'notFound' };
    case 'P2034':
      return { kind: 'serialization' };
    case 'P2003':
      return { kind: 'foreignKey' };
    default:
      return null;
  }
}

/** Driver adapters report the violated constraint's fields under `driverAdapterError`; older paths use `target`. */
function uniqueFields(meta: Record<string, unknown> | undefined): string[] {
  const target = meta?.target;
  if (Array.isArray(target)) return target.map(String);
  const fields = driverCause(meta)?.constraint?.fields;
  return Array.isArray(fields) ? fields.map((f) => String(f).replaceAll('"', '')) : [];
}

/** A raw statement's failure, from the driver adapter's error under `driverAdapterError`. */
function rawStatementFailure(meta: Record<string, unknown> | undefined): DatabaseFailure | null {
  return driverCause(meta)?.kind === 'UniqueConstraintViolation' ? { kind: 'unique', fields: uniqueFields(meta) } : null;
}

function driverCause(meta: Record<string, unknown> | undefined) {
  return (meta?.driverAdapterError as { cause?: { kind?: unknown; constraint?: { fields?: unknown } } } | undefined)?.cause;
}
