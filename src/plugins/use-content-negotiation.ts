import type { Plugin } from 'graphql-yoga';
import { ErrorCode, refusal } from '../errors/index.js';
import { createAcceptCheck, mediaTypeOf } from '../media-types.js';
import { jsonBodyParser, withJsonParamErrors } from '../request-parsers.js';
import { requestRouteOf } from '../request-info.js';

export interface ContentNegotiationOptions {
  /**
   * Media types a POST to the endpoint may carry; anything else, or none, is refused with 415 before
   * authentication or parsing. Default `application/json` and `application/graphql+json`: both are
   * "non-simple" types, so a browser cannot send them cross-site without a CORS preflight, which
   * closes the CSRF route of HTML forms (`application/x-www-form-urlencoded`, `multipart/form-data`,
   * `text/plain`). Compared as RFC 9110 media types (case-insensitive, parameters aside); a `charset`
   * other than UTF-8 is refused too.
   */
  allowedContentTypes?: readonly string[];
  /** MAX_BODY_BYTES: a larger POST body is refused with 413 (Yoga's own limit is off; see request-body.ts). */
  maxBodyBytes: number;
}

/** What Yoga can answer with: single results, incremental delivery and server-sent events. */
const RESPONSE_TYPES = ['application/graphql-response+json', 'application/json', 'multipart/mixed', 'text/event-stream'];

/**
 * Whether an Accept header admits one of RESPONSE_TYPES. JSON comes in UTF-8 only, so a range asking for
 * another charset does not match it.
 */
const acceptable = createAcceptCheck(['application/graphql-response+json; charset=utf-8', 'application/json; charset=utf-8', 'multipart/mixed', 'text/event-stream']);

/**
 * What goes in and out of the GraphQL endpoint:
 * - an Accept header that admits none of the response types is refused with 406 NOT_ACCEPTABLE
 *   before anything runs (Yoga would execute first, so a mutation would write and then answer 406);
 * - POSTs to the endpoint must be JSON (415 UNSUPPORTED_MEDIA_TYPE otherwise): no form, multipart or
 *   text/plain bodies, so no cross-site form can reach a resolver (CSRF). GET stays open for queries:
 *   Yoga refuses mutations over GET with 405, and every request needs an `Authorization: Bearer`
 *   header, which a cross-site page can neither read nor send without a preflight. Every RFC 9110
 *   spelling of a JSON type is parsed as JSON (see `jsonBodyParser`), bodies over `maxBodyBytes` are
 *   413, and malformed JSON in GET's `variables`/`extensions` is a 400 BAD_REQUEST, not an unexpected
 *   error.
 */
export function useContentNegotiation(options: ContentNegotiationOptions): Plugin {
  const parseJsonBody = jsonBodyParser(options.maxBodyBytes);
  const allowed = new Set((options.allowedContentTypes ?? ['application/json', 'application/graphql+json']).map((t) => t.toLowerCase()));
  const notAcceptable = `Not acceptable: this endpoint answers with ${RESPONSE_TYPES.join(', ')}.`;
  const unsupported = `Unsupported content type: POST a UTF-8 JSON body with content-type ${[...allowed].join(' or ')}.`;

  return {
    onRequest({ request, fetchAPI, endResponse }) {
      if (requestRouteOf(request) !== 'graphql') return;
      // Yoga picks the response type after executing; a mutation must not run for a 406.
      if (!acceptable(request.headers.get('accept'))) {
        endResponse(refusal(fetchAPI, ErrorCode.NOT_ACCEPTABLE, notAcceptable, { headers: { accept: RESPONSE_TYPES.join(', ') } }));
        return;
      }
      if (request.method !== 'POST') return;
      const { type, charset } = mediaTypeOf(request.headers.get('content-type'));
      if (allowed.has(type) && (charset === undefined || charset === 'utf-8')) return;
      endResponse(refusal(fetchAPI, ErrorCode.UNSUPPORTED_MEDIA_TYPE, unsupported, { headers: { accept: [...allowed].join(', ') } }));
    },
    onRequestParse({ request, requestParser, setRequestParser }) {
      // Every POST still here is JSON by onRequest's reading, whatever Yoga's string comparison made of it.
      if (request.method === 'POST') setRequestParser(parseJsonBody);
      else if (request.method === 'GET' && requestParser) setRequestParser(withJsonParamErrors(requestParser));
    },
  };
}
