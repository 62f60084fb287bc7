import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { signToken } from '../src/auth.js';
import { EventHub, SubscriptionLimitError } from '../src/events/feed.js';
import { useTestApp } from './helpers/app.js';
import { sseReader } from './helpers/events.js';

/**
 * Live subscriptions are bounded per token subject (MAX_SUBSCRIPTIONS_PER_SUBJECT) and per process
 * (MAX_SUBSCRIPTIONS): each holds a stream, a buffer of up to 1000 events and its connection, so a
 * client reconnecting in a loop without closing would otherwise grow the process until it dies. A
 * subscription over a bound is refused with RATE_LIMITED before it starts; closing one frees its place.
 */

describe('subscription limits over SSE', () => {
  const t = useTestApp({ MAX_SUBSCRIPTIONS_PER_SUBJECT: '2', MAX_SUBSCRIPTIONS: '3' });
  const open: { cancel: () => Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const sse of open.splice(0)) await sse.cancel();
    await vi.waitFor(() => expect(t.app.events.subscribers).toBe(0));
  });

  const adminToken = (sub: string) => signToken(t.config.auth, { sub, role: 'ADMIN' });

  /** Opens `subscription { events }` as `sub`; resolves once it is live, or with the refusal's first event. */
  async function subscribe(sub: string): Promise<{ live: true } | { live: false; error: { message: string; extensions?: { code?: string } } }> {
    const before = t.app.events.subscribers;
    const res = await t.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${await adminToken(sub)}` },
      body: JSON.stringify({ query: 'subscription { events { id } }' }),
    });
    expect(res.status).toBe(200);
    const sse = sseReader(res);
    open.push(sse);
    // Reading is what starts the subscription; a refusal is its first event.
    const first = sse.next(5_000);
    const outcome = await Promise.race([
      first.then((event) => ({ live: false as const, error: event.data?.errors?.[0] })),
      vi.waitFor(() => expect(t.app.events.subscribers).toBe(before + 1), { timeout: 5_000 }).then(() => ({ live: true as const })),
    ]);
    first.catch(() => undefined);
    return outcome;
  }

  it('refuses a third stream of one subject with RATE_LIMITED, and takes it once one closes', async () => {
    const alice = randomUUID();
    expect(await subscribe(alice)).toEqual({ live: true });
    expect(await subscribe(alice)).toEqual({ live: true });
    const refused = await subscribe(alice);
    expect(refused).toMatchObject({ live: false, error: { extensions: { code: 'RATE_LIMITED' } } });
    expect(JSON.stringify(refused)).toContain('at most 2');
    expect(t.app.events.subscribers).toBe(2);

    await open[0]!.cancel();
    await vi.waitFor(() => expect(t.app.events.subscribers).toBe(1));
    expect(await subscribe(alice)).toEqual({ live: true });
  });

  it('refuses any subject once the process holds its most', async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    expect(await subscribe(a)).toEqual({ live: true });
    expect(await subscribe(a)).toEqual({ live: true });
    expect(await subscribe(b)).toEqual({ live: true });
    expect(await subscribe(c)).toMatchObject({ live: false, error: { extensions: { code: 'RATE_LIMITED' }, message: 'Too many live subscriptions on this server; retry later.' } });
    expect(t.app.events.subscribers).toBe(3);
  });
});

describe('EventHub limits', () => {
  it('count a subscription from its first read to its end', async () => {
    const hub = new EventHub({ max: 10, perSubscriber: 1 });
    const first = hub.subscribe(null, undefined, 'a');
    const reading = first.next();
    await vi.waitFor(() => expect(hub.subscribers).toBe(1));
    expect(() => hub.subscribe(null, undefined, 'a')).toThrow(SubscriptionLimitError);
    expect(() => hub.subscribe(null, undefined, 'b')).not.toThrow();
    await first.return?.();
    await reading;
    await vi.waitFor(() => expect(hub.subscribers).toBe(0));
    expect(() => hub.subscribe(null, undefined, 'a')).not.toThrow();
    hub.close();
  });
});
