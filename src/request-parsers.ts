import { GraphQLError } from 'graphql';
import type { GraphQLParams } from 'graphql-yoga';
import { badRequestError as badRequest } from './errors/index.js';

type RequestParser = (request: Request) => GraphQLParams | GraphQLParams[] | Response | Promise<GraphQLParams | GraphQLParams[] | Response>;

/**
 * A JSON POST body. Yoga's own parser is not used: it compares the Content-Type header as a string
 * (`Application/JSON` or `application/json ; charset=utf-8` reach no parser and get an empty 415), and
 * its 400 for invalid JSON carries the parser's error name and message, with a piece of the body.
 * Outcomes: the params, the body size limit's 413 (its error passes through), or a 400 BAD_REQUEST.
 */
export async function parseJsonBody(request: Request): Promise<GraphQLParams | GraphQLParams[]> {
  let body: unknown;
  try {
    body = await request.json();
  } catch (error) {
    if (error instanceof GraphQLError) throw error;
    throw badRequest('POST body sent invalid JSON.');
  }
  if (body === null || typeof body !== 'object') throw badRequest(`POST body is expected to be object but received ${body === null ? 'null' : typeof body}`);
  return body as GraphQLParams | GraphQLParams[];
}

/**
 * Yoga's GET parser with its JSON.parse of `variables` and `extensions` turned into a 400: as it is,
 * the SyntaxError escapes as an unexpected error (500, "Unexpected error.").
 */
export function withJsonParamErrors(parser: RequestParser): RequestParser {
  return (request) => {
    try {
      return parser(request);
    } catch (error) {
      if (error instanceof SyntaxError) throw badRequest('The variables or extensions parameter is not valid JSON.');
      throw error;
    }
  };
}
