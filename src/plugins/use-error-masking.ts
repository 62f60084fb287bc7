import type { ExecutionResult } from 'graphql';
import { maskError as yogaMaskError, type Plugin } from 'graphql-yoga';
import { ErrorCode, knownFailureOf, originalOf, rewriteResultErrors, withExtensions } from '../errors/index.js';
import type { Logger } from '../logger.js';
import { requestIdOf } from '../request-info.js';

/** The original of each error logged with the request id: masked ones, and SERVICE_UNAVAILABLE. */
const originals = new WeakMap<Error, unknown>();

/**
 * Yoga's `maskError`: only deliberately safe errors reach clients unchanged: GraphQLErrors we raised
 * with a code, and the known failures of `knownFailureOf` (Pothos' argument validation, the request
 * deadline, SERVICE_UNAVAILABLE). Everything else becomes "Unexpected error." with no stack, SQL or
 * connection string; the original is kept so `useMaskedErrorReporting` can log it with the request id.
 */
export function maskError(error: unknown, message: string): Error {
  const original = originalOf(error);
  const known = knownFailureOf(error);
  if (known) {
    const shown = known.toClient(original);
    if (known.code === ErrorCode.SERVICE_UNAVAILABLE) originals.set(shown, original);
    return shown;
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
  return {
    onResultProcess({ request, result, setResult }) {
      const rewritten = reportMaskedErrors(logger, request, result);
      if (rewritten) setResult(rewritten);
    },
  };
}

/** Logs a result's masked errors and stamps them with the request id; the new result, or undefined when none. */
export function reportMaskedErrors(logger: Logger, request: Request, result: unknown): ExecutionResult | ExecutionResult[] | undefined {
  let requestId: string | undefined;
  return rewriteResultErrors(result, (error) => {
    if (!originals.has(error)) return error;
    requestId ??= requestIdOf(request);
    const entry = { requestId, err: originals.get(error), path: error.path?.join('.') };
    if (error.extensions?.code === ErrorCode.SERVICE_UNAVAILABLE) logger.warn(entry, 'database unavailable: no connection in time');
    else logger.error(entry, 'unexpected error (masked)');
    return withExtensions(error, { ...error.extensions, requestId });
  });
}
