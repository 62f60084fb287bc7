import { Repeater, SlidingBuffer } from 'graphql-yoga';
import type { LiveEvent } from './message.js';

/** Events a subscriber may fall behind by before the oldest are dropped (a live view, not a log). */
const SUBSCRIBER_BUFFER = 1_000;

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
  #closed = false;

  get subscribers(): number {
    return this.#listeners.size;
  }

  publish(event: LiveEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  subscribe(types?: readonly string[] | null, endsAt?: number): AsyncIterableIterator<LiveEvent> {
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
      // The delay stays within setTimeout's range: token lifetimes are bounded (JWT_MAX_TTL_S).
      const expiry = endsAt === undefined ? undefined : setTimeout(end, Math.max(0, endsAt - Date.now()));
      void stop.then(() => {
        clearTimeout(expiry);
        this.#listeners.delete(listener);
        this.#stops.delete(end);
      });
    }, new SlidingBuffer(SUBSCRIBER_BUFFER));
  }

  /** Ends every subscription (their SSE streams complete) and refuses new ones: shutdown. */
  close(): void {
    this.#closed = true;
    for (const stop of [...this.#stops]) stop();
  }
}
