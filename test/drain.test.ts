import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { signToken } from '../src/auth.js';
import { loadConfig } from '../src/config.js';
import { toGlobalId } from '../src/ids.js';
import { usePostgresDatabase } from './helpers/database.js';
import { spawnServer, waitForPort } from './helpers/process.js';

/**
 * The drain on a real listening server. A slow in-flight request is made by holding the team's row
 * lock from another connection: addTeamMember waits on it until the test lets go.
 */
const db = usePostgresDatabase();

async function withLockedTeam() {
  const client = new pg.Client({ connectionString: db.url() });
  await client.connect();
  const { rows: [user] } = await client.query(`INSERT INTO "User" (email, name) VALUES ($1, 'Slow') RETURNING id`, [`slow-${Date.now()}@example.com`]);
  const { rows: [team] } = await client.query(`INSERT INTO "Team" (slug, name) VALUES ($1, 'Slow') RETURNING id`, [`slow-${Date.now()}`]);
  await client.query('BEGIN');
  await client.query('SELECT id FROM "Team" WHERE id = $1 FOR UPDATE', [team.id]);
  return {
    userId: toGlobalId('User', user.id),
    teamId: toGlobalId('Team', team.id),
    /** Resolves once another session is queued on the lock: the in-flight request is really in flight. */
    waitForWaiter: async () => {
      for (let attempt = 0; attempt < 400; attempt++) {
        // Inside a transaction PostgreSQL reads pg_stat_activity once and keeps that snapshot: drop it.
        await client.query('SELECT pg_stat_clear_snapshot()');
        const { rows } = await client.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (rows[0].n > 0) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('no request reached the lock');
    },
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

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 25));
};

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
