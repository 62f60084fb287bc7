import { describe, expect, it } from 'vitest';
import { useTestApp } from './helpers/app.js';
import { spawnServer, waitForPort } from './helpers/process.js';

const t = useTestApp();

describe('HTTP surface', () => {
  it('GET /health answers 200 {"status":"healthy"}', async () => {
    const res = await t.fetch('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'healthy' });
  });

  it('serves GraphiQL at /graphql to a browser in development', async () => {
    const res = await t.fetch('/graphql', { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('graphiql');
  });

  it('answers a query over GET and POST', async () => {
    const res = await t.fetch('/graphql?query=' + encodeURIComponent('{ users(first: 1) { totalCount } }'));
    expect(res.status).toBe(200);
    expect((await res.json()).data.users.totalCount).toEqual(expect.any(Number));
  });
});

describe('GraphiQL in production', () => {
  const prod = useTestApp({ NODE_ENV: 'production', JWT_SECRET: 'a-test-secret-that-is-long-enough-32' });
  it('is not served', async () => {
    const res = await prod.fetch('/graphql', { headers: { accept: 'text/html' } });
    expect(await res.text()).not.toContain('graphiql');
  });
});

describe('the process', () => {
  it('stops start-up with a message naming a bad variable', async () => {
    const server = spawnServer({ PORT: 'not-a-port' });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('PORT');
  });

  it('serves /metrics on METRICS_PORT, not on the main port, when it is set', async () => {
    const metricsPort = 40_000 + Math.floor(Math.random() * 10_000);
    const server = spawnServer({ PORT: '0', HOST: '127.0.0.1', EMBEDDED_DATA_DIR: 'memory://', METRICS_PORT: String(metricsPort) });
    try {
      const port = await waitForPort(server);
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('# TYPE http_requests_total counter');
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 60_000);

  it('listens, serves, and exits 0 on SIGTERM', async () => {
    const server = spawnServer({ PORT: '0', HOST: '127.0.0.1', EMBEDDED_DATA_DIR: 'memory://' });
    const port = await waitForPort(server);
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    expect(await res.json()).toEqual({ status: 'healthy' });
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 60_000);
});
