import { type ExecutionResult, GraphQLError, type GraphQLErrorExtensions, type GraphQLResolveInfo, responsePathAsArray } from 'graphql';
import { ErrorCode } from './codes.js';

/**
 * A GraphQLError with a code. `status` (400) marks a request error: Yoga answers it with that status
 * and strips `http` from the body; without it the error sits in a result like any field error.
 */
export function codedError(code: ErrorCode, message: string, { status }: { status?: number } = {}): GraphQLError {
  return new GraphQLError(message, { extensions: status === undefined ? { code } : { code, http: { status } } });
}

/** An unusable argument found while resolving (a cursor that is not one): the field is null, 200. */
export const badUserInputError = (message: string) => codedError(ErrorCode.BAD_USER_INPUT, message);

/** An argument value out of its documented bounds, found before execution: 400, like a variable that does not coerce. */
export const invalidArgumentError = (message: string) => codedError(ErrorCode.BAD_USER_INPUT, message, { status: 400 });

/** Not a GraphQL request (invalid JSON, a body that is not an object): 400. */
export const badRequestError = (message: string) => codedError(ErrorCode.BAD_REQUEST, message, { status: 400 });

/** An operation over a limit: a validation failure, 400 whatever the Accept header. */
export const validationFailedError = (message: string) => codedError(ErrorCode.GRAPHQL_VALIDATION_FAILED, message, { status: 400 });

/** The caller's role does not allow the field; it is null and nothing was written. */
export const forbiddenError = (message = 'Not allowed.') => codedError(ErrorCode.FORBIDDEN, message);

/** A field needs a signed-in caller. */
export const unauthenticatedError = (message = 'Authentication required.') => codedError(ErrorCode.UNAUTHENTICATED, message);

/** The error a request gets when its deadline passes (a GraphQLError, so it is safe to show). */
export const requestTimeoutError = () => codedError(ErrorCode.REQUEST_TIMEOUT, 'The request took too long and was cancelled.');

/** No database connection came in time: safe to show, and to retry (nothing was written). */
export const serviceUnavailableError = () => codedError(ErrorCode.SERVICE_UNAVAILABLE, 'The service is temporarily unavailable; please retry.');

/**
 * A field whose data lives in a downstream service that failed, timed out or is shed by its open
 * breaker: the field is null, the rest of the response is intact. Says nothing of the service (no host,
 * URL or its error text); the server's log has the kind of failure with the request id.
 *
 * Made located (the field's nodes and path), so graphql-js uses it as it is instead of wrapping it in
 * a second error, and without a stack trace, which says nothing for an expected error: a page of users
 * while the service is down has one per user, and capturing stacks was most of that response's cost.
 */
export function downstreamUnavailableError(info: GraphQLResolveInfo): GraphQLError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new GraphQLError('A dependency of this field is unavailable; the field is null, the rest of the response is intact. Retry later.', {
      nodes: info.fieldNodes,
      path: responsePathAsArray(info.path),
      extensions: { code: ErrorCode.DOWNSTREAM_UNAVAILABLE },
    });
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * A copy of `error` with other `extensions`. Everything else is kept: the message, the nodes, source
 * and positions its `locations` come from, the `path` and the original error.
 */
export function withExtensions(error: GraphQLError, extensions: GraphQLErrorExtensions): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions,
  });
}

const isExecutionResult = (value: unknown): value is ExecutionResult =>
  value !== null && typeof value === 'object' && 'errors' in value && Array.isArray((value as ExecutionResult).errors);

function rewriteOne(result: ExecutionResult, rewrite: (error: GraphQLError, result: ExecutionResult) => GraphQLError): ExecutionResult {
  let changed = false;
  const errors = result.errors!.map((error) => {
    const next = rewrite(error, result);
    if (next !== error) changed = true;
    return next;
  });
  return changed ? { ...result, errors } : result;
}

/**
 * The one way the plugins change the errors of a result (in `onResultProcess`): `rewrite` returns the
 * error itself to keep it, or a replacement (build it with `withExtensions` so nothing is lost). Takes
 * a single result or a batch; streams pass untouched. Returns undefined when nothing changed.
 */
export function rewriteResultErrors(result: unknown, rewrite: (error: GraphQLError, result: ExecutionResult) => GraphQLError): ExecutionResult | ExecutionResult[] | undefined {
  if (Array.isArray(result)) {
    const results = result as unknown[];
    const next = results.map((r) => (isExecutionResult(r) ? rewriteOne(r, rewrite) : r));
    return next.some((r, i) => r !== results[i]) ? (next as ExecutionResult[]) : undefined;
  }
  if (!isExecutionResult(result)) return undefined;
  const next = rewriteOne(result, rewrite);
  return next === result ? undefined : next;
}
