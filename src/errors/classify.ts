import { PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { ErrorCode } from './codes.js';
import { isDatabaseDeadline, isDatabaseUnavailable } from './database.js';
import { badUserInputError, requestTimeoutError, serviceUnavailableError } from './graphql.js';

/** The error behind a GraphQLError that wraps one (a resolver's throw), or the error itself. */
export const originalOf = (error: unknown): unknown => (error instanceof GraphQLError ? (error.originalError ?? error) : error);

/** A failure that is not a GraphQLError of ours but is safe to show, as the error a client gets. */
export interface KnownFailure {
  readonly code: ErrorCode;
  /** What the client sees instead of the original. */
  toClient(original: unknown): GraphQLError;
}

const KNOWN_FAILURES: readonly (KnownFailure & { matches(original: unknown): boolean })[] = [
  // Pothos' argument validation (bad cursors, negative page sizes).
  {
    code: ErrorCode.BAD_USER_INPUT,
    matches: (o) => o instanceof PothosValidationError,
    toClient: (o) => badUserInputError((o as Error).message),
  },
  // The database did not finish within the request's deadline.
  { code: ErrorCode.REQUEST_TIMEOUT, matches: isDatabaseDeadline, toClient: requestTimeoutError },
  // No database connection in time, or the connection lost.
  { code: ErrorCode.SERVICE_UNAVAILABLE, matches: isDatabaseUnavailable, toClient: serviceUnavailableError },
];

/** The known failure `error` is (by its original), or undefined. */
export function knownFailureOf(error: unknown): KnownFailure | undefined {
  const original = originalOf(error);
  return KNOWN_FAILURES.find((f) => f.matches(original));
}

/**
 * The code a client will see for `error`, before masking: what the metrics count, and what masking
 * decides by. A GraphQLError's own code is kept (Yoga's too); anything else is INTERNAL_SERVER_ERROR.
 */
export function errorCode(error: unknown): ErrorCode | (string & {}) {
  const known = knownFailureOf(error);
  if (known) return known.code;
  const code = error instanceof GraphQLError ? error.extensions?.code : undefined;
  return typeof code === 'string' ? code : ErrorCode.INTERNAL_SERVER_ERROR;
}
