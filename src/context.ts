import type { PrismaClient } from './db.js';
import type { EventFeed } from './events/feed.js';
import { createLoaders, type Loaders, type OnBatch } from './loaders/index.js';
import type { Logger } from './logger.js';

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
  /** Aborts when the client goes away or the request deadline passes. */
  readonly signal: AbortSignal;
  /** Live events for the `events` subscription. */
  readonly events: EventFeed;
}

export interface Viewer {
  /** The token's subject: a user's id (UUID), whether or not that user row exists. */
  readonly userId: string;
  readonly role: 'USER' | 'ADMIN';
  /** When the token expires (epoch milliseconds): a live subscription ends then. */
  readonly expiresAt: number;
}

export interface ContextOptions {
  prisma: PrismaClient;
  requestId: string;
  logger: Logger;
  signal: AbortSignal;
  viewer?: Viewer | null;
  onBatch?: OnBatch;
  /** Default: a feed whose subscriptions end at once. */
  events?: EventFeed;
}

const NO_EVENTS: EventFeed = {
  subscribe: () => (async function* () {})(),
};

export function createContext({ prisma, requestId, logger, signal, viewer = null, onBatch, events = NO_EVENTS }: ContextOptions): Context {
  return { prisma, loaders: createLoaders(prisma, viewer?.userId, onBatch), viewer, requestId, logger, signal, events };
}
