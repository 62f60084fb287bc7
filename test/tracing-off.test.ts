import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { context, propagation, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { parseGlobalIdOf } from '../src/ids.js';
import { injectTraceHeaders, loadTracing } from '../src/tracing/index.js';
import { useTestApp } from './helpers/app.js';

// Tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT): this file's process never registers anything.
const t = useTestApp();

describe('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  it('creates nothing: no provider, no context manager, no propagator, no Prisma instrumentation', async () => {
    expect(loadConfig({ NODE_ENV: 'test' }).tracing.endpoint).toBeUndefined();
    expect(await loadTracing(loadConfig({ NODE_ENV: 'test' }).tracing)).toBeUndefined();
    // The API's no-op globals: nothing propagated, no span ever active, no Prisma tracing helper.
    expect(propagation.fields()).toEqual([]);
    expect(injectTraceHeaders({})).toEqual({});
    expect(trace.getSpan(context.active())).toBeUndefined();
    expect((globalThis as Record<string, unknown>).V7_PRISMA_INSTRUMENTATION).toBeUndefined();
  });

  it('loads none of the SDK: a process with the app and tracing off has no exporter, SDK or instrumentation module', async () => {
    // A process of its own: this test file's module graph is vitest's, not the server's.
    const script = [
      "const { loadTracing } = await import('./src/tracing/index.ts');",
      "await import('./src/app.ts');",
      "const tracing = await loadTracing({ endpoint: undefined, serviceName: 'off' });",
      "const { createRequire } = await import('node:module');",
      'const loaded = Object.keys(createRequire(import.meta.url).cache);',
      'const sdk = loaded.filter((f) => /@opentelemetry[\\/](sdk-|exporter-|otlp-|instrumentation)|@prisma[\\/]instrumentation/.test(f));',
      'const api = loaded.some((f) => /@opentelemetry[\\/]api[\\/]/.test(f));',
      'console.log(JSON.stringify({ off: tracing === undefined, sdk, api }));',
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd() });
    const seen = JSON.parse(stdout.trim().split('\n').pop()!) as { off: boolean; sdk: string[]; api: boolean };
    // The API is there (its no-op calls are what tracing off costs); the check itself would see a loaded SDK.
    expect(seen).toEqual({ off: true, sdk: [], api: true });
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
