import { createHash } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import { mediaTypeOf } from '../media-types.js';

export interface SecurityHeadersOptions {
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
  const hashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`);
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

const mediaType = (contentType: string | null) => mediaTypeOf(contentType).type;

/**
 * Security headers on every response: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
 * `Referrer-Policy: no-referrer`, HSTS, and a Content-Security-Policy that forbids everything for
 * JSON and text responses and allows exactly what the GraphiQL page needs for it.
 */
export function useSecurityHeaders(options: SecurityHeadersOptions = {}): Plugin {
  const hstsMaxAgeS = options.hstsMaxAgeS ?? 31_536_000;
  let cachedGraphiql: { html: string; csp: string } | undefined;

  return {
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
      // Only the GraphiQL page and the REST docs page are HTML: hash their inline scripts (the docs page has none).
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
