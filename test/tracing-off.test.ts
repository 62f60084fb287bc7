import { randomUUID } from 'node:crypto';
import { context, propagation, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { parseGlobalIdOf } from '../src/ids.js';
import { createTracing, injectTraceHeaders } from '../src/tracing/index.js';
import { useTestApp } from './helpers/app.js';

// Tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT): this file's process never registers anything.
const t = useTestApp();

describe('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  it('creates nothing: no provider, no context manager, no propagator, no Prisma instrumentation', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).tracing.endpoint).toBeUndefined();
    expect(createTracing(loadConfig({ NODE_ENV: 'test' }).tracing)).toBeUndefined();
    // The API's no-op globals: nothing propagated, no span ever active, no Prisma tracing helper.
    expect(propagation.fields()).toEqual([]);
    expect(injectTraceHeaders({})).toEqual({});
    expect(trace.getSpan(context.active())).toBeUndefined();
    expect((globalThis as Record<string, unknown>).V7_PRISMA_INSTRUMENTATION).toBeUndefined();
  });

  it('serves a request carrying a traceparent as usual; the outbox row gets none and log lines no trace ids', async () => {
    const requestId = randomUUID();
    const response = await t.fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': requestId,
        traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
      },
      body: JSON.stringify({
        query: 'mutation ($e: String!) { createUser(input: { email: $e, name: "Untraced" }) { __typename ... on CreateUserSuccess { user { id } } } }',
        variables: { e: `untraced-${randomUUID()}@example.com` },
      }),
    });
    const body = (await response.json()) as { data: { createUser: { __typename: string; user: { id: string } } } };
    expect(body.data.createUser.__typename).toBe('CreateUserSuccess');
    const userId = parseGlobalIdOf('User', body.data.createUser.user.id)!;
    const rows = await t.db.prisma.$queryRaw<{ traceparent: string | null }[]>`SELECT "traceparent" FROM "OutboxEvent" WHERE "aggregateId" = ${userId}::uuid`;
    expect(rows).toEqual([{ traceparent: null }]);
    const line = t.logs.find((l) => l.msg === 'request' && l.requestId === requestId);
    expect(line).toBeDefined();
    expect(line).not.toHaveProperty('trace_id');
    expect(line).not.toHaveProperty('span_id');
  });
});
