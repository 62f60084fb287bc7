import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '../logger.js';
import { requestIdOf, requestRouteOf, viewerOf } from '../request-info.js';

export interface RateLimitOptions {
  /** Requests one caller may make per window. */
  points: number;
  /** Length of the window, in seconds. */
  windowS: number;
  /**
   * Keep the budgets in this Redis, so every replica draws from the same one. Unset: each process
   * counts in memory. When Redis is unreachable, each process falls back to its own memory budget.
   */
  redisUrl?: string;
  logger: Logger;
  /** Prefix of the Redis keys. Default `uag:rl`. */
  keyPrefix?: string;
  /**
   * The client's address, for callers without a verified token. Default: the TCP peer of the node:http
   * request. Not X-Forwarded-For, which any client can write.
   */
  clientAddress?: (request: Request, serverContext: Record<string, unknown>) => string | undefined;
}

const socketAddress = (_request: Request, serverContext: Record<string, unknown>) =>
  (serverContext.req as IncomingMessage | undefined)?.socket?.remoteAddress;

function tooManyRequests(fetchAPI: { Response: typeof Response }, retryAfterS: number) {
  return fetchAPI.Response.json(
    { errors: [{ message: `Too many requests; retry in ${retryAfterS} s.`, extensions: { code: 'RATE_LIMITED', retryAfterS } }] },
    { status: 429, headers: { 'retry-after': String(retryAfterS), 'cache-control': 'no-store' } },
  );
}

const retryAfterOf = (res: RateLimiterRes) => Math.max(1, Math.ceil(res.msBeforeNext / 1000));

/**
 * A request budget per caller on the GraphQL endpoint (rate-limiter-flexible): `points` requests per
 * `windowS`, then 429 with `Retry-After` and a GraphQL-shaped error RATE_LIMITED, before the request
 * is parsed.
 *
 * The caller is the verified token subject (`user:<sub>`), so one user has one budget whatever their
 * addresses; requests without a verified subject count against the client address (`ip:<address>`).
 * Refused tokens (401s, answered by `useAuth` before this plugin sees the viewer) are charged to the
 * address afterwards, and an address out of budget is refused before its next token is even
 * verified, so a token-guessing client is slowed down too.
 *
 * Register it BEFORE `useAuth`: its onRequest hook (the address check) must run before the token is
 * verified, while the per-subject check runs in onRequestParse, after every onRequest hook.
 */
export function useRateLimit(options: RateLimitOptions): Plugin {
  const { points, windowS, redisUrl, logger, keyPrefix = 'uag:rl', clientAddress = socketAddress } = options;
  const memory = () => new RateLimiterMemory({ points, duration: windowS, keyPrefix });
  let redis: Redis | undefined;
  let limiter: RateLimiterMemory | RateLimiterRedis;
  if (redisUrl) {
    redis = new Redis(redisUrl, {
      // Fail fast when disconnected (the insurance limiter answers), never queue commands.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      retryStrategy: (times) => Math.min(times * 200, 5_000),
    });
    // Until the first "ready", and during outages, each replica counts in its own memory.
    let up: boolean | undefined;
    redis.on('error', (err: Error) => {
      if (up === false) return;
      up = false;
      logger.warn({ err: err.message }, 'rate limit: Redis unavailable, each replica now counts in its own memory');
    });
    redis.on('ready', () => {
      logger.info(up === false ? 'rate limit: Redis available again' : 'rate limit: counting in Redis');
      up = true;
    });
    limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix,
      points,
      duration: windowS,
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory(),
    });
  } else {
    limiter = memory();
  }

  /** Addresses out of budget, with the time their window ends: checked before token verification. */
  const blocked = new Map<string, number>();
  const block = (address: string, res: RateLimiterRes) => {
    if (blocked.size >= 10_000) {
      const now = Date.now();
      for (const [key, until] of blocked) if (until <= now) blocked.delete(key);
      if (blocked.size >= 10_000) blocked.clear();
    }
    blocked.set(address, Date.now() + res.msBeforeNext);
  };

  /** Consumes a point; the refusal, or undefined when allowed (also when the limiter itself fails). */
  const consume = async (key: string, request: Request): Promise<RateLimiterRes | undefined> => {
    try {
      await limiter.consume(key);
      return undefined;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return rejection;
      // Both stores failed: serve rather than take the API down.
      logger.error({ requestId: requestIdOf(request), err: rejection }, 'rate limit: limiter failed, request allowed');
      return undefined;
    }
  };

  return {
    onRequest({ request, serverContext, fetchAPI, endResponse }) {
      if (requestRouteOf(request) !== 'graphql' || request.method === 'OPTIONS') return;
      const address = clientAddress(request, serverContext) ?? 'unknown';
      const until = blocked.get(address);
      if (until === undefined) return;
      if (until <= Date.now()) {
        blocked.delete(address);
        return;
      }
      endResponse(tooManyRequests(fetchAPI, Math.max(1, Math.ceil((until - Date.now()) / 1000))));
    },
    async onRequestParse({ request, serverContext, fetchAPI, endResponse }) {
      if (requestRouteOf(request) !== 'graphql') return;
      const viewer = viewerOf(request);
      const address = clientAddress(request, serverContext) ?? 'unknown';
      const refused = await consume(viewer ? `user:${viewer.userId}` : `ip:${address}`, request);
      if (!refused) return;
      if (!viewer) block(address, refused);
      logger.info({ requestId: requestIdOf(request), userId: viewer?.userId, retryAfterS: retryAfterOf(refused) }, 'rate limited');
      endResponse(tooManyRequests(fetchAPI, retryAfterOf(refused)));
    },
    onResponse({ request, response, serverContext }) {
      if (response.status !== 401 || requestRouteOf(request) !== 'graphql') return;
      const address = clientAddress(request, serverContext) ?? 'unknown';
      // Charged after the fact, without holding the 401 back for a Redis round trip.
      void consume(`ip:${address}`, request).then((refused) => refused && block(address, refused));
    },
    async onDispose() {
      if (!redis) return;
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}
