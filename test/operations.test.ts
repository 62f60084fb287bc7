import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { createContext, shareLazyLogger } from '../src/context.js';
import { createMetrics } from '../src/metrics.js';
import { useTestApp } from './helpers/app.js';
import { sseReader } from './helpers/events.js';
import { RequestSignal } from '../src/plugins/use-request-deadline.js';

const t = useTestApp();

const metricsText = async () => {
  const res = await t.fetch('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
};

describe('metrics', () => {
  it('exposes GraphQL, HTTP, Node, database and DataLoader metrics in Prometheus text', async () => {
    await t.db.prisma.user.create({ data: { email: 'metrics@example.com', name: 'Metrics' } });
    await t.gql('query ListUsers { me { id } users(first: 2) { totalCount edges { node { teams(first: 1) { totalCount } } } } }');
    await t.gql('query Broken { nope }');
    await t.fetch('/health');
    const text = await metricsText();
    for (const name of [
      'graphql_envelop_request',
      'graphql_envelop_request_duration',
      'graphql_envelop_error_result',
      'graphql_envelop_deprecated_field',
      'http_requests_total',
      'http_request_duration_seconds',
      'process_cpu_user_seconds_total',
      'nodejs_heap_size_used_bytes',
      'db_query_duration_seconds',
      'dataloader_batch_size',
    ]) {
      expect(text, name).toContain(`# TYPE ${name}`);
    }
    expect(text).toMatch(/graphql_envelop_request\{operationName="ListUsers",operationType="query"\} 1/);
    expect(text).toMatch(/graphql_envelop_request_duration_count\{operationName="ListUsers",operationType="query"\} 1/);
    // Not exported: whole-millisecond timings of cached parses and validations, and execution twice.
    expect(text).not.toContain('graphql_envelop_phase_');
    expect(text).toMatch(/graphql_envelop_error_result\{[^}]*phase="validate"[^}]*code="GRAPHQL_VALIDATION_FAILED"/);
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/health",status="200"\} 1/);
    expect(text).toMatch(/dataloader_batch_size_count\{loader="userById"\} [1-9]/);
    if (t.db.kind === 'postgresql') {
      for (const name of ['db_pool_total', 'db_pool_idle', 'db_pool_waiting']) expect(text).toMatch(new RegExp(`^${name} \\d+$`, 'm'));
    }
  });

  /** The value of `metric` with exactly `labels` (in the order prom-client prints them), 0 when absent. */
  const sample = (text: string, metric: string, labels: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${metric}{${labels}} `));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  };

  it('GraphQL metrics: executions by operation, errors by phase and code, introspection left out', async () => {
    const errors = 'graphql_envelop_error_result';
    const before = await metricsText();
    await t.gql('query Intro { __schema { queryType { name } } }');
    await t.gql('query Garbled { users(');
    await t.gql('query Coerce($first: Int) { users(first: $first) { totalCount } }', { first: 'many' });
    await t.gql('query MissingNode { node(id: "VXNlcjpub3Q=") { id } }');
    const failed = await t.gql('query BadNode { users(first: -1) { totalCount } }');
    const after = await metricsText();
    const delta = (metric: string, labels: string) => sample(after, metric, labels) - sample(before, metric, labels);

    expect(after).not.toMatch(/^graphql_envelop_\w+\{[^}]*operationName="Intro"/m);
    expect(delta(errors, 'operationName="other",operationType="unknown",phase="parse",code="GRAPHQL_PARSE_FAILED"')).toBe(1);
    // Refused before execution by a check that is neither parsing nor validation: phase "request".
    expect(delta(errors, 'operationName="other",operationType="unknown",phase="request",code="BAD_USER_INPUT"')).toBe(1);
    expect(after).not.toMatch(/^graphql_envelop_\w+\{[^}]*operationName="Coerce"/m);
    // Executed: counted and timed under its own name, its result's errors by their code.
    const code = (failed as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code;
    expect(code).toBeTypeOf('string');
    expect(delta(errors, `operationName="BadNode",operationType="query",phase="execute",code="${code}"`)).toBe(1);
    expect(delta('graphql_envelop_request', 'operationName="BadNode",operationType="query"')).toBe(1);
    expect(delta('graphql_envelop_request', 'operationName="MissingNode",operationType="query"')).toBe(1);
    expect(delta('graphql_envelop_request_duration_count', 'operationName="MissingNode",operationType="query"')).toBe(1);
    expect(sample(after, 'graphql_envelop_request_duration_bucket', 'le="+Inf",operationName="MissingNode",operationType="query"')).toBe(1);
    expect(after).not.toMatch(/operationName="MissingNode"[^}]*phase=/);
  });

  it('GraphQL metrics: a subscription counts once, when it ends', async () => {
    const res = await t.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${await t.token({ role: 'ADMIN' })}` },
      body: JSON.stringify({ query: 'subscription Watch { events { id } }' }),
    });
    expect(res.status).toBe(200);
    const sse = sseReader(res);
    const first = sse.next(5_000).catch(() => undefined);
    await vi.waitFor(() => expect(t.app.events.subscribers).toBe(1), { timeout: 5_000 });
    const counted = async () => sample(await metricsText(), 'graphql_envelop_request', 'operationName="Watch",operationType="subscription"');
    expect(await counted()).toBe(0);
    await sse.cancel();
    await first;
    await vi.waitFor(async () => expect(await counted()).toBe(1), { timeout: 5_000 });
  });

  it('keeps label values bounded: no raw URLs, query strings, ids or emails', async () => {
    await t.fetch('/users/123e4567-e89b-12d3-a456-426614174000?email=someone@example.com');
    await t.fetch(`/graphql?query=${encodeURIComponent('{ userByEmail(email: "secret.person@example.com") { id } }')}`);
    const text = await metricsText();
    expect(text).toMatch(/http_requests_total\{method="GET",route="other",status="404"\} 1/);
    expect(text).not.toContain('123e4567');
    expect(text).not.toContain('example.com');
    expect(text).not.toContain('?');
  });

  it('folds operation names into "other" past the cap', () => {
    const metrics = createMetrics({ maxOperationNames: 2 });
    expect(['A', 'B', 'C', 'A', undefined].map((n) => metrics.operationLabel(n))).toEqual(['A', 'B', 'other', 'A', 'anonymous']);
  });
});

describe('request ids and logs', () => {
  // pino's child() lives on the prototype every pino logger shares.
  const pinoPrototype = Object.getPrototypeOf(Object.getPrototypeOf(pino())) as { child: (bindings: object) => unknown };

  it('makes no per-request logger for a request that logs nothing through it', async () => {
    const child = vi.spyOn(pinoPrototype, 'child');
    try {
      await t.gql('{ me { id } users(first: 2) { totalCount } }');
      expect(child.mock.calls.filter(([bindings]) => 'requestId' in bindings)).toEqual([]);
    } finally {
      child.mockRestore();
    }
  });

  it("keeps the context's logger lazy when Yoga merges the context into its own, and binds the request id", () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const child = vi.spyOn(pinoPrototype, 'child');
    try {
      const context = createContext({ prisma: t.db.prisma, requestId: 'req-lazy', logger, signal: new RequestSignal() });
      const yogaContext = Object.assign({}, context) as unknown as Record<string, unknown>;
      shareLazyLogger(yogaContext, context);
      expect(child).not.toHaveBeenCalled();
      (yogaContext.logger as typeof logger).info('from a resolver');
      (context.logger as typeof logger).info('again');
      expect(child).toHaveBeenCalledTimes(1);
      expect(lines).toMatchObject([
        { requestId: 'req-lazy', msg: 'from a resolver' },
        { requestId: 'req-lazy', msg: 'again' },
      ]);
    } finally {
      child.mockRestore();
    }
  });

  it('keeps a well-formed x-request-id, echoes it and logs one line for the request', async () => {
    const before = t.logs.length;
    const token = await t.token({ role: 'USER' });
    const res = await t.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'client-abc.123', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'query Who($e: String!) { userByEmail(email: $e) { id } }', variables: { e: 'hidden@example.com' } }),
    });
    expect(res.headers.get('x-request-id')).toBe('client-abc.123');
    const lines = t.logs.slice(before).filter((l) => l.requestId === 'client-abc.123');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: 'request',
      method: 'POST',
      path: '/graphql',
      status: 200,
      operationName: 'Who',
      operationType: 'query',
      durationMs: expect.any(Number),
      userId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    const all = JSON.stringify(t.logs.slice(before));
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.split('.')[2]);
    expect(all).not.toContain('hidden@example.com');
  });

  it.each([['has spaces'], ['x'.repeat(200)], ['<script>']])('replaces the malformed x-request-id %j with its own', async (bad) => {
    const res = await t.fetch('/health', { headers: { 'x-request-id': bad } });
    const id = res.headers.get('x-request-id');
    expect(id).not.toBe(bad);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs probes at debug, not info, and error codes of failed operations', async () => {
    const before = t.logs.length;
    await t.fetch('/ready');
    await t.gql('{ users(first: -1) { totalCount } }');
    const lines = t.logs.slice(before).filter((l) => l.msg === 'request');
    expect(lines.find((l) => l.path === '/ready')?.level).toBe(20);
    expect(lines.find((l) => l.path === '/graphql')).toMatchObject({ level: 30, errorCodes: ['BAD_USER_INPUT'] });
  });
});

describe('probes', () => {
  it('/ready lists each check and answers 200 while the database answers', async () => {
    const res = await t.fetch('/ready');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: { database: { status: 'up', critical: true } } });
  });
});

describe('shutting down', () => {
  const s = useTestApp();
  it('turns readiness to 503 at once while liveness stays 200', async () => {
    expect((await s.fetch('/ready')).status).toBe(200);
    s.app.beginShutdown();
    const ready = await s.fetch('/ready');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'shutting_down', checks: {} });
    expect((await s.fetch('/health')).status).toBe(200);
  });
});

describe('a broken database', () => {
  const b = useTestApp();
  it('gives masked errors carrying the request id of the log line, readiness 503, liveness 200', async () => {
    await b.db.close();
    const before = b.logs.length;
    const res = await b.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-broken-1' },
      body: JSON.stringify({ query: '{ users { totalCount } }' }),
    });
    const body = await res.json();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]).toMatchObject({
      message: 'Unexpected error.',
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'req-broken-1' },
    });
    expect(JSON.stringify(body)).not.toMatch(/prisma|postgres|pglite|stack|at \w+ \(/i);
    const logged = b.logs.slice(before).find((l) => l.msg === 'unexpected error (masked)');
    expect(logged).toMatchObject({ requestId: 'req-broken-1', level: 50 });
    expect(logged?.err).toBeDefined();
    const ready = await b.fetch('/ready');
    expect(ready.status).toBe(503);
    const readyBody = await ready.text();
    expect(JSON.parse(readyBody)).toMatchObject({ status: 'not_ready', checks: { database: { status: 'down' } } });
    expect(readyBody).not.toMatch(/postgres|127\.0\.0\.1|password/i);
    expect((await b.fetch('/health')).status).toBe(200);
  });
});
