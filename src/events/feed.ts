import { Repeater, SlidingBuffer } from 'graphql-yoga';
import type { LiveEvent } from './message.js';

/** Events a subscriber may fall behind by before the oldest are dropped (a live view, not a log). */
const SUBSCRIBER_BUFFER = 1_000;

export interface SubscriptionLimits {
  /** Live subscriptions at once, in all. */
  readonly max: number;
  /** Live subscriptions at once per subscriber (a token's subject). */
  readonly perSubscriber: number;
}

/**
 * A subscription refused because too many are live: each holds a stream, a buffer of up to
 * SUBSCRIBER_BUFFER events and its connection, so a client reconnecting in a loop without closing
 * (or one token opening streams by the hundred) would otherwise grow the process until it dies.
 */
export class SubscriptionLimitError extends Error {
  constructor(
    readonly scope: 'subscriber' | 'process',
    readonly limit: number,
  ) {
    super(scope === 'subscriber' ? `at most ${limit} live subscriptions per subscriber` : `at most ${limit} live subscriptions in all`);
    this.name = 'SubscriptionLimitError';
  }
}

/**
 * In-process fan-out of live events to subscriptions. Not Yoga's `createPubSub`: its per-subscriber
 * repeater has no buffer, so a client that reads slower than events arrive makes `publish` throw
 * RepeaterOverflowError inside EventTarget dispatch after 1024 events, an uncaught exception; and
 * its `repeaterBuffer` option is one buffer shared by every subscriber. Here each subscriber gets
 * its own sliding buffer: a slow one loses its oldest events, nobody else is affected. It is the
 * context's EventFeed (src/context.ts) by shape: events/ does not import the GraphQL side.
 */
export class EventHub {
  readonly #listeners = new Set<(event: LiveEvent) => void>();
  readonly #stops = new Set<() => void>();
  /** Live subscriptions per subscriber. */
  readonly #held = new Map<string, number>();
  #closed = false;

  constructor(readonly limits: SubscriptionLimits = { max: Infinity, perSubscriber: Infinity }) {}

  get subscribers(): number {
    return this.#listeners.size;
  }

  publish(event: LiveEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  /**
   * Live events from now on (of `types` only, when given), until `endsAt` (epoch ms) or the hub closes.
   * Throws SubscriptionLimitError when `subscriber` (or the process) holds its most live subscriptions;
   * a subscription counts from its first read to its end.
   */
  subscribe(types?: readonly string[] | null, endsAt?: number, subscriber = ''): AsyncIterableIterator<LiveEvent> {
    if (this.#listeners.size >= this.limits.max) throw new SubscriptionLimitError('process', this.limits.max);
    if ((this.#held.get(subscriber) ?? 0) >= this.limits.perSubscriber) throw new SubscriptionLimitError('subscriber', this.limits.perSubscriber);
    const wanted = types?.length ? new Set(types) : undefined;
    return new Repeater<LiveEvent>((push, stop) => {
      if (this.#closed) {
        stop();
        return;
      }
      const listener = (event: LiveEvent) => {
        if (!wanted || wanted.has(event.type)) void push(event);
      };
      const end = () => stop();
      this.#listeners.add(listener);
      this.#stops.add(end);
      this.#held.set(subscriber, (this.#held.get(subscriber) ?? 0) + 1);
      // The delay stays within setTimeout's range: token lifetimes are bounded (JWT_MAX_TTL_S).
      const expiry = endsAt === undefined ? undefined : setTimeout(end, Math.max(0, endsAt - Date.now()));
      void stop.then(() => {
        clearTimeout(expiry);
        this.#listeners.delete(listener);
        this.#stops.delete(end);
        const held = (this.#held.get(subscriber) ?? 1) - 1;
        if (held > 0) this.#held.set(subscriber, held);
        else this.#held.delete(subscriber);
      });
    }, new SlidingBuffer(SUBSCRIBER_BUFFER));
  }

  /** Ends every subscription (their SSE streams complete) and refuses new ones: shutdown. */
  close(): void {
    this.#closed = true;
    for (const stop of [...this.#stops]) stop();
  }
}
