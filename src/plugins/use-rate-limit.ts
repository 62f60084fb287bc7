import type { Plugin } from 'graphql-yoga';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { ClientAddress } from '../client-address.js';
import type { Logger } from '../logger.js';
import { ErrorCode, refusal } from '../errors/index.js';
import { requestInfoOf } from '../request-info.js';
import { isApiRoute } from '../routes.js';

export interface RateLimitOptions {
  /** Requests one caller may make per window (each budget: a subject's, an address's). */
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
  /** The address a caller without a verified token is counted under (see `createClientAddress`). */
  clientAddress: ClientAddress;
}

type Limiter = RateLimiterMemory | RateLimiterRedis;

function tooManyRequests(fetchAPI: { Response: typeof Response }, retryAfterS: number) {
  return refusal(fetchAPI, ErrorCode.RATE_LIMITED, `Too many requests; retry in ${retryAfterS} s.`, {
    headers: { 'retry-after': String(retryAfterS) },
    extensions: { retryAfterS },
  });
}

const retryAfterOf = (res: RateLimiterRes) => Math.max(1, Math.ceil(res.msBeforeNext / 1000));

/**
 * Request budgets on the GraphQL route (rate-limiter-flexible): `points` requests per `windowS`, then
 * 429 with `Retry-After` and a GraphQL-shaped error RATE_LIMITED, before the request is parsed.
 *
 * Two budgets that never mix:
 * - a verified token counts against its subject (`sub`) only, whatever its address: behind an ingress
 *   every client shares one address, and other people's bad tokens must not lock a user out;
 * - no token, or a refused one, counts against the client address (`clientAddress`), in a budget of
 *   its own: a token-guessing address gets 429 instead of 401 once it is spent.
 *
 * Register it AFTER `useAuth`, whose onRequest hook verifies the token and notes the outcome.
 */
export function useRateLimit(options: RateLimitOptions): Plugin {
  const { points, windowS, redisUrl, logger, keyPrefix = 'uag:rl', clientAddress } = options;
  let redis: Redis | undefined;
  let limiter: (budget: 'sub' | 'addr') => Limiter;
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
    const store = redis;
    limiter = (budget) =>
      new RateLimiterRedis({
        storeClient: store,
        keyPrefix: `${keyPrefix}:${budget}`,
        points,
        duration: windowS,
        rejectIfRedisNotReady: true,
        // A spent key is refused from memory until its window ends, without a Redis round trip.
        inMemoryBlockOnConsumed: points,
        insuranceLimiter: new RateLimiterMemory({ points, duration: windowS, keyPrefix: `${keyPrefix}:${budget}` }),
      });
  } else {
    limiter = (budget) => new RateLimiterMemory({ points, duration: windowS, keyPrefix: `${keyPrefix}:${budget}` });
  }
  const subjects = limiter('sub');
  const addresses = limiter('addr');

  /** Consumes a point; the refusal, or undefined when allowed (also when the limiter itself fails). */
  // The library's promise and one reaction, no more: this runs on every API request.
  const consume = (budget: Limiter, key: string, requestId: string): Promise<RateLimiterRes | undefined> =>
    budget.consume(key).then(
      () => undefined,
      (rejection: unknown) => {
        if (rejection instanceof RateLimiterRes) return rejection;
        // Both stores failed: serve rather than take the API down.
        logger.error({ requestId, err: rejection }, 'rate limit: limiter failed, request allowed');
        return undefined;
      },
    );

  return {
    // Not async: on the other routes it returns nothing, so Yoga's hook chain stays synchronous there.
    onRequest({ request, serverContext, fetchAPI, endResponse }) {
      const info = requestInfoOf(request);
      if (!isApiRoute(info.route)) return;
      const budget = info.viewer ? consume(subjects, info.viewer.userId, info.id) : consume(addresses, clientAddress(serverContext), info.id);
      return budget.then((refused) => {
        if (!refused) return;
        logger.info({ requestId: info.id, userId: info.viewer?.userId, retryAfterS: retryAfterOf(refused) }, 'rate limited');
        endResponse(tooManyRequests(fetchAPI, retryAfterOf(refused)));
      });
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
