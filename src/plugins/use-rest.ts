import type { ExecutionResult } from 'graphql';
import type { FetchAPI, Plugin, YogaServer } from 'graphql-yoga';
import { ErrorCode, isErrorCode, methodNotAllowed, PROBLEM_MEDIA_TYPE, problem, problemOfGraphQLError, problemResponse } from '../errors/index.js';
import type { Logger } from '../logger.js';
import { requestInfoOf } from '../request-info.js';
import { handleRest } from '../rest/handler.js';
import { renderOpenApi } from '../rest/openapi.js';
import { DOCUMENTS } from '../rest/operations.js';
import { unauthenticated } from './use-auth.js';
import { reportMaskedErrors } from './use-error-masking.js';
import { withRequestErrorCodes } from './use-request-error-status.js';

export interface RestOptions {
  logger: Logger;
  maxBodyBytes: number;
}

/**
 * The REST API (`/api/v1/…`, src/rest/): registered after routing, authentication and the rate limit,
 * so every request on the prefix was counted, logged, authenticated and charged like a GraphQL one.
 * Each route runs a fixed GraphQL document through Yoga's own `getResultForParams`: the same schema,
 * context, Envelop plugins (operation limits, deadline, masking, response cache, metrics), Pothos
 * authorization and resolvers (hence the same validation and events). Only the HTTP mapping is here.
 * Every refusal on the prefix, including other plugins' (429, 401), is answered as problem+json.
 */
export function useRest({ logger, maxBodyBytes }: RestOptions): Plugin {
  const openapi = renderOpenApi();
  let yoga: YogaServer<Record<string, unknown>, Record<string, unknown>> | undefined;
  return {
    onYogaInit({ yoga: server }) {
      yoga = server;
    },
    // Not async: on the other routes it returns nothing, so Yoga's hook chain stays synchronous.
    onRequest({ request, url, fetchAPI, serverContext, endResponse }) {
      const info = requestInfoOf(request);
      if (info.route === 'openapi') {
        // Public, like the schema GraphiQL shows: no token needed to read how to call the API.
        if (request.method !== 'GET' && request.method !== 'HEAD') endResponse(methodNotAllowed(fetchAPI, ['GET', 'HEAD']));
        else endResponse(new fetchAPI.Response(request.method === 'HEAD' ? null : openapi, { headers: { 'content-type': 'application/json; charset=utf-8' } }));
        return;
      }
      if (info.route !== 'rest') return;
      if (!info.viewer) {
        endResponse(unauthenticated(fetchAPI, info));
        return;
      }
      const run = async (operation: keyof typeof DOCUMENTS, variables: Record<string, unknown>): Promise<ExecutionResult> => {
        const params = { query: DOCUMENTS[operation], variables, operationName: undefined };
        let result = (await yoga!.getResultForParams({ params, request }, serverContext)) as ExecutionResult;
        // The result hooks of the GraphQL route that concern errors: codes for request errors, masked ones logged.
        result = (withRequestErrorCodes(result) as ExecutionResult | undefined) ?? result;
        return (reportMaskedErrors(logger, request, result) as ExecutionResult | undefined) ?? result;
      };
      const serve = async () => {
        try {
          endResponse(await handleRest({ request, url, fetchAPI, run, maxBodyBytes }));
        } catch (error) {
          logger.error({ requestId: info.id, err: error }, 'unexpected error (REST)');
          endResponse(problemResponse(fetchAPI, problem(ErrorCode.INTERNAL_SERVER_ERROR, 'Unexpected error.', { requestId: info.id })));
        }
      };
      return serve();
    },
    onResponse({ request, response, setResponse, fetchAPI }) {
      // Refusals of the other plugins (401, 429, 403 preflight) carry a GraphQL-style body: restate it.
      if (requestInfoOf(request).route !== 'rest' || response.status < 400) return;
      if (!response.headers.get('content-type')?.startsWith('application/json')) return;
      return restate(response, setResponse, fetchAPI);
    },
  };
}

/** A refusal's GraphQL-style JSON body restated as a problem (application/problem+json), headers kept. */
async function restate(response: Response, setResponse: (response: Response) => void, fetchAPI: FetchAPI): Promise<void> {
  let first: { message: string; extensions?: Record<string, unknown> } | undefined;
  try {
    first = ((await response.clone().json()) as { errors?: (typeof first)[] }).errors?.[0];
  } catch {
    return;
  }
  if (!first || !isErrorCode(first.extensions?.code)) return;
  const restated = problemResponse(fetchAPI, { ...problemOfGraphQLError(first), status: response.status });
  response.headers.forEach((value, name) => {
    if (name !== 'content-type' && name !== 'content-length') restated.headers.set(name, value);
  });
  restated.headers.set('content-type', PROBLEM_MEDIA_TYPE);
  setResponse(restated);
}
