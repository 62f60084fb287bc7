import { createHash } from 'node:crypto';
import { type ExecutionResult, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { createAcceptCheck, mediaTypeOf } from '../media-types.js';
import { refusal } from '../refusal.js';
import { parseJsonBody, withJsonParamErrors } from '../request-parsers.js';
import { requestRouteOf } from '../request-info.js';

export interface HttpHardeningOptions {
  /**
   * Media types a POST to the endpoint may carry; anything else, or none, is refused with 415 before
   * authentication or parsing. Default `application/json` and `application/graphql+json`: both are
   * "non-simple" types, so a browser cannot send them cross-site without a CORS preflight, which
   * closes the CSRF route of HTML forms (`application/x-www-form-urlencoded`, `multipart/form-data`,
   * `text/plain`). Compared as RFC 9110 media types (case-insensitive, parameters aside); a `charset`
   * other than UTF-8 is refused too.
   */
  allowedContentTypes?: readonly string[];
  /** `Strict-Transport-Security` max-age in seconds; 0 leaves the header out. Default one year. */
  hstsMaxAgeS?: number;
}

const JSON_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * CSP of the GraphiQL page. Everything it loads comes from this server (useGraphiQLAssets): scripts,
 * the stylesheet, the editor workers, requests to the endpoint. Inline scripts would need their hash
 * (computed from the HTML actually served); the page has none (its options are a JSON data block, which
 * is not executed). Fonts and images also as data: URLs (the stylesheet embeds them); inline styles are
 * allowed, since the Monaco editor and React set them. No 'unsafe-eval', no blob: and no other origin:
 * the GraphiQL bundle and its workers need none (the browser test in test/graphiql.test.ts fails on any
 * CSP violation).
 */
function graphiqlCsp(html: string): string {
  const hashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(
    (m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`,
  );
  return [
    "default-src 'none'",
    `script-src 'self' ${hashes.join(' ')}`.trim(),
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self' data:",
    "img-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** What Yoga can answer with: single results, incremental delivery and server-sent events. */
const RESPONSE_TYPES = ['application/graphql-response+json', 'application/json', 'multipart/mixed', 'text/event-stream'];

/**
 * Whether an Accept header admits one of RESPONSE_TYPES. JSON comes in UTF-8 only, so a range asking for
 * another charset does not match it.
 */
const acceptable = createAcceptCheck([
  'application/graphql-response+json; charset=utf-8',
  'application/json; charset=utf-8',
  'multipart/mixed',
  'text/event-stream',
]);

const mediaType = (contentType: string | null) => mediaTypeOf(contentType).type;

/**
 * Two fixes to request errors before the status is chosen:
 * - Yoga marks them (invalid JSON, missing query, parse and validation failures) with
 *   `extensions.http.spec`, which makes it answer 200 to `Accept: application/json`, as the
 *   GraphQL-over-HTTP spec suggests for legacy clients. This API answers 4xx to a refused request
 *   whatever the client accepts, so the mark is dropped.
 * - Variables that do not coerce get 400 but no code from the executor (it gives subscriptions
 *   BAD_USER_INPUT); they get BAD_USER_INPUT here too, so every refusal carries a code.
 */
function asRequestErrors(result: ExecutionResult): ExecutionResult {
  const http = (e: GraphQLError) => e.extensions?.http;
  const legacy = (e: GraphQLError) => http(e)?.spec === true;
  const uncoded = (e: GraphQLError) => http(e)?.status === 400 && e.extensions?.code === undefined;
  if (!result.errors?.some((e) => legacy(e) || uncoded(e))) return result;
  const errors = result.errors.map((error) =>
    legacy(error) || uncoded(error)
      ? new GraphQLError(error.message, {
          nodes: error.nodes,
          source: error.source,
          positions: error.positions,
          path: error.path,
          originalError: error.originalError,
          extensions: {
            ...error.extensions,
            code: error.extensions.code ?? 'BAD_USER_INPUT',
            http: { ...http(error), spec: false },
          },
        })
      : error,
  );
  return { ...result, errors };
}

/**
 * HTTP-level protections for every response and the GraphQL endpoint:
 * - an Accept header that admits none of the response types is refused with 406 NOT_ACCEPTABLE
 *   before anything runs (Yoga would execute first, so a mutation would write and then answer 406);
 * - POSTs to the endpoint must be JSON (415 UNSUPPORTED_MEDIA_TYPE otherwise): no form, multipart or
 *   text/plain bodies, so no cross-site form can reach a resolver (CSRF). GET stays open for queries:
 *   Yoga refuses mutations over GET with 405, and every request needs an `Authorization: Bearer`
 *   header, which a cross-site page can neither read nor send without a preflight. Every RFC 9110
 *   spelling of a JSON type is parsed as JSON (see `parseJsonBody`), and malformed JSON in GET's
 *   `variables`/`extensions` is a 400 BAD_REQUEST, not an unexpected error;
 * - request errors answer 4xx for `Accept: application/json` too, each with a code (see `asRequestErrors`);
 * - security headers on every response: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
 *   `Referrer-Policy: no-referrer`, HSTS, and a Content-Security-Policy that forbids everything for
 *   JSON and text responses and allows exactly what the GraphiQL page needs for it.
 */
export function useHttpHardening(options: HttpHardeningOptions = {}): Plugin {
  const allowed = new Set((options.allowedContentTypes ?? ['application/json', 'application/graphql+json']).map((t) => t.toLowerCase()));
  const hstsMaxAgeS = options.hstsMaxAgeS ?? 31_536_000;
  const notAcceptable = `Not acceptable: this endpoint answers with ${RESPONSE_TYPES.join(', ')}.`;
  const unsupported = `Unsupported content type: POST a UTF-8 JSON body with content-type ${[...allowed].join(' or ')}.`;
  let cachedGraphiql: { html: string; csp: string } | undefined;

  return {
    onRequest({ request, fetchAPI, endResponse }) {
      if (requestRouteOf(request) !== 'graphql') return;
      // Yoga picks the response type after executing; a mutation must not run for a 406.
      if (!acceptable(request.headers.get('accept'))) {
        endResponse(
          refusal(fetchAPI, 406, 'NOT_ACCEPTABLE', notAcceptable, { headers: { accept: RESPONSE_TYPES.join(', ') } }),
        );
        return;
      }
      if (request.method !== 'POST') return;
      const { type, charset } = mediaTypeOf(request.headers.get('content-type'));
      if (allowed.has(type) && (charset === undefined || charset === 'utf-8')) return;
      endResponse(
        refusal(fetchAPI, 415, 'UNSUPPORTED_MEDIA_TYPE', unsupported, { headers: { accept: [...allowed].join(', ') } }),
      );
    },
    onRequestParse({ request, requestParser, setRequestParser }) {
      // Every POST still here is JSON by onRequest's reading, whatever Yoga's string comparison made of it.
      if (request.method === 'POST') setRequestParser(parseJsonBody);
      else if (request.method === 'GET' && requestParser) setRequestParser(withJsonParamErrors(requestParser));
    },
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result)) setResult(result.map((r: ExecutionResult) => asRequestErrors(r)));
      else if (result && typeof result === 'object' && 'errors' in result) setResult(asRequestErrors(result as ExecutionResult));
    },
    onResponse({ response }) {
      const headers = response.headers;
      headers.set('x-content-type-options', 'nosniff');
      headers.set('x-frame-options', 'DENY');
      headers.set('referrer-policy', 'no-referrer');
      if (hstsMaxAgeS > 0) headers.set('strict-transport-security', `max-age=${hstsMaxAgeS}; includeSubDomains`);
      if (mediaType(headers.get('content-type')) !== 'text/html') {
        headers.set('content-security-policy', JSON_CSP);
        return;
      }
      // Only the GraphiQL page is HTML: hash its inline scripts (once per distinct page).
      return response
        .clone()
        .text()
        .then((html) => {
          if (cachedGraphiql?.html !== html) cachedGraphiql = { html, csp: graphiqlCsp(html) };
          headers.set('content-security-policy', cachedGraphiql.csp);
        });
    },
  };
}
