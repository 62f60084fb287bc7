import { LRUCache } from 'lru-cache';
import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';
import type { AuthConfig } from './config.js';
import { isUuid } from './ids.js';

/** The caller a verified token names. */
export interface Viewer {
  /** The token's subject: a user's id (UUID), whether or not that user row exists. */
  readonly userId: string;
  readonly role: 'USER' | 'ADMIN';
  /** When the token expires (epoch milliseconds): a live subscription ends then. */
  readonly expiresAt: number;
}

/** Why a token was refused; never shown to clients in more detail than "invalid_token". */
export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

/** Verifies a token; `known` answers synchronously for a token verified in the last minute (else undefined). */
export interface TokenVerifier {
  (token: string): Promise<Viewer>;
  known?(token: string): Viewer | undefined;
}

/**
 * Verifies bearer tokens: HS256 with the shared secret, or RS256/ES256 from a JWKS endpoint (jose
 * caches the keys and refetches when a token names an unknown key id, which is how rotation works).
 * Algorithms are pinned, so `alg: none` or an HS256 token signed with a public key never pass.
 * Lifetimes are bounded: a token living longer than `maxTtlS` (`exp - iat`, or `exp - now` without
 * `iat`) or issued in the future (beyond the clock tolerance) is refused, so `exp: 1e300` is too.
 */
export function createTokenVerifier(config: AuthConfig, options: { jwksCooldownMs?: number } = {}): TokenVerifier {
  const secretKey = config.secret ? new TextEncoder().encode(config.secret) : undefined;
  const jwks: JWTVerifyGetKey | undefined = config.jwksUrl
    ? createRemoteJWKSet(new URL(config.jwksUrl), {
        // An unknown key id triggers a refetch at most this often, so garbage kids cannot hammer the IdP.
        cooldownDuration: options.jwksCooldownMs ?? 30_000,
        cacheMaxAge: 10 * 60_000,
        timeoutDuration: 5_000,
      })
    : undefined;
  const verifyOptions = {
    algorithms: jwks ? ['RS256', 'ES256'] : ['HS256'],
    issuer: config.issuer,
    audience: config.audience,
    clockTolerance: config.clockToleranceS,
    requiredClaims: ['sub', 'exp'],
  };
  // Verified tokens are remembered (never past their `exp`, at most a minute): verification is an
  // async WebCrypto call, 9-14% of CPU per request in the benchmark, and clients resend one token.
  const verified = new LRUCache<string, Viewer>({ max: 10_000, ttl: 60_000, ttlAutopurge: false });
  const verify = async (token: string): Promise<Viewer> => {
    const cached = verified.get(token);
    if (cached) return cached;
    let payload;
    try {
      ({ payload } = jwks ? await jwtVerify(token, jwks, verifyOptions) : await jwtVerify(token, secretKey!, verifyOptions));
    } catch (error) {
      throw new InvalidTokenError(error instanceof Error ? error.message : 'invalid token');
    }
    const role = payload.role ?? 'USER';
    if (typeof payload.sub !== 'string' || !isUuid(payload.sub)) throw new InvalidTokenError('sub must be a user id (UUID)');
    if (role !== 'USER' && role !== 'ADMIN') throw new InvalidTokenError('role must be USER or ADMIN');
    // jose checked that exp (required) and iat are numbers and exp has not passed; it bounds neither.
    const exp = payload.exp!;
    const now = Date.now() / 1000;
    if (payload.iat !== undefined && payload.iat > now + config.clockToleranceS) throw new InvalidTokenError('iat is in the future');
    const lifetime = payload.iat === undefined ? exp - now - config.clockToleranceS : exp - payload.iat;
    if (lifetime > config.maxTtlS) throw new InvalidTokenError(`lifetime over JWT_MAX_TTL_S (${config.maxTtlS} s)`);
    const viewer: Viewer = { userId: payload.sub.toLowerCase(), role, expiresAt: exp * 1000 };
    const untilExpiry = viewer.expiresAt - Date.now();
    if (untilExpiry > 0) verified.set(token, viewer, { ttl: Math.min(untilExpiry, 60_000) });
    return viewer;
  };
  // The LRU's ttl is at most the token's remaining life, so a remembered viewer has not expired.
  return Object.assign(verify, { known: (token: string) => verified.get(token) });
}

/** Signs an HS256 token the server configured with `config` accepts (development tooling and tests). */
export function signToken(config: AuthConfig, claims: { sub: string; role: 'USER' | 'ADMIN' }, expiresIn: string | number = '1h'): Promise<string> {
  if (!config.secret) throw new Error('signToken needs JWT_SECRET (tokens for JWKS setups come from the identity provider)');
  let jwt = new SignJWT({ role: claims.role }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(claims.sub).setIssuedAt().setExpirationTime(expiresIn);
  if (config.issuer) jwt = jwt.setIssuer(config.issuer);
  if (config.audience) jwt = jwt.setAudience(config.audience);
  return jwt.sign(new TextEncoder().encode(config.secret));
}
