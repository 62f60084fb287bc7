import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createPruner } from '../src/events/index.js';
import { claim, fingerprint, pruneExpired } from '../src/idempotency/store.js';
import { useTestApp } from './helpers/app.js';

/**
 * Idempotency keys for mutations (issue 14, point 3; draft-ietf-httpapi-idempotency-key-header): the
 * first response is stored per token subject and key; a retry with the same body gets it back and
 * runs nothing; another body gets 422; a retry while the first runs gets 409; concurrent duplicates
 * run once. On PostgreSQL when TEST_DATABASE_URL is set (the suite's usual run), on PGlite otherwise.
 */
const t = useTestApp();

const CREATE = 'mutation Create($i: CreateUserInput!) { createUser(input: $i) { __typename ... on CreateUserSuccess { user { id email } } } }';
let counter = 0;
const email = () => `idem-${Date.now().toString(36)}-${++counter}@example.com`;

async function send(body: { query: string; variables?: Record<string, unknown>; operationName?: string }, key: string | null, token?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };
  if (key !== null) headers['idempotency-key'] = key;
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await t.fetch('/graphql', { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, replayed: res.headers.get('idempotent-replayed'), text: await res.text(), headers: res.headers };
}

const usersWith = (address: string) => t.db.prisma.user.count({ where: { email: address } });
const eventsOf = async (address: string) => {
  const user = await t.db.prisma.user.findFirst({ where: { email: address } });
  return user ? t.db.prisma.outboxEvent.count({ where: { aggregateId: user.id } }) : 0;
};
const codeOf = (text: string) => (JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code;

describe('Idempotency-Key on mutations', () => {
  it('a retry with the same key and body gets the first response and runs nothing (no second event)', async () => {
    const key = randomUUID();
    const body = { query: CREATE, variables: { i: { email: email(), name: 'Idem' } } };
    const first = await send(body, key);
    expect(first.status).toBe(200);
    expect(first.replayed).toBeNull();
    expect(JSON.parse(first.text).data.createUser.__typename).toBe('CreateUserSuccess');
    // Variables with their keys in another order are the same body.
    const retry = await send({ variables: { i: { name: 'Idem', email: body.variables.i.email } }, query: CREATE }, `"${key}"`);
    expect(retry.status).toBe(200);
    expect(retry.replayed).toBe('true');
    expect(retry.text).toBe(first.text);
    expect(retry.headers.get('content-type')).toBe(first.headers.get('content-type'));
    // The replay is this request's response too: its own request id, the security headers.
    expect(retry.headers.get('x-content-type-options')).toBe('nosniff');
    expect(retry.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
    expect(await usersWith(body.variables.i.email)).toBe(1);
    expect(await eventsOf(body.variables.i.email)).toBe(1);
    // Without the key the same mutation runs again (and finds the email taken).
    const unkeyed = await send(body, null);
    expect(JSON.parse(unkeyed.text).data.createUser.__typename).toBe('EmailTakenError');
  });

  it('the same key with another body: 422 IDEMPOTENCY_KEY_MISMATCH, nothing runs', async () => {
    const key = randomUUID();
    expect((await send({ query: CREATE, variables: { i: { email: email(), name: 'A' } } }, key)).status).toBe(200);
    const other = email();
    const res = await send({ query: CREATE, variables: { i: { email: other, name: 'B' } } }, key);
    expect(res.status).toBe(422);
    expect(codeOf(res.text)).toBe('IDEMPOTENCY_KEY_MISMATCH');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await usersWith(other)).toBe(0);
    // Metrics and logs see the refusal's status, not the stand-in result's.
    expect(await (await t.fetch('/metrics')).text()).toMatch(/http_requests_total\{[^}]*status="422"[^}]*\} [1-9]/);
    expect(t.logs.some((l) => l.msg === 'request' && l.status === 422)).toBe(true);
  });

  it('a retry while the first request is in flight: 409 IDEMPOTENCY_KEY_IN_FLIGHT, nothing runs; an abandoned claim is taken over', async () => {
    const key = randomUUID();
    const address = email();
    const body = { query: CREATE, variables: { i: { email: address, name: 'F' } } };
    const subject = randomUUID();
    const token = await t.token({ role: 'ADMIN', sub: subject });
    // The first request, claimed and still running.
    expect(await claim(t.db.prisma, { subject, key, fingerprint: fingerprint(CREATE, undefined, body.variables), ttlHours: 1, abandonedAfterMs: 60_000 })).toEqual({
      kind: 'claimed',
    });
    const res = await send(body, key, token);
    expect(res.status).toBe(409);
    expect(codeOf(res.text)).toBe('IDEMPOTENCY_KEY_IN_FLIGHT');
    expect(await usersWith(address)).toBe(0);
    // Its process died: once the claim is older than the abandon time (2 × REQUEST_TIMEOUT_MS), a retry runs.
    await t.db.prisma.$executeRaw`UPDATE "IdempotencyKey" SET "createdAt" = now() - interval '1 hour' WHERE "key" = ${key}`;
    const retry = await send(body, key, token);
    expect(retry.status).toBe(200);
    expect(await usersWith(address)).toBe(1);
  });

  it('concurrent duplicates run exactly once: one execution, one event; the others replay or get 409', async () => {
    const key = randomUUID();
    const address = email();
    const body = { query: CREATE, variables: { i: { email: address, name: 'C' } } };
    const results = await Promise.all(Array.from({ length: 12 }, () => send(body, key)));
    const executed = results.filter((r) => r.status === 200 && r.replayed === null);
    expect(executed).toHaveLength(1);
    for (const r of results) {
      if (r.status === 200) expect(r.text).toBe(executed[0]!.text);
      else expect([r.status, codeOf(r.text)]).toEqual([409, 'IDEMPOTENCY_KEY_IN_FLIGHT']);
    }
    expect(await usersWith(address)).toBe(1);
    expect(await eventsOf(address)).toBe(1);
  });

  it('keys are per token subject: another subject’s same key is its own', async () => {
    const key = randomUUID();
    const [a, b] = [email(), email()];
    const other = await t.token({ role: 'ADMIN' });
    expect((await send({ query: CREATE, variables: { i: { email: a, name: 'A' } } }, key)).status).toBe(200);
    const res = await send({ query: CREATE, variables: { i: { email: b, name: 'B' } } }, key, other);
    expect(res.status).toBe(200);
    expect(res.replayed).toBeNull();
    expect(await usersWith(b)).toBe(1);
  });

  it('expired keys are pruned, and an expired key is free again', async () => {
    const key = randomUUID();
    expect((await send({ query: CREATE, variables: { i: { email: email(), name: 'E' } } }, key)).status).toBe(200);
    await t.db.prisma.$executeRaw`UPDATE "IdempotencyKey" SET "expiresAt" = now() - interval '1 second' WHERE "key" = ${key}`;
    // Expired but not yet pruned: a new body under the key runs (no 422).
    const again = email();
    expect((await send({ query: CREATE, variables: { i: { email: again, name: 'E' } } }, key)).status).toBe(200);
    expect(await usersWith(again)).toBe(1);
    await t.db.prisma.$executeRaw`UPDATE "IdempotencyKey" SET "expiresAt" = now() - interval '1 second' WHERE "key" = ${key}`;
    const kept = randomUUID();
    expect((await send({ query: CREATE, variables: { i: { email: email(), name: 'K' } } }, kept)).status).toBe(200);
    expect(await pruneExpired(t.db.prisma, 1000)).toBeGreaterThanOrEqual(1);
    const left = await t.db.prisma.$queryRaw<{ key: string }[]>`SELECT "key" FROM "IdempotencyKey" WHERE "key" IN (${key}, ${kept})`;
    expect(left.map((r) => r.key)).toEqual([kept]);
  });

  it('the pruner deletes expired keys in batches, and only those', async () => {
    const subject = randomUUID();
    const keys = [randomUUID(), randomUUID(), randomUUID()];
    for (const key of keys) await claim(t.db.prisma, { subject, key, fingerprint: '0'.repeat(64), ttlHours: 1, abandonedAfterMs: 60_000 });
    await t.db.prisma.$executeRaw`UPDATE "IdempotencyKey" SET "expiresAt" = now() - interval '1 minute' WHERE "subject" = ${subject} AND "key" <> ${keys[2]!}`;
    const pruner = createPruner({
      db: t.db,
      logger: pino({ level: 'silent' }),
      retentionHours: 1,
      batchSize: 1,
      rows: { deleteBatch: (size) => pruneExpired(t.db.prisma, size), name: 'expired idempotency keys' },
    });
    expect(await pruner.runOnce()).toBeGreaterThanOrEqual(2);
    const left = await t.db.prisma.$queryRaw<{ key: string }[]>`SELECT "key" FROM "IdempotencyKey" WHERE "subject" = ${subject}`;
    expect(left.map((r) => r.key)).toEqual([keys[2]]);
  });

  it('queries ignore the header; a malformed key is 400 BAD_REQUEST', async () => {
    const key = randomUUID();
    for (let i = 0; i < 2; i++) {
      const res = await send({ query: '{ __typename }' }, key);
      expect(res.status).toBe(200);
      expect(res.replayed).toBeNull();
    }
    expect(await t.db.prisma.$queryRaw<unknown[]>`SELECT 1 FROM "IdempotencyKey" WHERE "key" = ${key}`).toHaveLength(0);
    const address = email();
    const bad = await send({ query: CREATE, variables: { i: { email: address, name: 'X' } } }, 'x'.repeat(256));
    expect(bad.status).toBe(400);
    expect(codeOf(bad.text)).toBe('BAD_REQUEST');
    expect(await usersWith(address)).toBe(0);
  });
});

describe('Idempotency-Key on REST writes (the same store: a route runs its fixed mutation)', () => {
  // One subject for the whole describe: keys are per subject.
  let token: Promise<string> | undefined;
  async function rest(method: string, path: string, body: unknown, key: string | null) {
    token ??= t.token({ role: 'ADMIN' });
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${await token}` };
    if (key !== null) headers['idempotency-key'] = key;
    const res = await t.fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, replayed: res.headers.get('idempotent-replayed'), text: await res.text(), headers: res.headers };
  }

  it('POST /api/v1/users retried with the same key and body: the same 201 (Location, ETag), one user, one event', async () => {
    const key = randomUUID();
    const body = { email: email(), name: 'Rest Idem' };
    const first = await rest('POST', '/api/v1/users', body, key);
    expect(first.status).toBe(201);
    const retry = await rest('POST', '/api/v1/users', body, key);
    expect({ status: retry.status, replayed: retry.replayed, text: retry.text }).toEqual({ status: 201, replayed: 'true', text: first.text });
    expect(retry.headers.get('location')).toBe(first.headers.get('location'));
    expect(retry.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(retry.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(await usersWith(body.email)).toBe(1);
    expect(await eventsOf(body.email)).toBe(1);
  });

  it('the same key with another body: 422 problem+json IDEMPOTENCY_KEY_MISMATCH, nothing written', async () => {
    const key = randomUUID();
    const first = { email: email(), name: 'Rest A' };
    const other = { email: email(), name: 'Rest B' };
    expect((await rest('POST', '/api/v1/users', first, key)).status).toBe(201);
    const refused = await rest('POST', '/api/v1/users', other, key);
    expect(refused.status).toBe(422);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((JSON.parse(refused.text) as { code: string }).code).toBe('IDEMPOTENCY_KEY_MISMATCH');
    expect(await usersWith(other.email)).toBe(0);
  });
});
