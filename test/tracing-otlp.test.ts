import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { Tracing } from '../src/tracing/index.js';
import { createTracing } from '../src/tracing/sdk.js';
import { buildTestApp, type BuiltTestApp } from './helpers/app.js';
import { usePostgresDatabase } from './helpers/database.js';

// A real OTLP/HTTP receiver: what the exporter POSTs to <endpoint>/v1/traces, as it arrives.
interface Received {
  readonly path: string;
  readonly contentType: string;
  readonly body: Buffer;
}
const received: Received[] = [];
let receiver: Server;
let endpoint: string;
let tracing: Tracing;
let t: BuiltTestApp;
const database = usePostgresDatabase();

const read = async (request: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

beforeAll(async () => {
  receiver = createServer((request, response) => {
    void read(request).then((body) => {
      received.push({ path: request.url ?? '', contentType: request.headers['content-type'] ?? '', body });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
  // The configuration path of production: the endpoint from the environment, through loadConfig.
  const config = loadConfig({ NODE_ENV: 'test', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'uag-otlp-test' });
  tracing = createTracing(config.tracing)!;
  t = await buildTestApp({ DATABASE_URL: database.available ? database.url() : '', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }, { tracing });
});

afterAll(async () => {
  await t?.app.close();
  await tracing?.shutdown();
  await new Promise((resolve) => receiver?.close(resolve));
});

describe('OTLP/HTTP export', () => {
  it('sends the spans of a request to <OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces', async () => {
    const requestId = randomUUID();
    const response = await t.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ query: 'query Exported { users(first: 1) { edges { node { id } } } }' }),
    });
    expect(response.status).toBe(200);
    await response.text();
    // The batch processor exports on its schedule; a flush sends what has ended now.
    await vi.waitFor(
      async () => {
        await tracing.forceFlush();
        const text = received.map((r) => r.body.toString('utf8')).join('\n');
        if (!text.includes(requestId)) throw new Error('the request span was not exported yet');
      },
      { timeout: 20_000, interval: 200 },
    );

    expect(new Set(received.map((r) => r.path))).toEqual(new Set(['/v1/traces']));
    expect(received.every((r) => r.contentType.startsWith('application/json'))).toBe(true);
    const spans = received.flatMap((r) => {
      const body = JSON.parse(r.body.toString('utf8')) as {
        resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: { name: string; traceId: string }[] }[] }[];
      };
      return body.resourceSpans.flatMap((rs) => {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
        return rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ ...s, service })));
      });
    });
    const names = new Set(spans.map((s) => s.name));
    for (const name of ['POST /graphql', 'graphql.parse', 'graphql.validate', 'graphql.execute', 'graphql.resolve Query.users', 'prisma:client:operation']) {
      expect(names, name).toContain(name);
    }
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['uag-otlp-test']));
  });
});
