import type { ExecutionResult, GraphQLError } from 'graphql';
import { ErrorCode, isResultErrorType, problem, problemOfGraphQLError, problemResponse, type Problem } from '../errors/index.js';
import { createAcceptCheck, mediaTypeOf } from '../media-types.js';
import { INVALID_CONTENT_LENGTH, JSON_TOO_DEEP, readBoundedJson, type BodyRefusals } from '../request-body.js';
import { ROUTES } from '../routes.js';
import { etagOf, type OperationName, type RestUser } from './operations.js';

/** Runs one of the fixed documents through Yoga (see use-rest.ts); errors come back masked. */
export type RunOperation = (operation: OperationName, variables: Record<string, unknown>) => Promise<ExecutionResult>;

export interface RestRequestContext {
  request: Request;
  url: URL;
  fetchAPI: { Response: typeof Response };
  run: RunOperation;
  maxBodyBytes: number;
}

export const USERS_PATH = `${ROUTES.rest}users`;
export const REST_MEDIA_TYPES = ['application/json', 'application/problem+json'] as const;
const acceptable = createAcceptCheck(REST_MEDIA_TYPES);
const LIST_PARAMS = new Set(['first', 'after', 'last', 'before', 'search', 'role', 'orderBy', 'direction']);
const INTEGER = /^-?\d{1,16}$/;
const STRONG_ETAG = /^"(\d{1,9})"$/;

/** A problem raised while reading the request, before any operation ran. */
class RequestProblem extends Error {
  constructor(
    readonly problem: Problem,
    readonly headers: Record<string, string> = {},
  ) {
    super(problem.detail);
  }
}

const badRequest = (detail: string) => new RequestProblem(problem(ErrorCode.BAD_REQUEST, detail));

/**
 * Answers a request on the REST prefix; the caller has authenticated it. HEAD is GET without the content
 * (RFC 9110 §9.3.2): the same status and headers.
 */
export async function handleRest(ctx: RestRequestContext): Promise<Response> {
  const response = await answer(ctx);
  if (ctx.request.method !== 'HEAD') return response;
  return new ctx.fetchAPI.Response(null, { status: response.status, headers: response.headers });
}

async function answer(ctx: RestRequestContext): Promise<Response> {
  const { request, url, fetchAPI } = ctx;
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  try {
    if (!acceptable(request.headers.get('accept'))) {
      throw new RequestProblem(problem(ErrorCode.NOT_ACCEPTABLE, `Not acceptable: this API answers with ${REST_MEDIA_TYPES.join(', ')}.`), {
        accept: REST_MEDIA_TYPES.join(', '),
      });
    }
    const target = resourceOf(url.pathname);
    if (!target) throw new RequestProblem(problem(ErrorCode.NOT_FOUND, 'Not found.'));
    const allow = target.kind === 'users' ? ['GET', 'HEAD', 'POST'] : ['GET', 'HEAD', 'PUT', 'DELETE'];
    if (!allow.includes(request.method)) {
      throw new RequestProblem(problem(ErrorCode.METHOD_NOT_ALLOWED, `Method not allowed; use ${allow.join(' or ')}.`), { allow: allow.join(', ') });
    }
    if (target.kind === 'users') return method === 'GET' ? await listUsers(ctx) : await createUser(ctx);
    if (method === 'GET') return await getUser(ctx, target.id);
    if (method === 'PUT') return await updateUser(ctx, target.id);
    return await deleteUser(ctx, target.id);
  } catch (error) {
    if (error instanceof RequestProblem) return problemResponse(fetchAPI, error.problem, error.headers);
    throw error;
  }
}

type Resource = { kind: 'users' } | { kind: 'user'; id: string };

function resourceOf(pathname: string): Resource | null {
  if (pathname === USERS_PATH) return { kind: 'users' };
  if (!pathname.startsWith(`${USERS_PATH}/`)) return null;
  const segment = pathname.slice(USERS_PATH.length + 1);
  if (!segment || segment.includes('/')) return null;
  try {
    return { kind: 'user', id: decodeURIComponent(segment) };
  } catch {
    return null;
  }
}

async function listUsers(ctx: RestRequestContext): Promise<Response> {
  const params = ctx.url.searchParams;
  const value: Record<string, string> = {};
  for (const [key, v] of params) {
    if (!LIST_PARAMS.has(key)) throw badRequest(`Unknown query parameter; use ${[...LIST_PARAMS].join(', ')}.`);
    if (Object.hasOwn(value, key)) throw badRequest('A query parameter is given more than once.');
    value[key] = v;
  }
  // Numbers are passed as numbers, anything else as given: GraphQL's own coercion refuses it (400).
  const int = (v: string | undefined) => (v !== undefined && INTEGER.test(v) ? Number(v) : v);
  const filter = value.search !== undefined || value.role !== undefined ? { search: value.search, role: value.role } : undefined;
  if (value.direction !== undefined && value.orderBy === undefined) throw badRequest('direction needs orderBy.');
  const orderBy = value.orderBy !== undefined ? { field: value.orderBy, direction: value.direction ?? 'ASC' } : undefined;
  const result = await ctx.run('listUsers', {
    first: int(value.first),
    after: value.after,
    last: int(value.last),
    before: value.before,
    filter,
    orderBy,
  });
  const users = dataOf<{ edges: { node: RestUser }[]; pageInfo: unknown; totalCount: number }>(result, 'users');
  return json(ctx, 200, { items: users.edges.map((e) => e.node), pageInfo: users.pageInfo, totalCount: users.totalCount });
}

async function getUser(ctx: RestRequestContext, id: string): Promise<Response> {
  const user = dataOf<RestUser | null>(await ctx.run('getUser', { id }), 'user', true);
  if (!user) throw new RequestProblem(problem(ErrorCode.NOT_FOUND, 'No user has this ID.'));
  return json(ctx, 200, user, { etag: etagOf(user) });
}

async function createUser(ctx: RestRequestContext): Promise<Response> {
  const input = await bodyOf(ctx);
  const payload = payloadOf(await ctx.run('createUser', { input }), 'createUser');
  const user = (payload as { user: RestUser }).user;
  return json(ctx, 201, user, { etag: etagOf(user), location: `${USERS_PATH}/${encodeURIComponent(user.id)}` });
}

async function updateUser(ctx: RestRequestContext, id: string): Promise<Response> {
  const expectedVersion = versionOf(ctx.request.headers.get('if-match'));
  const body = await bodyOf(ctx);
  if ('id' in body || 'expectedVersion' in body) throw badRequest('The ID comes from the path and the version from If-Match, not from the body.');
  const payload = payloadOf(await ctx.run('updateUser', { input: { ...body, id, expectedVersion } }), 'updateUser');
  const user = (payload as { user: RestUser }).user;
  return json(ctx, 200, user, { etag: etagOf(user) });
}

async function deleteUser(ctx: RestRequestContext, id: string): Promise<Response> {
  payloadOf(await ctx.run('deleteUser', { input: { id } }), 'deleteUser');
  return new ctx.fetchAPI.Response(null, { status: 204, headers: { 'cache-control': 'no-store' } });
}

/** `If-Match`: absent or `*` is unconditional; otherwise exactly one strong tag as ETag gave it. */
function versionOf(ifMatch: string | null): number | undefined {
  if (ifMatch === null || ifMatch.trim() === '*') return undefined;
  const match = STRONG_ETAG.exec(ifMatch.trim());
  if (!match) throw badRequest('If-Match must be one strong entity tag as ETag gave it (e.g. "3"), or *.');
  return Number(match[1]);
}

const BODY_REFUSALS: BodyRefusals = {
  tooLarge: () => new RequestProblem(problem(ErrorCode.REQUEST_ENTITY_TOO_LARGE, 'Request body too large.')),
  invalidLength: () => badRequest(INVALID_CONTENT_LENGTH),
  invalidJson: () => badRequest('The body is not valid JSON.'),
  tooDeep: () => badRequest(JSON_TOO_DEEP),
};

/** The JSON object body of a POST or PUT, within MAX_BODY_BYTES. */
async function bodyOf({ request, maxBodyBytes }: RestRequestContext): Promise<Record<string, unknown>> {
  let type: string;
  let charset: string | undefined;
  try {
    ({ type, charset } = mediaTypeOf(request.headers.get('content-type')));
  } catch {
    type = '';
  }
  if (type !== 'application/json' || (charset !== undefined && charset !== 'utf-8')) {
    throw new RequestProblem(problem(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'Unsupported content type: send a UTF-8 JSON body with content-type application/json.'), {
      accept: 'application/json',
    });
  }
  const body = await readBoundedJson(request, maxBodyBytes, BODY_REFUSALS);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The body must be a JSON object.');
  return body as Record<string, unknown>;
}

/** A query's field; its first error (masked) as a problem when there is one or the field is missing. */
function dataOf<T>(result: ExecutionResult, field: string, nullable = false): T {
  const value = result.data?.[field];
  if (result.errors?.length) throw new RequestProblem(...problemHeaders(result.errors[0]!));
  if (value === undefined || (value === null && !nullable)) throw new RequestProblem(problem(ErrorCode.INTERNAL_SERVER_ERROR, 'Unexpected error.'));
  return value as T;
}

/** A mutation's result union: the success, or its typed error as a problem (the union's `__typename` is the code). */
function payloadOf(result: ExecutionResult, field: string): Record<string, unknown> {
  const payload = dataOf<Record<string, unknown> & { __typename: string }>(result, field);
  const { __typename: typename, message, ...members } = payload;
  if (isResultErrorType(typename)) throw new RequestProblem(problem(typename, String(message), members));
  return payload;
}

function problemHeaders(error: GraphQLError): [Problem, Record<string, string>] {
  const body = problemOfGraphQLError(error);
  const headers: Record<string, string> = {};
  if (typeof body.retryAfterS === 'number') headers['retry-after'] = String(body.retryAfterS);
  return [body, headers];
}

function json(ctx: RestRequestContext, status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new ctx.fetchAPI.Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}
