// The app's own lifecycle, in process: start, listen, close in its order, once.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db.js';

async function embeddedApp() {
  const config = loadConfig({ NODE_ENV: 'test', EMBEDDED_DATA_DIR: 'memory://', LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '2000' });
  const db = await openDatabase(config.database);
  const logs: { msg: string }[] = [];
  const app = createApp(config, db, pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) }));
  return { app, db, logs };
}

describe('the app lifecycle', () => {
  it('close() turns readiness off, drains the listener, stops the events, disposes Yoga, closes the pool: in that order, once', async () => {
    const { app, db, logs } = await embeddedApp();
    await app.start();
    const server = await app.listen('graphql', 0, '127.0.0.1');
    const port = (server.address() as { port: number }).port;
    expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);

    const closing = app.close();
    expect(app.close()).toBe(closing);
    expect(await closing).toBe(true);
    const steps = logs.map((l) => l.msg).filter((m) => m.startsWith('shutdown: '));
    expect(steps).toEqual([
      'shutdown: readiness now 503',
      'shutdown: draining in-flight requests',
      'shutdown: listener closed',
      'shutdown: events relay stopped, broker closed',
      'shutdown: yoga disposed',
    ]);
    expect(server.listening).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    await expect(db.ping()).rejects.toThrow();
  });

  it('is AsyncDisposable: disposing closes it (without listeners, no drain step)', async () => {
    const { app, db, logs } = await embeddedApp();
    await app.start();
    await app[Symbol.asyncDispose]();
    expect(logs.map((l) => l.msg)).toContain('shutdown: yoga disposed');
    expect(logs.map((l) => l.msg)).not.toContain('shutdown: draining in-flight requests');
    expect((await app.yoga.fetch('http://localhost/ready')).status).toBe(503);
    await expect(db.ping()).rejects.toThrow();
  });
});
