// The profile client and its cockatiel policy against a real HTTP server (test/helpers/profile-service.ts):
// timeout, cancellation by the caller, retries (which failures, idempotent calls only), the circuit
// breaker's open / shed / half-open / close cycle, the bulkhead, and the checking of responses.
import { BrokenCircuitError, BulkheadRejectedError } from 'cockatiel';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config.js';
import { CallerAbortedError, createPolicy, DownstreamFailure, type CallOutcome, type CircuitName } from '../src/downstream/policy.js';
import { createProfileClient } from '../src/downstream/profile-client.js';
import { DOWNSTREAM_SECRET_TEXT, type FakeProfileService, profileOf, startProfileService } from './helpers/profile-service.js';

let service: FakeProfileService;
beforeAll(async () => {
  service = await startProfileService();
  for (const id of ['a', 'b', 'c', 'd']) service.profiles.set(id, profileOf(id));
});
afterAll(() => service.close());
beforeEach(() => {
  service.release();
  service.reset();
});

interface Harness {
  client: ReturnType<typeof createProfileClient>;
  logs: Record<string, any>[];
  outcomes: CallOutcome[];
  states: CircuitName[];
  load(ids: string[], signal?: AbortSignal): ReturnType<ReturnType<typeof createProfileClient>['load']>;
}

/** A client configured as the server would be from these variables (PROFILE_*), pointed at `url`. */
function harness(env: Record<string, string> = {}, url = service.url): Harness {
  const config = loadConfig({ NODE_ENV: 'test', PROFILE_SERVICE_URL: url, PROFILE_RETRIES: '0', PROFILE_RETRY_INITIAL_DELAY_MS: '1', PROFILE_RETRY_MAX_DELAY_MS: '5', ...env });
  const logs: Record<string, any>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const outcomes: CallOutcome[] = [];
  const states: CircuitName[] = [];
  const client = createProfileClient(
    { ...config.profileService, url: config.profileService.url! },
    { logger, onCall: (outcome) => outcomes.push(outcome), onStateChange: (state) => states.push(state) },
  );
  return { client, logs, outcomes, states, load: (ids, signal = new AbortController().signal) => client.load(ids, { signal, logger }) };
}

describe('calls and responses', () => {
  it('one call per id without batch mode; 404 is null', async () => {
    const h = harness();
    const result = await h.load(['a', 'missing', 'b']);
    expect(result).toEqual([
      { avatarUrl: 'https://avatars.example.com/a.png', bio: 'bio of a', locale: 'en-GB', updatedAt: new Date('2026-01-02T03:04:05.000Z') },
      null,
      expect.objectContaining({ bio: 'bio of b' }),
    ]);
    expect(service.calls.map((c) => c.url).sort()).toEqual(['/users/a', '/users/b', '/users/missing']);
  });

  it('one call for all ids in batch mode; absent ids are null', async () => {
    const h = harness({ PROFILE_SERVICE_BATCH: 'true' });
    const result = await h.load(['a', 'missing', 'c']);
    expect(result.map((p) => (p && !(p instanceof Error) ? p.bio : p))).toEqual(['bio of a', null, 'bio of c']);
    expect(service.calls).toEqual([{ url: '/users?ids=a,missing,c', ids: ['a', 'missing', 'c'] }]);
  });

  it('a response of the wrong shape is a failure, not a crash, and is not retried', async () => {
    const h = harness({ PROFILE_RETRIES: '2' });
    service.behave({ kind: 'bad' });
    const [single] = await h.load(['a']);
    expect(single).toBeInstanceOf(DownstreamFailure);
    expect((single as DownstreamFailure).kind).toBe('invalid_response');
    expect(service.calls).toHaveLength(1);

    const batch = harness({ PROFILE_SERVICE_BATCH: 'true', PROFILE_RETRIES: '2' });
    const results = await batch.load(['a', 'b']);
    expect(results.every((r) => r instanceof DownstreamFailure && r.kind === 'invalid_response')).toBe(true);
    expect(service.calls).toHaveLength(2);
    // The downstream's text is in no error message and no log line.
    expect(JSON.stringify([...results.map(String), h.logs, batch.logs])).not.toContain('internal-detail');
  });

  it('refuses a profile whose avatar URL is not http(s)', async () => {
    service.profiles.set('evil', { ...profileOf('evil'), avatarUrl: 'javascript:alert(1)' });
    const [result] = await harness().load(['evil']);
    expect(result).toBeInstanceOf(DownstreamFailure);
    expect(String(result)).not.toContain('javascript');
  });
});

describe('timeout and cancellation', () => {
  it('a call slower than PROFILE_TIMEOUT_MS fails as a timeout and is cancelled at the downstream', async () => {
    const h = harness({ PROFILE_TIMEOUT_MS: '150' });
    service.behave({ kind: 'slow', ms: 60_000 });
    const started = performance.now();
    const [result] = await h.load(['a']);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(result).toBeInstanceOf(DownstreamFailure);
    expect((result as DownstreamFailure).kind).toBe('timeout');
    expect(h.outcomes).toEqual(['timeout']);
    await vi.waitFor(() => expect(service.abandoned).toBe(1));
  });

  it("the caller's signal cancels the call, which does not count as the downstream's failure", async () => {
    // The breaker would open at the first failure.
    const h = harness({ PROFILE_TIMEOUT_MS: '60000', PROFILE_BREAKER_FAILURES: '0', PROFILE_RETRIES: '3' });
    service.behave({ kind: 'hang' });
    const caller = new AbortController();
    const pending = h.load(['a'], caller.signal);
    await vi.waitFor(() => expect(service.inFlight).toBe(1));
    caller.abort();
    const [result] = await pending;
    expect(result).toBeInstanceOf(CallerAbortedError);
    await vi.waitFor(() => expect(service.abandoned).toBe(1));
    expect(service.calls).toHaveLength(1);
    expect(h.client.state).toBe('closed');
    expect(h.outcomes).toEqual(['cancelled']);
  });
});

describe('retries', () => {
  it('retries retryable statuses and then succeeds', async () => {
    const h = harness({ PROFILE_RETRIES: '2' });
    service.behave({ kind: 'fail', status: 503 }, 2);
    const [result] = await h.load(['a']);
    expect(result).toEqual(expect.objectContaining({ bio: 'bio of a' }));
    expect(service.calls).toHaveLength(3);
    expect(h.outcomes).toEqual(['http', 'http', 'success']);
  });

  it('gives up after PROFILE_RETRIES further attempts', async () => {
    const h = harness({ PROFILE_RETRIES: '2' });
    service.behave({ kind: 'fail', status: 502 });
    const [result] = await h.load(['a']);
    expect(result).toBeInstanceOf(DownstreamFailure);
    expect(service.calls).toHaveLength(3);
  });

  it.each([400, 401, 500, 501])('does not retry status %i', async (status) => {
    const h = harness({ PROFILE_RETRIES: '2' });
    service.behave({ kind: 'fail', status });
    const [result] = await h.load(['a']);
    expect((result as DownstreamFailure).status).toBe(status);
    expect(service.calls).toHaveLength(1);
  });

  it('retries a refused connection (network failure)', async () => {
    const closed = await startProfileService();
    const url = closed.url;
    await closed.close();
    const h = harness({ PROFILE_RETRIES: '2' }, url);
    const [result] = await h.load(['a']);
    expect((result as DownstreamFailure).kind).toBe('network');
    expect(h.outcomes).toEqual(['network', 'network', 'network']);
  });

  it('never retries a call that is not idempotent', async () => {
    const policy = createPolicy({
      timeoutMs: 1000,
      retries: 3,
      retryInitialDelayMs: 1,
      retryMaxDelayMs: 2,
      breakerFailures: 100,
      breakerHalfOpenAfterMs: 1000,
      breakerProbes: 1,
      maxConcurrent: 1,
      maxQueue: 0,
    });
    let attempts = 0;
    const failing = () => {
      attempts++;
      return Promise.reject(new DownstreamFailure('http', true, 503));
    };
    await expect(policy.execute(failing, { idempotent: false, signal: new AbortController().signal })).rejects.toBeInstanceOf(DownstreamFailure);
    expect(attempts).toBe(1);
    await expect(policy.execute(failing, { idempotent: true, signal: new AbortController().signal })).rejects.toBeInstanceOf(DownstreamFailure);
    expect(attempts).toBe(1 + 4);
  });
});

describe('circuit breaker', () => {
  const breakerEnv = { PROFILE_BREAKER_FAILURES: '3', PROFILE_BREAKER_HALF_OPEN_AFTER_MS: '300', PROFILE_BREAKER_PROBES: '2' };

  /** Fails calls until the breaker opens: after more than 3 consecutive failures. */
  async function trip(h: Harness) {
    service.behave({ kind: 'fail', status: 500 });
    for (let i = 0; i < 3; i++) await h.load(['a']);
    expect(h.client.state).toBe('closed');
    await h.load(['a']);
    expect(h.client.state).toBe('open');
  }

  it('opens after more than PROFILE_BREAKER_FAILURES consecutive failures and sheds load while open', async () => {
    const h = harness(breakerEnv);
    await trip(h);
    expect(service.calls).toHaveLength(4);
    expect(h.logs.filter((l) => l.state === 'open')).toHaveLength(1);
    expect(h.logs.find((l) => l.state === 'open')?.msg).toBe('profile-service: circuit breaker open, calls are shed');

    service.behave({ kind: 'hang' });
    const shed = await Promise.all(Array.from({ length: 20 }, () => h.load(['a', 'b'])));
    expect(shed.flat().every((r) => r instanceof BrokenCircuitError)).toBe(true);
    // No call reached the downstream while open.
    expect(service.calls).toHaveLength(4);
    expect(h.outcomes.filter((o) => o === 'circuit_open')).toHaveLength(40);
  });

  it('a success resets the count of consecutive failures', async () => {
    const h = harness(breakerEnv);
    service.behave({ kind: 'fail', status: 500 });
    for (let i = 0; i < 3; i++) await h.load(['a']);
    service.behave({ kind: 'ok' });
    await h.load(['a']);
    service.behave({ kind: 'fail', status: 500 });
    for (let i = 0; i < 3; i++) await h.load(['a']);
    expect(h.client.state).toBe('closed');
  });

  it('half-opens after PROFILE_BREAKER_HALF_OPEN_AFTER_MS and closes after PROFILE_BREAKER_PROBES successful probes', async () => {
    const h = harness(breakerEnv);
    await trip(h);
    service.behave({ kind: 'ok' });
    const opened = performance.now();
    // Shed until the pause is over; then the first call is a probe.
    await vi.waitFor(
      async () => {
        const [result] = await h.load(['a']);
        expect(result).toEqual(expect.objectContaining({ bio: 'bio of a' }));
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(performance.now() - opened).toBeGreaterThanOrEqual(250);
    expect(h.client.state).toBe('halfOpen');
    await h.load(['b']);
    expect(h.client.state).toBe('closed');
    expect(h.states).toEqual(['open', 'halfOpen', 'closed']);
    expect(h.logs.filter((l) => l.dependency === 'profile-service' && l.state).map((l) => l.state)).toEqual(['open', 'halfOpen', 'closed']);
  });

  it('a failed probe opens it again', async () => {
    const h = harness(breakerEnv);
    await trip(h);
    const before = service.calls.length;
    await vi.waitFor(
      async () => {
        await h.load(['a']);
        expect(service.calls.length).toBe(before + 1);
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(h.client.state).toBe('open');
    expect(h.states).toEqual(['open', 'halfOpen', 'open']);
  });

  it('lets PROFILE_BREAKER_PROBES calls through while half-open and sheds the others at once, as gobreaker does', async () => {
    const h = harness(breakerEnv);
    await trip(h);
    service.behave({ kind: 'hang' });
    // Shed until the pause is over; then the first call is a probe, and hangs. A shed call settles in
    // microtasks, before any timer can fire, so a call still pending after a timer is the probe.
    const { call: probe } = await vi.waitFor(
      async () => {
        const call = h.load(['a']);
        const settled = await Promise.race([call.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 0))]);
        if (settled) throw new Error('still open');
        return { call }; // not the promise itself, which waitFor would wait for
      },
      { timeout: 10_000, interval: 50 },
    );
    await vi.waitFor(() => expect(service.inFlight).toBe(1));
    expect(h.client.state).toBe('halfOpen');
    const second = h.load(['b']);
    await vi.waitFor(() => expect(service.inFlight).toBe(2));
    // Past the probes: refused at once, without reaching the downstream or waiting for the verdict.
    const shed = await Promise.all([h.load(['c']), h.load(['d'])]);
    expect(shed.flat().every((r) => r instanceof BrokenCircuitError)).toBe(true);
    expect(service.calls).toHaveLength(4 + 2);
    expect(h.client.state).toBe('halfOpen');

    service.behave({ kind: 'ok' });
    service.release();
    expect((await second).map((r) => (r && !(r instanceof Error) ? r.bio : r))).toEqual(['bio of b']);
    expect(await probe).toEqual([expect.objectContaining({ bio: 'bio of a' })]);
    expect(h.client.state).toBe('closed');
    const [after] = await h.load(['c']);
    expect(after).toEqual(expect.objectContaining({ bio: 'bio of c' }));
  });
});

describe('bulkhead', () => {
  it('runs at most PROFILE_MAX_CONCURRENT calls, queues PROFILE_MAX_QUEUE, refuses the rest at once', async () => {
    const h = harness({ PROFILE_MAX_CONCURRENT: '2', PROFILE_MAX_QUEUE: '1', PROFILE_TIMEOUT_MS: '60000' });
    service.behave({ kind: 'hang' });
    const running = [h.load(['a']), h.load(['b'])];
    await vi.waitFor(() => expect(service.inFlight).toBe(2));
    const queued = h.load(['c']);
    await vi.waitFor(() => expect(h.client.queueLength).toBe(1));
    const [refused] = await h.load(['d']);
    expect(refused).toBeInstanceOf(BulkheadRejectedError);
    expect(h.outcomes).toEqual(['bulkhead_rejected']);
    expect(service.calls).toHaveLength(2);

    service.behave({ kind: 'ok' });
    service.release();
    const results = [...(await Promise.all(running)).flat(), ...(await queued)];
    expect(results.map((r) => (r && !(r instanceof Error) ? r.bio : r))).toEqual(['bio of a', 'bio of b', 'bio of c']);
    expect(service.maxInFlight).toBe(2);
    expect(h.client.queueLength).toBe(0);
  });
});

describe('what the downstream says stays out of errors and logs', () => {
  it('failure logs name the kind and status, never the URL, host or body', async () => {
    const h = harness({ PROFILE_RETRIES: '1' });
    service.behave({ kind: 'fail', status: 503 });
    const [result] = await h.load(['a']);
    const failed = h.logs.find((l) => l.msg === 'profile-service: call failed');
    expect(failed).toMatchObject({ reason: 'http', status: 503 });
    const text = JSON.stringify([String(result), (result as Error).message, h.logs]);
    for (const secret of [DOWNSTREAM_SECRET_TEXT, service.url, `:${service.port}`]) expect(text).not.toContain(secret);
  });
});

describe('configuration', () => {
  it("defaults to the seed's policy, keeps a call's timeout inside the request deadline, and checks the URL", () => {
    const defaults = loadConfig({ NODE_ENV: 'test' }).profileService;
    expect(defaults).toMatchObject({
      url: undefined,
      batch: false,
      timeoutMs: 1000,
      breakerFailures: 3,
      breakerHalfOpenAfterMs: 30_000,
      breakerProbes: 5,
      maxConcurrent: 10,
      maxQueue: 100,
    });
    const capped = loadConfig({ NODE_ENV: 'test', REQUEST_TIMEOUT_MS: '200', PROFILE_TIMEOUT_MS: '5000', PROFILE_SERVICE_URL: 'http://profiles.internal:8080/api/' });
    expect(capped.profileService.timeoutMs).toBe(200);
    expect(capped.profileService.url).toBe('http://profiles.internal:8080/api');
    expect(() => loadConfig({ NODE_ENV: 'test', PROFILE_SERVICE_URL: 'ftp://profiles.internal' })).toThrow(/PROFILE_SERVICE_URL: must be an http\(s\) URL/);
    expect(() => loadConfig({ NODE_ENV: 'test', PROFILE_SERVICE_BATCH: 'yes' })).toThrow(/PROFILE_SERVICE_BATCH/);
  });
});
