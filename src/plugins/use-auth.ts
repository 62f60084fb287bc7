import type { Plugin } from 'graphql-yoga';
import { InvalidTokenError, type TokenVerifier } from '../auth.js';
import type { Logger } from '../logger.js';
import { ErrorCode, refusal } from '../errors/index.js';
import { type RequestInfo, requestInfoOf } from '../request-info.js';
import { isApiRoute } from '../routes.js';

export interface AuthOptions {
  verify: TokenVerifier;
  logger: Logger;
}

const REALM = 'Bearer realm="user-api-gateway"';
const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i;

/**
 * Bearer authentication of every request on the GraphQL route, before anything is parsed or executed:
 * no token → 401 UNAUTHENTICATED; a token that does not verify (bad signature, `alg: none`, expired,
 * wrong issuer or audience, garbage) → 401 with `WWW-Authenticate: Bearer error="invalid_token"`.
 *
 * The token is verified in onRequest and the outcome noted in `request-info`, so `useRateLimit`
 * (registered after this plugin) can charge the right budget: the subject's, or the client address's
 * for no token or a refused one. The 401 itself is answered in onRequestParse, the door to GraphQL
 * processing, after every onRequest hook: an address out of budget gets 429 instead.
 * (The GraphiQL page needs no token: Yoga serves it before any plugin of ours runs.)
 */
export function useAuth({ verify, logger }: AuthOptions): Plugin {
  return {
    onRequest({ request }) {
      const info = requestInfoOf(request);
      if (!isApiRoute(info.route)) return;
      const header = request.headers.get('authorization');
      if (!header) return;
      const match = BEARER.exec(header.trim());
      // A token verified within the last minute is answered without a promise (the common case).
      const known = match ? verify.known?.(match[1]!) : undefined;
      if (known) {
        info.viewer = known;
        return;
      }
      const refuse = (error: unknown) => {
        if (!(error instanceof InvalidTokenError)) throw error;
        info.tokenRefused = true;
        logger.info({ requestId: info.id, reason: error.message }, 'token refused');
      };
      if (!match) return refuse(new InvalidTokenError('not a bearer token'));
      return verify(match[1]!).then((viewer) => {
        info.viewer = viewer;
      }, refuse);
    },
    onRequestParse({ request, fetchAPI, endResponse }) {
      const info = requestInfoOf(request);
      if (info.viewer) return;
      endResponse(unauthenticated(fetchAPI, info));
    },
  };
}

/** The 401 of a request without a verified token (the REST handler answers it too, before running anything). */
export function unauthenticated(fetchAPI: { Response: typeof Response }, info: RequestInfo): Response {
  return info.tokenRefused
    ? refusal(fetchAPI, ErrorCode.UNAUTHENTICATED, 'The access token is invalid or expired.', {
        headers: { 'www-authenticate': `${REALM}, error="invalid_token"` },
      })
    : refusal(fetchAPI, ErrorCode.UNAUTHENTICATED, 'Authentication required.', { headers: { 'www-authenticate': REALM } });
}
