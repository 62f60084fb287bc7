import type { Plugin } from 'graphql-yoga';
import { InvalidTokenError, type TokenVerifier } from '../auth.js';
import type { Logger } from '../logger.js';
import { requestInfoOf } from '../request-info.js';

export interface AuthOptions {
  verify: TokenVerifier;
  logger: Logger;
}

function unauthorized(fetchAPI: { Response: typeof Response }, challenge: string, message: string) {
  return fetchAPI.Response.json(
    { errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] },
    { status: 401, headers: { 'www-authenticate': challenge } },
  );
}

/**
 * Bearer authentication before anything is parsed or executed: no token → 401 UNAUTHENTICATED; a token
 * that does not verify (bad signature, `alg: none`, expired, wrong issuer or audience, garbage) → 401
 * with `WWW-Authenticate: Bearer error="invalid_token"`. The GraphiQL page itself needs no token.
 * The verified caller is noted in `request-info`.
 */
export function useAuth({ verify, logger }: AuthOptions): Plugin {
  return {
    async onRequest({ request, fetchAPI, endResponse }) {
      const info = requestInfoOf(request);
      if (info.route !== 'graphql' || request.method === 'OPTIONS') return;
      const isGraphiQL = request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
      const header = request.headers.get('authorization');
      if (!header) {
        if (!isGraphiQL) endResponse(unauthorized(fetchAPI, 'Bearer realm="user-api-gateway"', 'Authentication required.'));
        return;
      }
      const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim());
      try {
        if (!match) throw new InvalidTokenError('not a bearer token');
        info.viewer = await verify(match[1]!);
      } catch (error) {
        if (!(error instanceof InvalidTokenError)) throw error;
        logger.info({ requestId: info.id, reason: error.message }, 'token refused');
        endResponse(
          unauthorized(fetchAPI, 'Bearer realm="user-api-gateway", error="invalid_token"', 'The access token is invalid or expired.'),
        );
      }
    },
  };
}
