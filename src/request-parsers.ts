import type { GraphQLParams } from 'graphql-yoga';
import { ErrorCode, badRequestError as badRequest, codedError } from './errors/index.js';
import { INVALID_CONTENT_LENGTH, JSON_TOO_DEEP, MAX_JSON_DEPTH, nestedDeeperThan, readBoundedJson, type BodyRefusals } from './request-body.js';

type RequestParser = (request: Request) => GraphQLParams | GraphQLParams[] | Response | Promise<GraphQLParams | GraphQLParams[] | Response>;

const BODY_REFUSALS: BodyRefusals = {
  tooLarge: () => codedError(ErrorCode.REQUEST_ENTITY_TOO_LARGE, 'Request body too large.', { status: 413 }),
  invalidLength: () => badRequest(INVALID_CONTENT_LENGTH),
  invalidJson: () => badRequest('POST body sent invalid JSON.'),
  tooDeep: () => badRequest(JSON_TOO_DEEP),
};

/**
 * A parser of JSON POST bodies of at most `maxBodyBytes` (see readBoundedJson). Yoga's own parser is
 * not used: it compares the Content-Type header as a string (`Application/JSON` or `application/json ;
 * charset=utf-8` reach no parser and get an empty 415), and its 400 for invalid JSON carries the
 * parser's error name and message, with a piece of the body. Outcomes: the params, a 413
 * REQUEST_ENTITY_TOO_LARGE, or a 400 BAD_REQUEST.
 */
export function jsonBodyParser(maxBodyBytes: number): (request: Request) => Promise<GraphQLParams | GraphQLParams[]> {
  return async (request) => {
    const body = await readBoundedJson(request, maxBodyBytes, BODY_REFUSALS);
    if (body === null || typeof body !== 'object') throw badRequest(`POST body is expected to be object but received ${body === null ? 'null' : typeof body}`);
    return body as GraphQLParams | GraphQLParams[];
  };
}

/**
 * Yoga's GET parser with its JSON.parse of `variables` and `extensions` turned into a 400: as it is,
 * the SyntaxError escapes as an unexpected error (500, "Unexpected error."). Their nesting is bounded
 * as a body's is (MAX_JSON_DEPTH).
 */
export function withJsonParamErrors(parser: RequestParser): RequestParser {
  return (request) => {
    let params;
    try {
      params = parser(request);
    } catch (error) {
      if (error instanceof SyntaxError) throw badRequest('The variables or extensions parameter is not valid JSON.');
      throw error;
    }
    // Each parameter is a JSON text of its own, bounded as a body is.
    if (
      !(params instanceof Response) &&
      !(params instanceof Promise) &&
      !Array.isArray(params) &&
      [params.variables, params.extensions].some((json) => nestedDeeperThan(json, MAX_JSON_DEPTH))
    ) {
      throw badRequest(JSON_TOO_DEEP);
    }
    return params;
  };
}
