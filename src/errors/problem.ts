import type { GraphQLError } from 'graphql';
import { ERROR_CODES, ErrorCode, isErrorCode } from './codes.js';

/**
 * RFC 9457 problem details, the error shape of the REST API (src/rest/). `code` is the code a GraphQL
 * client gets for the same failure: `extensions.code` of a top-level error (ERROR_CODES), or the
 * `__typename` of a typed error of a result union (RESULT_ERROR_STATUS). Messages are the GraphQL ones.
 */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** The status of each typed error of the mutation result unions, when it is answered over REST. */
export const RESULT_ERROR_STATUS = {
  ValidationError: 422,
  EmailTakenError: 409,
  SlugTakenError: 409,
  MembershipError: 409,
  NotFoundError: 404,
  // Only ever the answer to an `If-Match` (expectedVersion) that no longer holds.
  VersionConflictError: 412,
} as const;

export type ResultErrorType = keyof typeof RESULT_ERROR_STATUS;

export const isResultErrorType = (value: unknown): value is ResultErrorType => typeof value === 'string' && Object.hasOwn(RESULT_ERROR_STATUS, value);

export type ProblemCode = ErrorCode | ResultErrorType;

export interface Problem {
  /** A URN per code; not dereferenceable, stable. */
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  /** Finds the request in the server's log. */
  requestId?: string;
  /** Further members: `fieldErrors`, `email`, `id`, `currentVersion`, `retryAfterS`. */
  [member: string]: unknown;
}

export const problemTypeOf = (code: ProblemCode) => `urn:user-api-gateway:problem:${code}`;

/** The REST status of a code. */
export function problemStatusOf(code: ProblemCode): number {
  if (isResultErrorType(code)) return RESULT_ERROR_STATUS[code];
  return ERROR_CODES[code].restStatus ?? ERROR_CODES[code].status;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function problem(code: ProblemCode, detail: string, members: Record<string, unknown> = {}): Problem {
  const status = problemStatusOf(code);
  return { type: problemTypeOf(code), title: TITLES[status] ?? 'Error', status, detail, code, ...members };
}

/** The problem of a top-level GraphQL error (already masked): its code, message and extensions. */
export function problemOfGraphQLError(error: { message: string; extensions?: GraphQLError['extensions'] | Record<string, unknown> }): Problem {
  const { code, http: _http, ...rest } = error.extensions ?? {};
  const known = isErrorCode(code) ? code : ErrorCode.INTERNAL_SERVER_ERROR;
  return problem(known, known === code ? error.message : 'Unexpected error.', known === code ? rest : {});
}

/** A problem+json response (no caching: errors are per request). */
export function problemResponse(fetchAPI: { Response: typeof Response }, body: Problem, headers: Record<string, string> = {}): Response {
  return new fetchAPI.Response(JSON.stringify(body), {
    status: body.status,
    headers: { 'content-type': PROBLEM_MEDIA_TYPE, 'cache-control': 'no-store', ...headers },
  });
}
