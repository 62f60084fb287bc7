// docker-compose.yml for local development: valid YAML with the services the README and the start-up
// messages name, pinned images, health checks, and an app configured with variables the server accepts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { loadConfig } from '../src/config.js';

type Obj = Record<string, any>;

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

function readCompose(): Obj {
  const doc = parseDocument(read('docker-compose.yml'));
  expect(doc.errors.map((e) => e.message)).toEqual([]);
  return doc.toJS() as Obj;
}

/** Service names in `docker compose …` commands of a text (flags and sub-commands skipped). */
function namedServices(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(/docker compose ((?:[\w-]+ ?)+)/g)) {
    const words = m[1]!.trim().split(/\s+/);
    const command = words.findIndex((w) => ['up', 'start', 'stop', 'restart', 'logs', 'run', 'exec', 'ps', 'down', 'build', 'pull'].includes(w));
    if (command < 0) continue;
    // After `run`, the first service is the only one (the rest is its command).
    const rest = words.slice(command + 1).filter((w) => !w.startsWith('-'));
    names.push(...(words[command] === 'run' || words[command] === 'exec' ? rest.slice(0, 1) : rest));
  }
  return names;
}

/** Names src/config.ts declares (the keys of its envSchema). */
function declaredEnvNames(): Set<string> {
  const block = /const envSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(read('src/config.ts'))![1]!;
  return new Set([...block.matchAll(/^\s{2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!));
}

describe('docker-compose.yml', () => {
  const compose = readCompose();
  const services = compose.services as Record<string, Obj>;

  it('has PostgreSQL, Redis and RabbitMQ, and the app with its migration under the "app" profile', () => {
    expect(Object.keys(services).sort()).toEqual(['app', 'migrate', 'postgres', 'rabbitmq', 'redis']);
    expect(services.app!.profiles).toEqual(['app']);
    expect(services.migrate!.profiles).toEqual(['app']);
    for (const name of ['postgres', 'redis', 'rabbitmq']) expect(services[name]!.profiles, name).toBeUndefined();
  });

  it('names every service the README and the start-up messages use', () => {
    const used = [...namedServices(read('README.md')), ...namedServices(read('src/startup/errors.ts'))];
    expect(used).toEqual(expect.arrayContaining(['postgres', 'app']));
    expect(used.filter((name) => !(name in services))).toEqual([]);
  });

  it('pins every image and health-checks every backing service; the app waits for them and for its migration', () => {
    for (const name of ['postgres', 'redis', 'rabbitmq']) {
      expect(services[name]!.image, name).toMatch(/^[\w.-]+:\d[\w.-]*$/);
      expect(services[name]!.healthcheck?.test, name).toBeDefined();
    }
    expect(services.app!.depends_on).toEqual({
      migrate: { condition: 'service_completed_successfully' },
      redis: { condition: 'service_healthy' },
      rabbitmq: { condition: 'service_healthy' },
    });
    expect(services.migrate!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
  });

  it('builds the app from the Dockerfile and migrates with the Kubernetes Job command', () => {
    expect(services.app!.build).toBe('.');
    expect(services.migrate!.build).toBe('.');
    const job = read('k8s/migration-job.yaml');
    expect(job).toContain(JSON.stringify(services.migrate!.command).replace(/,/g, ', '));
  });

  it('configures the app with variables src/config.ts declares and accepts, pointing at the services', () => {
    const env = services.app!.environment as Record<string, string>;
    const declared = declaredEnvNames();
    expect(Object.keys(env).filter((k) => !declared.has(k))).toEqual([]);
    const config = loadConfig(env);
    const pg = services.postgres!.environment as Record<string, string>;
    const db = new URL(config.database.url!);
    expect([db.hostname, db.port, db.username, db.password, db.pathname]).toEqual(['postgres', '5432', pg.POSTGRES_USER, pg.POSTGRES_PASSWORD, `/${pg.POSTGRES_DB}`]);
    expect(new URL(config.limits.rateLimit.redisUrl!).hostname).toBe('redis');
    expect(new URL(config.events.amqpUrl!).hostname).toBe('rabbitmq');
    expect(services.migrate!.environment.DATABASE_URL).toBe(env.DATABASE_URL);
    expect(services.app!.ports).toEqual([`${config.http.port}:${config.http.port}`]);
  });

  it("matches the README's URLs for a server on the host", () => {
    const readme = read('README.md');
    const local = /export DATABASE_URL=(\S+)/.exec(readme.slice(readme.indexOf('## Local services with Docker Compose')))![1]!;
    const url = new URL(local);
    const pg = services.postgres!.environment as Record<string, string>;
    expect([url.hostname, url.username, url.password, url.pathname]).toEqual(['localhost', pg.POSTGRES_USER, pg.POSTGRES_PASSWORD, `/${pg.POSTGRES_DB}`]);
    expect(services.postgres!.ports).toContain(`${url.port}:5432`);
  });
});
