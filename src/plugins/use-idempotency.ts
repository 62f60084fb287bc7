import { getOperationAST, GraphQLError, parse } from 'graphql';
import type { FetchAPI, GraphQLParams, Plugin } from 'graphql-yoga';
import type { Database } from '../db.js';
import { ErrorCode, refusal } from '../errors/index.js';
import { claim, complete, fingerprint, release, type StoredResponse } from '../idempotency/store.js';
import type { Logger } from '../logger.js';
import { requestInfoOf } from '../request-info.js';

export interface IdempotencyOptions {
  db: Pick<Database, 'prisma'>;
  logger: Logger;
  /** How long a key and its stored response are kept (IDEMPOTENCY_TTL_HOURS). */
  ttlHours: number;
  /** An in-flight claim older than this belongs to a request that died with its process. */
  abandonedAfterMs: number;
  /** Token limit for the parse that finds the operation type (GRAPHQL_MAX_TOKENS). */
  maxTokens: number;
}

/** The header's value: an RFC 8941 sf-string (`"…"`), or the same characters unquoted. */
const KEY = /^"?([\x20-\x21\x23-\x5b\x5d-\x7e]{1,255})"?$/;

/** Yoga's onParams `setResult` (a stand-in result: nothing is parsed or executed). */
type SetResult = (result: { errors: GraphQLError[] } | { data: null }) => void;

type Outcome =
  { kind: 'claimed'; subject: string; key: string; retryable: boolean } | { kind: 'replay'; response: StoredResponse } | { kind: 'refuse'; code: ErrorCode; message: string };

const REFUSALS = {
  mismatch: [ErrorCode.IDEMPOTENCY_KEY_MISMATCH, 'This Idempotency-Key was used for a different request.'],
  'in-flight': [ErrorCode.IDEMPOTENCY_KEY_IN_FLIGHT, 'A request with this Idempotency-Key is still being processed; retry later.'],
  invalid: [ErrorCode.BAD_REQUEST, 'Idempotency-Key must be 1 to 255 printable ASCII characters.'],
} as const;

/** Codes of a failure no statement was applied in: the claim is given up so a retry runs again. */
const RELEASING = new Set<string>([ErrorCode.SERVICE_UNAVAILABLE]);

/**
 * Response headers that belong to the response, not to the request that got it: a REST create's
 * Location and ETag are part of its answer (REST routes run their mutation through the same hooks).
 */
const STORED_HEADERS = ['content-type', 'location', 'etag'];

/**
 * Idempotency keys for mutations (draft-ietf-httpapi-idempotency-key-header). A mutation sent with an
 * `Idempotency-Key` header claims (token subject, key) before it runs; its response (status,
 * content type, body) is stored when it is sent. A retry with the same key and the same operation and
 * variables gets that response again (`Idempotent-Replayed: true`) and runs nothing, so no second
 * write and no second event; with other operation or variables it gets 422, while the first is still
 * running 409. Queries and subscriptions ignore the header. Keys expire after IDEMPOTENCY_TTL_HOURS.
 *
 * Runs in onParams (after authentication and rate limiting, before parse/validate/execute): a replay
 * or refusal short-circuits execution with a stand-in result, and onResponse answers the stored
 * response or the refusal instead, keeping the headers this request earned (CORS, request id).
 */
export function useIdempotency({ db, logger, ttlHours, abandonedAfterMs, maxTokens }: IdempotencyOptions): Plugin {
  const outcomes = new WeakMap<Request, Outcome>();
  const stop = (request: Request, setResult: SetResult, outcome: Outcome & { kind: 'refuse' }) => {
    outcomes.set(request, outcome);
    setResult({ errors: [new GraphQLError(outcome.message, { extensions: { code: outcome.code } })] });
  };
  const claimOrReplay = async (request: Request, header: string, subject: string, query: string, params: GraphQLParams, setResult: SetResult) => {
    let type: string | undefined;
    try {
      type = getOperationAST(parse(query, { maxTokens }), params.operationName)?.operation;
    } catch {
      return; // Yoga answers the parse error itself.
    }
    if (type !== 'mutation') return;
    const key = KEY.exec(header)?.[1];
    if (!key) return stop(request, setResult, { kind: 'refuse', code: REFUSALS.invalid[0], message: REFUSALS.invalid[1] });
    const found = await claim(db.prisma, {
      subject,
      key,
      fingerprint: fingerprint(query, params.operationName, params.variables),
      ttlHours,
      abandonedAfterMs,
    });
    if (found.kind === 'claimed') {
      outcomes.set(request, { kind: 'claimed', subject, key, retryable: false });
    } else if (found.kind === 'replay') {
      outcomes.set(request, { kind: 'replay', response: found.response });
      setResult({ data: null });
    } else {
      const [code, message] = REFUSALS[found.kind];
      stop(request, setResult, { kind: 'refuse', code, message });
    }
  };
  /** The stored response or the refusal in place of this one; or, for a claim, stores what is sent. */
  const answer = async (outcome: Outcome, request: Request, response: Response, setResponse: (r: Response) => void, fetchAPI: FetchAPI) => {
    if (outcome.kind === 'refuse') {
      const refused = refusal(fetchAPI, outcome.code, outcome.message);
      setResponse(new fetchAPI.Response(refused.body, { status: refused.status, headers: merged(response.headers, refused.headers) }));
      return;
    }
    if (outcome.kind === 'replay') {
      const headers = merged(response.headers, new fetchAPI.Headers(outcome.response.headers));
      headers.set('idempotent-replayed', 'true');
      setResponse(new fetchAPI.Response(outcome.response.body, { status: outcome.response.status, headers }));
      return;
    }
    try {
      if (outcome.retryable) return await release(db.prisma, outcome.subject, outcome.key);
      const headers: Record<string, string> = {};
      for (const name of STORED_HEADERS) {
        const value = response.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      await complete(db.prisma, outcome.subject, outcome.key, { status: response.status, headers, body: await response.clone().text() });
    } catch (error) {
      // The claim stays in flight until abandoned: retries get 409 meanwhile, never a second execution.
      logger.warn({ err: error, requestId: requestInfoOf(request).id }, 'idempotency: could not store the response');
    }
  };
  return {
    // Not async: a request without the header (nearly all) passes without a promise.
    onParams({ request, params, setResult }) {
      const header = request.headers.get('idempotency-key');
      const subject = requestInfoOf(request).viewer?.userId;
      if (header === null || !subject || typeof params.query !== 'string') return;
      return claimOrReplay(request, header, subject, params.query, params, setResult);
    },
    onResultProcess({ request, result }) {
      const outcome = outcomes.get(request);
      if (outcome?.kind !== 'claimed') return;
      const errors = (result as { errors?: readonly { extensions?: { code?: unknown } }[] }).errors ?? [];
      outcome.retryable = errors.some((e) => RELEASING.has(String(e.extensions?.code)));
    },
    onResponse({ request, response, setResponse, fetchAPI }) {
      const outcome = outcomes.get(request);
      if (!outcome) return;
      return answer(outcome, request, response, setResponse, fetchAPI);
    },
  };
}

/** This response's headers with `over`'s on top, without a length that no longer fits. */
function merged(base: Headers, over: Headers): Headers {
  const headers = new Headers(base);
  headers.delete('content-length');
  over.forEach((value, name) => headers.set(name, value));
  return headers;
}
