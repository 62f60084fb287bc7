import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('has sane defaults: embedded database, port 4000, GraphiQL in development', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      http: { host: '0.0.0.0', port: 4000 },
      graphiql: true,
      database: {
        url: undefined,
        embeddedDataDir: './.data/pglite',
        poolMax: 10,
        connectionTimeoutMs: 5000,
        idleTimeoutMs: 10000,
        statementTimeoutMs: 10000,
      },
    });
  });

  it('reads every database setting and turns GraphiQL off in production', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgresql://app@db:5432/users',
      DB_POOL_MAX: '30',
      DB_CONNECTION_TIMEOUT_MS: '2000',
      DB_IDLE_TIMEOUT_MS: '60000',
      DB_STATEMENT_TIMEOUT_MS: '1500',
      PORT: '8080',
    });
    expect(config.graphiql).toBe(false);
    expect(config.http.port).toBe(8080);
    expect(config.database).toMatchObject({
      url: 'postgresql://app@db:5432/users',
      poolMax: 30,
      connectionTimeoutMs: 2000,
      idleTimeoutMs: 60000,
      statementTimeoutMs: 1500,
    });
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).database.url).toBeUndefined();
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DB_POOL_MAX: '0', DATABASE_URL: 'mysql://x', NODE_ENV: 'staging' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of ['PORT', 'DB_POOL_MAX', 'DATABASE_URL', 'NODE_ENV']) expect(message).toContain(name);
  });
});
