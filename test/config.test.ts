import { describe, expect, it } from 'vitest';
import { ConfigError, DIAGNOSTIC_ACK, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('turns tracing on only with an http(s) OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    expect(loadConfig({}).tracing).toEqual({ endpoint: undefined, serviceName: 'user-api-gateway' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }).tracing.endpoint).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SERVICE_NAME: 'gw' }).tracing).toEqual({
      endpoint: 'http://collector:4318',
      serviceName: 'gw',
    });
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector:4317' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT: must be an http\(s\) URL/);
  });

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
      JWT_SECRET: 'a-production-secret-of-at-least-32-bytes',
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

  it('refuses to run production without JWT configuration, and says why', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET or JWT_JWKS_URL: required in production/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_JWKS_URL: 'https://idp.example/jwks' })).toThrow(/JWT_ISSUER, JWT_AUDIENCE/);
    expect(() => loadConfig({ JWT_SECRET: 'too short' })).toThrow(/JWT_SECRET: must be at least 32 bytes/);
    expect(() => loadConfig({ JWT_SECRET: 'x'.repeat(32), JWT_JWKS_URL: 'https://idp.example/jwks' })).toThrow(/not both/);
  });

  it('uses the development secret, flagged, only when nothing is configured outside production', () => {
    expect(loadConfig({}).auth).toMatchObject({ usingDevelopmentSecret: true, secret: expect.any(String) });
    expect(loadConfig({ JWT_SECRET: 's'.repeat(32) }).auth).toMatchObject({ usingDevelopmentSecret: false, secret: 's'.repeat(32) });
    const jwks = loadConfig({ JWT_JWKS_URL: 'https://idp.example/jwks', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' }).auth;
    expect(jwks).toMatchObject({ secret: undefined, jwksUrl: 'https://idp.example/jwks', issuer: 'i', audience: 'a' });
  });

  it('turns introspection off and hides suggestions in production unless INTROSPECTION=true', () => {
    const prod = { NODE_ENV: 'production', JWT_SECRET: 'p'.repeat(32) };
    expect(loadConfig(prod).limits).toMatchObject({ introspection: false, hideSuggestions: true });
    expect(loadConfig({ ...prod, INTROSPECTION: 'true' }).limits.introspection).toBe(true);
    expect(loadConfig({}).limits).toMatchObject({ introspection: true, hideSuggestions: false });
  });

  it('SQL budget: 10 statements by default, warnings outside production, a bad value refused', () => {
    expect(loadConfig({}).sqlBudget).toEqual({ perRequest: 10, warn: true });
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), SQL_BUDGET_PER_REQUEST: '25' }).sqlBudget).toEqual({ perRequest: 25, warn: false });
    expect(() => loadConfig({ SQL_BUDGET_PER_REQUEST: '0' })).toThrow(/SQL_BUDGET_PER_REQUEST/);
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

  it('switches plugins off only with the acknowledgement, and only known ones (benchmark ablation)', () => {
    expect(loadConfig({}).disabledPlugins.size).toBe(0);
    expect(() => loadConfig({ DIAGNOSTIC_DISABLE_PLUGINS: 'rateLimit' })).toThrow(/DIAGNOSTIC_DISABLE_PLUGINS_ACK/);
    expect(() => loadConfig({ DIAGNOSTIC_DISABLE_PLUGINS: 'rateLimit', DIAGNOSTIC_DISABLE_PLUGINS_ACK: 'yes' })).toThrow(/DIAGNOSTIC_DISABLE_PLUGINS_ACK/);
    expect(() => loadConfig({ DIAGNOSTIC_DISABLE_PLUGINS: 'firewall', DIAGNOSTIC_DISABLE_PLUGINS_ACK: DIAGNOSTIC_ACK })).toThrow(/DIAGNOSTIC_DISABLE_PLUGINS/);
    const config = loadConfig({ DIAGNOSTIC_DISABLE_PLUGINS: 'rateLimit, auth', DIAGNOSTIC_DISABLE_PLUGINS_ACK: DIAGNOSTIC_ACK });
    expect([...config.disabledPlugins].sort()).toEqual(['auth', 'rateLimit']);
  });
});
