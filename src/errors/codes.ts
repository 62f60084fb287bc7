/**
 * Every `extensions.code` a client can get, in one place: the value, the HTTP status, whether a retry
 * may succeed, and what it means. README's error table is checked against `ERROR_CODES` row by row
 * (test/readme.test.ts), so a new code is documented where it is added.
 */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  BAD_REQUEST: 'BAD_REQUEST',
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  NOT_ACCEPTABLE: 'NOT_ACCEPTABLE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  REQUEST_ENTITY_TOO_LARGE: 'REQUEST_ENTITY_TOO_LARGE',
  IDEMPOTENCY_KEY_MISMATCH: 'IDEMPOTENCY_KEY_MISMATCH',
  IDEMPOTENCY_KEY_IN_FLIGHT: 'IDEMPOTENCY_KEY_IN_FLIGHT',
  RATE_LIMITED: 'RATE_LIMITED',
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  CORS_ORIGIN_NOT_ALLOWED: 'CORS_ORIGIN_NOT_ALLOWED',
  DOWNSTREAM_UNAVAILABLE: 'DOWNSTREAM_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

/** The union of every code: what a client switches on. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorCodeSpec {
  /**
   * The status of an HTTP refusal with this code (`refusal()`), and of a request error Yoga answers
   * with it. For GraphQL errors inside a result it is only the status when the result has no data
   * and the client accepts `application/graphql-response+json` (see `statusWithoutData`).
   */
  readonly status: number;
  /** A result without data whose errors carry this code answers this status (useErrorStatus). */
  readonly statusWithoutData?: number;
  /** The status of this code in a REST problem (src/rest/), when it is not `status`. */
  readonly restStatus?: number;
  /** The HTTP column of README's table: every status a client may see with this code. */
  readonly http: string;
  /** A later retry of the same request may succeed. */
  readonly retryable: boolean;
  /** README's "Meaning; what to do" column (Markdown). */
  readonly description: string;
}

/** In README order. */
export const ERROR_CODES: { readonly [C in ErrorCode]: ErrorCodeSpec } = {
  UNAUTHENTICATED: {
    status: 401,
    http: '401',
    retryable: false,
    description: 'No `Authorization: Bearer` header, or the token is invalid or expired (`WWW-Authenticate: Bearer error="invalid_token"`); get one with `npm run token`',
  },
  FORBIDDEN: {
    status: 200,
    restStatus: 403,
    http: '200 or 403',
    retryable: false,
    description:
      "The caller's role or team role does not allow it (a USER creating teams or changing roles, a non-OWNER managing members); the field is null and nothing was written (403 over REST)",
  },
  BAD_USER_INPUT: {
    status: 400,
    http: '400 or 200',
    retryable: false,
    description: 'A variable does not fit its type (400), or an argument is unusable, such as a pagination cursor that is not one (200, field null)',
  },
  BAD_REQUEST: {
    status: 400,
    http: '400, 405, 431',
    retryable: false,
    description:
      'Not a GraphQL request: invalid JSON, no `query`, a batch (array) of operations, an `Idempotency-Key` that is not 1-255 printable characters, a malformed HTTP request; a mutation over GET answers 405, request headers over 16 KiB 431',
  },
  OPERATION_RESOLUTION_FAILURE: {
    status: 400,
    http: '400',
    retryable: false,
    description: '`operationName` names no operation of the document, or the document has several and none is named',
  },
  GRAPHQL_PARSE_FAILED: {
    status: 400,
    http: '400',
    retryable: false,
    description: 'The document has a syntax error; `locations` points at it',
  },
  GRAPHQL_VALIDATION_FAILED: {
    status: 400,
    http: '400',
    retryable: false,
    description: 'Unknown field or argument, wrong types in the document, or an operation over a limit (depth, aliases, directives, tokens, cost); nothing ran',
  },
  NOT_ACCEPTABLE: {
    status: 406,
    http: '406',
    retryable: false,
    description: 'The `Accept` header admits none of `application/graphql-response+json`, `application/json`, `multipart/mixed`, `text/event-stream`; nothing ran',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    http: '415',
    retryable: false,
    description: 'A POST whose `Content-Type` is not `application/json` (or `application/graphql+json`), such as a form; nothing ran',
  },
  REQUEST_ENTITY_TOO_LARGE: {
    status: 413,
    http: '413',
    retryable: false,
    description: 'The body is larger than `MAX_BODY_BYTES`',
  },
  IDEMPOTENCY_KEY_MISMATCH: {
    status: 422,
    http: '422',
    retryable: false,
    description:
      'This `Idempotency-Key` was used (by the same token subject, within `IDEMPOTENCY_TTL_HOURS`) for a different operation or variables; nothing ran. Use a new key for a new request',
  },
  IDEMPOTENCY_KEY_IN_FLIGHT: {
    status: 409,
    http: '409',
    retryable: true,
    description: 'The first request with this `Idempotency-Key` is still running; nothing ran. Retry later to get its response',
  },
  RATE_LIMITED: {
    status: 429,
    http: '429',
    retryable: true,
    description:
      "Too many requests for this token's subject (or address) in the window; `Retry-After` and `extensions.retryAfterS` say when to retry. Also (in a 200 result) a subscription over `MAX_SUBSCRIPTIONS_PER_SUBJECT` or `MAX_SUBSCRIPTIONS` live ones: close one, or retry later",
  },
  REQUEST_TIMEOUT: {
    status: 504,
    statusWithoutData: 504,
    http: '504, 200 or 408',
    retryable: true,
    description:
      'The request ran longer than `REQUEST_TIMEOUT_MS` and was cancelled (its database statements too): 504 for `application/graphql-response+json` when there is no data, 200 otherwise. A mutation whose answer was lost on the network may still have been applied: read before retrying it. 408 (connection closed): its headers and body did not all arrive within `REQUEST_TIMEOUT_MS`, nothing ran',
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    statusWithoutData: 503,
    http: '503 or 200',
    retryable: true,
    description:
      'No database connection or transaction slot came within `DB_CONNECTION_TIMEOUT_MS`, or the connection was lost: retry later. 503 for `application/graphql-response+json` when there is no data, 200 otherwise',
  },
  NOT_FOUND: {
    status: 404,
    http: '404',
    retryable: false,
    description: 'No such path on this server (the GraphQL route is exactly `/graphql`); over REST also no user with that ID (`GET /api/v1/users/{id}`)',
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    http: '405',
    retryable: false,
    description: "`/health`, `/ready`, `/metrics` and GraphiQL's files answer `GET` and `HEAD` only, each REST route its own methods; `Allow` lists them",
  },
  CORS_ORIGIN_NOT_ALLOWED: {
    status: 403,
    http: '403',
    retryable: false,
    description: 'A CORS preflight from an origin `CORS_ORIGINS` does not list (no cross-origin access by default)',
  },
  DOWNSTREAM_UNAVAILABLE: {
    status: 200,
    http: '200',
    retryable: true,
    description:
      'A field served by a downstream service (`User.profile`, from the profile service) is null because that service failed, timed out or is shed while its circuit breaker is open; the rest of the response is intact. Retry later',
  },
  INTERNAL_SERVER_ERROR: {
    status: 500,
    http: '200 or 500',
    retryable: false,
    description: "Something unexpected, shown only as `Unexpected error.`; `extensions.requestId` finds the full error in the server's log",
  },
};

/** True for one of this API's codes (Yoga's and ours alike). */
export const isErrorCode = (value: unknown): value is ErrorCode => typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
