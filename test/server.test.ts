import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { useTestApp } from './helpers/app.js';

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
  const prod = useTestApp({ NODE_ENV: 'production' });
  it('is not served', async () => {
    const res = await prod.fetch('/graphql', { headers: { accept: 'text/html' } });
    expect(await res.text()).not.toContain('graphiql');
  });
});

/** Starts `src/main.ts` as its own process and waits for its "listening" log line. */
async function startServer(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

describe('the process', () => {
  it('stops start-up with a message naming a bad variable', async () => {
    const { child, output } = await startServer({ PORT: 'not-a-port' });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(output()).toContain('PORT');
  });

  it('listens, serves, and exits 0 on SIGTERM', async () => {
    const { child, output } = await startServer({ PORT: '0', HOST: '127.0.0.1', EMBEDDED_DATA_DIR: 'memory://' });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setInterval(() => {
        const match = /"port":(\d+)/.exec(output());
        if (match) {
          clearInterval(timer);
          resolve(Number(match[1]));
        }
      }, 50);
      child.once('exit', () => {
        clearInterval(timer);
        reject(new Error(`server exited early:\n${output()}`));
      });
    });
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    expect(await res.json()).toEqual({ status: 'healthy' });
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  }, 60_000);
});
