import { PothosValidationError } from '@pothos/core';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { maskError as yogaMaskError, type Plugin } from 'graphql-yoga';
import { isDatabaseDeadline as isDeadline, isDatabaseUnavailable } from '../db-errors.js';
import type { Logger } from '../logger.js';
import { requestIdOf } from '../request-info.js';
import { requestTimeoutError } from './use-request-deadline.js';

/** The original of each error logged with the request id: masked ones, and SERVICE_UNAVAILABLE. */
const originals = new WeakMap<Error, unknown>();

/** No database connection came in time: safe to show, and to retry (nothing was written). */
function serviceUnavailableError(): GraphQLError {
  return new GraphQLError('The service is temporarily unavailable; please retry.', {
    extensions: { code: 'SERVICE_UNAVAILABLE' },
  });
}

/** The code a client will see for `error`, before masking: what the metrics count. */
export function errorCode(error: unknown): string {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if (original instanceof PothosValidationError) return 'BAD_USER_INPUT';
  if (isDeadline(original)) return 'REQUEST_TIMEOUT';
  if (isDatabaseUnavailable(original)) return 'SERVICE_UNAVAILABLE';
  const code = error instanceof GraphQLError ? error.extensions?.code : undefined;
  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
}

/**
 * Yoga's `maskError`: only deliberately safe errors reach clients unchanged: GraphQLErrors we raised
 * with a code, Pothos' argument validation (bad cursors, negative page sizes), the request deadline and
 * SERVICE_UNAVAILABLE (no database connection in time). Everything else becomes "Unexpected error."
 * with no stack, SQL or connection string; the original is kept so `useMaskedErrorReporting` can log
 * it with the request id.
 */
export function maskError(error: unknown, message: string): Error {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if (original instanceof PothosValidationError) {
    return new GraphQLError(original.message, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  if (isDeadline(original)) return requestTimeoutError();
  if (isDatabaseUnavailable(original)) {
    const unavailable = serviceUnavailableError();
    originals.set(unavailable, original);
    return unavailable;
  }
  const masked = yogaMaskError(error, message, false);
  if (masked !== error) originals.set(masked, original);
  return masked;
}

export interface MaskedErrorReportingOptions {
  logger: Logger;
}

/**
 * Logs the original of every masked error (and of SERVICE_UNAVAILABLE, as a warning) with the request
 * id, and puts the same id in the error's `extensions.requestId`, so a client's report leads to the log line.
 */
export function useMaskedErrorReporting({ logger }: MaskedErrorReportingOptions): Plugin {
  const report = (request: Request, result: ExecutionResult): ExecutionResult => {
    if (!result.errors?.some((e) => originals.has(e))) return result;
    const requestId = requestIdOf(request);
    const errors = result.errors.map((error) => {
      if (!originals.has(error)) return error;
      const entry = { requestId, err: originals.get(error), path: error.path?.join('.') };
      if (error.extensions?.code === 'SERVICE_UNAVAILABLE') logger.warn(entry, 'database unavailable: no connection in time');
      else logger.error(entry, 'unexpected error (masked)');
      return new GraphQLError(error.message, {
        path: error.path,
        extensions: { ...error.extensions, requestId },
      });
    });
    return { ...result, errors };
  };
  return {
    onResultProcess({ request, result, setResult }) {
      if (Array.isArray(result)) setResult(result.map((r: ExecutionResult) => report(request, r)));
      else if (result && typeof result === 'object' && 'errors' in result) setResult(report(request, result as ExecutionResult));
    },
  };
}
