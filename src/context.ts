import type { Viewer } from './auth.js';
import type { PrismaClient } from './db.js';
import type { ProfileClient } from './downstream/profile-client.js';
import type { LiveEvent } from './events/index.js';
import { createLoaders, type Loaders, type OnBatch } from './loaders/index.js';
import type { Logger } from './logger.js';
import type { RequestSignal } from './request-signal.js';

/** Per-request GraphQL context. */
export interface Context {
  /** Used by plugin-prisma's query planning and by the domain functions in `resolvers/`. */
  readonly prisma: PrismaClient;
  /** Request-scoped DataLoaders: a fresh set per request, so nothing is cached across callers. */
  readonly loaders: Loaders;
  /** The authenticated caller, or null for an anonymous request. */
  readonly viewer: Viewer | null;
  readonly requestId: string;
  /** Carries the request id on every line. */
  readonly logger: Logger;
  /** Aborts when the client goes away or the request deadline passes (`asAbortSignal()` for fetch and the like). */
  readonly signal: RequestSignal;
  /** Live events for the `events` subscription. */
  readonly events: EventFeed;
}

/** What the GraphQL subscription reads. */
export interface EventFeed {
  /**
   * Live events from now on, only of `types` when given; ends when the feed is closed, or at `endsAt`
   * (epoch milliseconds: the subscriber's token expiry) when given.
   */
  subscribe(types?: readonly string[] | null, endsAt?: number, subscriber?: string): AsyncIterableIterator<LiveEvent>;
}

export interface ContextOptions {
  prisma: PrismaClient;
  requestId: string;
  /** The service's logger; the context's is this one bound to `requestId`. */
  logger: Logger;
  signal: RequestSignal;
  viewer?: Viewer | null;
  onBatch?: OnBatch;
  /** Default: a feed whose subscriptions end at once. */
  events?: EventFeed;
  /** The profile service behind `User.profile`; absent: profiles are null. */
  profiles?: ProfileClient;
}

const NO_EVENTS: EventFeed = {
  subscribe: () => (async function* () {})(),
};

/**
 * The context of one request. Its `logger` is `logger` bound to the request id, made on first use:
 * most requests log nothing through it, and a pino child costs a serialization of its bindings. The
 * getter is not enumerable, so that copying the context (Yoga merges it into its own context object
 * with Object.assign) does not make the child; `shareLazyLogger` puts it on such a copy.
 */
export function createContext({ prisma, requestId, logger, signal, viewer = null, onBatch, events = NO_EVENTS, profiles }: ContextOptions): Context {
  let requestLogger: Logger | undefined;
  const context = { prisma, viewer, requestId, signal, events } as { -readonly [K in keyof Context]: Context[K] };
  Object.defineProperty(context, 'logger', { get: () => (requestLogger ??= logger.child({ requestId })), enumerable: false, configurable: true });
  context.loaders = createLoaders(prisma, viewer?.userId, onBatch, {
    client: profiles,
    signal,
    get logger() {
      return context.logger;
    },
  });
  return context;
}

/**
 * Gives `target` (the object a copy of `context` is merged into) the context's lazy `logger`; there it
 * is enumerable, so a further copy (a spread) still has a logger.
 */
export function shareLazyLogger(target: object, context: Context): void {
  Object.defineProperty(target, 'logger', { get: () => context.logger, enumerable: true, configurable: true });
}
