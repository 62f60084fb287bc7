import type { Viewer } from './auth.js';
import type { PrismaClient } from './db.js';
import type { ProfileClient } from './downstream/profile-client.js';
import type { LiveEvent } from './events/index.js';
import { createLoaders, type Loaders, type OnBatch, type ProfileSource, type SharedLookups } from './loaders/index.js';
import type { Logger } from './logger.js';
import type { RequestSignal } from './request-signal.js';
import type { SharedCreates } from './resolvers/users.js';

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
  /** The app's grouped createUser inserts (see SharedCreates); absent: each create is its own statement. */
  readonly creates?: SharedCreates;
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
  /** The app's shared lookups by key (see SharedLookups); absent: the request's lookups are its own statements. */
  lookups?: SharedLookups;
  /** The app's grouped creates (see SharedCreates); absent: each create is its own statement. */
  creates?: SharedCreates;
  /** Default: a feed whose subscriptions end at once. */
  events?: EventFeed;
  /** The profile service behind `User.profile`; absent: profiles are null. */
  profiles?: ProfileClient;
}

const NO_EVENTS: EventFeed = {
  subscribe: () => (async function* () {})(),
};

/**
 * The profile service as the loaders see it: the request's signal and logger, read from its context.
 * A class, as RequestContext is (see there): its accessors are on the prototype.
 */
class ContextProfileSource implements ProfileSource {
  readonly #context: Context;
  constructor(
    readonly client: ProfileClient | undefined,
    context: Context,
  ) {
    this.#context = context;
  }
  get signal(): RequestSignal {
    return this.#context.signal;
  }
  get logger(): Logger {
    return this.#context.logger;
  }
}

/**
 * The context of one request. Its `logger` is `logger` bound to the request id, made on first use:
 * most requests log nothing through it, and a pino child costs a serialization of its bindings. The
 * getter is the prototype's, so not an own property: copying the context (Yoga merges it into its own
 * context object with Object.assign) does not make the child; `shareLazyLogger` puts it on such a copy.
 *
 * A class because of that getter. An accessor defined on each request's object with a closure of its
 * own (an object literal's `get`, or Object.defineProperty) gives every object a hidden class of its
 * own, which V8 keeps in its old generation, holding the closure and through it the request: each
 * request's objects then outlived the young generation's collections and had to wait for full ones.
 * With this getter and fuse-hooks.ts's `url` so defined, `{ __typename }` under load (production heap
 * flags) promoted 8.4 % of what it allocated and cost 235 µs of CPU per request; as classes, 0.4 % and
 * 135 µs (one process at a time, `--trace-gc-nvp`; the same pattern in a loop of plain objects: 0.5 %
 * promoted, 37 % with a per-object getter).
 */
class RequestContext implements Context {
  readonly prisma: PrismaClient;
  readonly viewer: Viewer | null;
  readonly requestId: string;
  readonly signal: RequestSignal;
  readonly events: EventFeed;
  readonly loaders: Loaders;
  readonly creates: SharedCreates | undefined;
  readonly #logger: Logger;
  #requestLogger: Logger | undefined;

  constructor({ prisma, requestId, logger, signal, viewer = null, onBatch, lookups, creates, events = NO_EVENTS, profiles }: ContextOptions) {
    this.prisma = prisma;
    this.creates = creates;
    this.viewer = viewer;
    this.requestId = requestId;
    this.signal = signal;
    this.events = events;
    this.#logger = logger;
    this.loaders = createLoaders(prisma, viewer?.userId, onBatch, new ContextProfileSource(profiles, this), lookups);
  }

  get logger(): Logger {
    return (this.#requestLogger ??= this.#logger.child({ requestId: this.requestId }));
  }
}

export function createContext(options: ContextOptions): Context {
  return new RequestContext(options);
}

/** Where `shareLazyLogger` leaves the context a copy's `logger` comes from. */
const SOURCE = Symbol('context');

/** One getter for every copy (a closure per request would cost what RequestContext's comment says). */
function sharedLogger(this: { [SOURCE]: Context }): Logger {
  return this[SOURCE].logger;
}

/**
 * Gives `target` (the object a copy of `context` is merged into) the context's lazy `logger`; there it
 * is enumerable, so a further copy (a spread) still has a logger.
 */
export function shareLazyLogger(target: object, context: Context): void {
  Object.defineProperty(target, SOURCE, { value: context, enumerable: false, configurable: true });
  Object.defineProperty(target, 'logger', { get: sharedLogger, enumerable: true, configurable: true });
}
