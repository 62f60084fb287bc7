import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { signToken } from '../src/auth.js';
import { loadConfig } from '../src/config.js';
import { toGlobalId } from '../src/ids.js';
import { usePostgresDatabase } from './helpers/database.js';
import { spawnServer, waitForPort } from './helpers/process.js';
import { waitForLockWaiters } from './helpers/sessions.js';

/**
 * The drain on a real listening server. A slow in-flight request is made by holding the team's row
 * lock from another connection: addTeamMember waits on it until the test lets go.
 */
const db = usePostgresDatabase();

async function withLockedTeam() {
  const client = new pg.Client({ connectionString: db.url() });
  await client.connect();
  const {
    rows: [user],
  } = await client.query(`INSERT INTO "User" (email, name) VALUES ($1, 'Slow') RETURNING id`, [`slow-${Date.now()}@example.com`]);
  const {
    rows: [team],
  } = await client.query(`INSERT INTO "Team" (slug, name) VALUES ($1, 'Slow') RETURNING id`, [`slow-${Date.now()}`]);
  await client.query('BEGIN');
  await client.query('SELECT id FROM "Team" WHERE id = $1 FOR UPDATE', [team.id]);
  return {
    userId: toGlobalId('User', user.id),
    teamId: toGlobalId('Team', team.id),
    /** Resolves once another session is queued on the lock: the in-flight request is really in flight. */
    waitForWaiter: () => waitForLockWaiters(client, 1, undefined, 10_000),
    release: async () => {
      await client.query('COMMIT');
      await client.end();
    },
  };
}

/** The server runs with the development secret (NODE_ENV=test, no JWT configuration). */
const adminToken = () => signToken(loadConfig({ NODE_ENV: 'test' }).auth, { sub: randomUUID(), role: 'ADMIN' });

async function addMember(port: number, teamId: string, userId: string) {
  return fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await adminToken()}` },
    body: JSON.stringify({
      query: 'mutation ($t: ID!, $u: ID!) { addTeamMember(input: { teamId: $t, userId: $u }) { __typename } }',
      variables: { t: teamId, u: userId },
    }),
  });
}

/** Waits for `check` to hold; the bound (under the test timeout) only ends a hang. */
const until = (check: () => boolean) =>
  vi.waitFor(
    () => {
      if (!check()) throw new Error('condition not reached');
    },
    { timeout: 110_000, interval: 25 },
  );

describe.skipIf(!db.available)('SIGTERM drains a real server', () => {
  it('stops taking connections, lets the in-flight request finish, then exits 0', async () => {
    const server = spawnServer({ DATABASE_URL: db.url(), PORT: '0', HOST: '127.0.0.1', SHUTDOWN_TIMEOUT_MS: '20000' });
    const port = await waitForPort(server);
    const lock = await withLockedTeam();
    const inFlight = addMember(port, lock.teamId, lock.userId);
    await lock.waitForWaiter();
    server.child.kill('SIGTERM');
    await until(() => server.output().includes('shutdown: draining'));
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    await lock.release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { addTeamMember: { __typename: 'AddTeamMemberSuccess' } } });
    expect(await server.exited).toBe(0);
    const log = server.output();
    for (const step of ['readiness now 503', 'draining', 'listener closed', 'yoga disposed', 'database closed']) {
      expect(log).toContain(`shutdown: ${step}`);
    }
  }, 60_000);

  it('cuts work that outlives SHUTDOWN_TIMEOUT_MS and exits 1', async () => {
    const server = spawnServer({ DATABASE_URL: db.url(), PORT: '0', HOST: '127.0.0.1', SHUTDOWN_TIMEOUT_MS: '500' });
    const port = await waitForPort(server);
    const lock = await withLockedTeam();
    const inFlight = addMember(port, lock.teamId, lock.userId).then(
      (r) => r.status,
      () => 'connection closed',
    );
    await lock.waitForWaiter();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(1);
    expect(await inFlight).toBe('connection closed');
    expect(server.output()).toContain('drain deadline reached');
    await lock.release();
  }, 60_000);
});

interface ClientRecord {
  responses: number;
  /** Statuses of responses received after SIGTERM was sent. */
  afterSignal: number[];
  /** The socket errors it met (resets, refusals, hang-ups): must stay empty. */
  errors: string[];
  /** It stopped because a response said `Connection: close`. */
  toldToClose: boolean;
}

/**
 * One keep-alive client: back-to-back GraphQL POSTs on one connection, as a proxy in front of a replica
 * sends them, until a response says `Connection: close` (a proxy then takes another replica) or a
 * request fails. Bounded by `maxMs`.
 */
async function keepAliveClient(port: number, token: string, signalled: () => boolean, record: ClientRecord, maxMs = 60_000): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const body = JSON.stringify({ query: '{ users(first: 1) { totalCount } }' });
  const started = Date.now();
  try {
    while (!record.toldToClose && record.errors.length === 0 && Date.now() - started < maxMs) {
      await new Promise<void>((resolve) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/graphql',
            agent,
            headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              record.responses++;
              if (signalled()) record.afterSignal.push(res.statusCode ?? 0);
              if (res.headers.connection === 'close') record.toldToClose = true;
              resolve();
            });
            res.on('error', (error: NodeJS.ErrnoException) => {
              record.errors.push(error.code ?? error.message);
              resolve();
            });
          },
        );
        req.on('error', (error: NodeJS.ErrnoException) => {
          record.errors.push(error.code ?? error.message);
          resolve();
        });
        req.end(body);
      });
    }
  } finally {
    agent.destroy();
  }
}

/** A client that sends a request's headers, then its body one byte every 100 ms; what it got back. */
function slowUpload(port: number, token: string): { sent: () => number; answer: Promise<string> } {
  const socket = net.connect(port, '127.0.0.1');
  let sent = 0;
  let received = '';
  const length = 100_000;
  socket.on('connect', () => {
    socket.write(`POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${length}\r\n\r\n`);
  });
  const trickle = setInterval(() => {
    if (socket.writable && sent < length) socket.write(sent++ === 0 ? '{' : ' ');
  }, 100);
  socket.on('data', (chunk) => (received += chunk.toString()));
  socket.on('error', () => undefined);
  const answer = new Promise<string>((resolve) =>
    socket.on('close', () => {
      clearInterval(trickle);
      resolve(received);
    }),
  );
  // Bounded: never outlives the test.
  setTimeout(() => socket.destroy(), 40_000).unref();
  return { sent: () => sent, answer };
}

describe.skipIf(!db.available)('SIGTERM under steady keep-alive load', () => {
  it('resets nothing: every request sent is answered, each connection ends on a Connection: close response, exit 0', async () => {
    const server = spawnServer({
      DATABASE_URL: db.url(),
      PORT: '0',
      HOST: '127.0.0.1',
      SHUTDOWN_TIMEOUT_MS: '20000',
      RATE_LIMIT_POINTS: '1000000',
      LOG_LEVEL: 'info',
    });
    const port = await waitForPort(server);
    const token = await adminToken();
    let signalled = false;
    const records: ClientRecord[] = Array.from({ length: 8 }, () => ({ responses: 0, afterSignal: [], errors: [], toldToClose: false }));
    const clients = Promise.all(records.map((record) => keepAliveClient(port, token, () => signalled, record)));
    // Steady load first: every client has been answered a few times on its connection.
    await until(() => records.every((r) => r.responses >= 5 || r.errors.length > 0));
    expect(records.flatMap((r) => r.errors)).toEqual([]);
    signalled = true;
    server.child.kill('SIGTERM');
    await clients;
    expect(await server.exited).toBe(0);

    expect(records.flatMap((r) => r.errors)).toEqual([]);
    for (const record of records) {
      expect(record.toldToClose).toBe(true);
      // Requests in flight, or sent on the open connection after the signal, were served.
      expect(record.afterSignal.length).toBeGreaterThan(0);
      expect(record.afterSignal.every((status) => status === 200)).toBe(true);
    }
    const log = server.output();
    expect(log).toContain('drain: every connection closed');
    expect(log).not.toContain('drain deadline reached');
  }, 120_000);

  it('cuts request bodies slower than REQUEST_TIMEOUT_MS with 408, so two slow uploads do not hold the drain', async () => {
    const server = spawnServer({ DATABASE_URL: db.url(), PORT: '0', HOST: '127.0.0.1', SHUTDOWN_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '1500' });
    const port = await waitForPort(server);
    const token = await adminToken();
    const uploads = [slowUpload(port, token), slowUpload(port, token)];
    await until(() => uploads.every((u) => u.sent() > 2));
    server.child.kill('SIGTERM');
    const answers = await Promise.all(uploads.map((u) => u.answer));
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(await server.exited).toBe(0);
    expect(server.output()).not.toContain('drain deadline reached');
  }, 120_000);
});
