import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, InvalidTokenError } from '../src/auth.js';
import { loadConfig } from '../src/config.js';
import { toGlobalId } from '../src/ids.js';
import { useTestApp } from './helpers/app.js';
import { spawnServer, waitForPort } from './helpers/process.js';

const run = promisify(execFile);

describe('me', () => {
  const t = useTestApp();
  it('returns the caller, and null when the token subject has no user row', async () => {
    const user = await t.db.prisma.user.create({ data: { email: 'me@example.com', name: 'Me' } });
    const mine = await t.gql('{ me { id email } }', {}, { token: await t.token({ role: 'USER', sub: user.id }) });
    expect(mine).toEqual({ data: { me: { id: toGlobalId('User', user.id), email: 'me@example.com' } } });
    const ghost = await t.gql('{ me { id } }', {}, { token: await t.token({ role: 'USER' }) });
    expect(ghost).toEqual({ data: { me: null } });
  });
});

/** A JWKS endpoint on 127.0.0.1 whose keys the test can rotate. */
async function startJwks() {
  let keys: JWK[] = [];
  let fetches = 0;
  const server: Server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    setKeys: (next: JWK[]) => (keys = next),
    fetches: () => fetches,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function keyPair(alg: 'RS256' | 'ES256', kid: string) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const sign = (claims: Record<string, unknown>, sub = randomUUID(), options: { iss?: string; aud?: string } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg, kid })
      .setSubject(sub)
      .setIssuer(options.iss ?? 'https://idp.test')
      .setAudience(options.aud ?? 'user-api')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
  return { jwk, sign };
}

describe('JWKS verification (RS256/ES256), keys cached and rotated', () => {
  let jwks: Awaited<ReturnType<typeof startJwks>>;
  beforeAll(async () => {
    jwks = await startJwks();
  });
  afterAll(() => jwks.close());

  // The refetch cooldown (30 s in production) is shortened so rotation shows within the test.
  const verifier = () =>
    createTokenVerifier(loadConfig({ JWT_JWKS_URL: jwks.url, JWT_ISSUER: 'https://idp.test', JWT_AUDIENCE: 'user-api' }).auth, {
      jwksCooldownMs: 0,
    });

  it('accepts RS256 and ES256 tokens from the published keys, caching them', async () => {
    const rsa = await keyPair('RS256', 'rsa-1');
    const ec = await keyPair('ES256', 'ec-1');
    jwks.setKeys([rsa.jwk, ec.jwk]);
    const verify = verifier();
    const sub = randomUUID();
    // The viewer carries the token's expiry (epoch ms) for live subscriptions; the tokens live 5 minutes.
    const expiresAt = expect.toSatisfy((at: number) => Math.abs(at - (Date.now() + 300_000)) < 10_000);
    await expect(verify(await rsa.sign({ role: 'ADMIN' }, sub))).resolves.toEqual({ userId: sub, role: 'ADMIN', expiresAt });
    await expect(verify(await ec.sign({ role: 'USER' }, sub))).resolves.toEqual({ userId: sub, role: 'USER', expiresAt });
    const fetched = jwks.fetches();
    await verify(await rsa.sign({}));
    expect(jwks.fetches()).toBe(fetched);
  });

  it('picks up a rotated key, and refuses the retired one once the keys are refetched', async () => {
    const old = await keyPair('RS256', 'old');
    jwks.setKeys([old.jwk]);
    const verify = verifier();
    await verify(await old.sign({}));
    const next = await keyPair('RS256', 'new');
    jwks.setKeys([next.jwk]);
    await expect(verify(await next.sign({}))).resolves.toMatchObject({ role: 'USER' });
    await expect(verify(await old.sign({}))).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('refuses wrong issuer, wrong audience and an HS256 token made with a public key', async () => {
    const rsa = await keyPair('RS256', 'rsa-2');
    jwks.setKeys([rsa.jwk]);
    const verify = verifier();
    await expect(verify(await rsa.sign({}, randomUUID(), { iss: 'https://evil.test' }))).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(verify(await rsa.sign({}, randomUUID(), { aud: 'other-app' }))).rejects.toBeInstanceOf(InvalidTokenError);
    const confused = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: 'rsa-2' })
      .setSubject(randomUUID())
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(rsa.jwk)));
    await expect(verify(confused)).rejects.toBeInstanceOf(InvalidTokenError);
  });
});

describe('development mode and npm run token', () => {
  it('production refuses to start without JWT configuration and says why', async () => {
    const server = spawnServer({ NODE_ENV: 'production', EMBEDDED_DATA_DIR: 'memory://' });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('JWT_SECRET or JWT_JWKS_URL: required in production');
  });

  it('warns loudly about the development secret, and accepts a token from `npm run token`', async () => {
    const env = { PORT: '0', HOST: '127.0.0.1', EMBEDDED_DATA_DIR: 'memory://', NODE_ENV: 'test', JWT_ISSUER: 'dev-issuer' };
    const server = spawnServer(env);
    try {
      const port = await waitForPort(server);
      expect(server.output()).toContain('DEVELOPMENT secret');
      const sub = randomUUID();
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/token.ts', '--role', 'ADMIN', '--sub', sub], {
        env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', JWT_ISSUER: 'dev-issuer' },
      });
      const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stdout.trim()}` },
        body: JSON.stringify({ query: '{ me { id } users { totalCount } }' }),
      });
      expect(await res.json()).toEqual({ data: { me: null, users: { totalCount: 0 } } });
      const anonymous = await fetch(`http://127.0.0.1:${port}/graphql?query=%7B__typename%7D`);
      expect(anonymous.status).toBe(401);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 60_000);
});
