// Start-up as a person meets it: problems as one line that says what to do (exit 1, no stack, no
// password), the embedded directory held by one process at a time, a new embedded database seeded,
// what to open and run printed, logs JSON unless stdout is a terminal.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signToken } from '../src/auth.js';
import { loadConfig } from '../src/config.js';
import { DEVELOPMENT_ADMIN } from '../src/dev-admin.js';
import { lockFileOf } from '../src/embedded/lock.js';
import { createDatabase, databaseUrl, dropDatabase, uniqueDatabaseName } from './helpers/postgres.js';
import { logLines, type ServerProcess, signalGroup, spawnProcess, spawnServer, stopServer, useServerProcesses, waitForPort } from './helpers/process.js';

const run = promisify(execFile);
const servers = useServerProcesses();
const template = inject('pgTemplate');
/** A server process must start on a loaded two-core machine: wait for it, never on a margin. */
const PROCESS_TIMEOUT = 240_000;

const LOCAL = { HOST: '127.0.0.1', PORT: '0' };
const DEV = { ...LOCAL, NODE_ENV: 'development' };

/** The one fatal line of a failed start, after checking it exited 1 with nothing else alarming. */
async function failedStart(server: ServerProcess, { databaseReady = false } = {}): Promise<string> {
  expect(await server.exited, server.output()).toBe(1);
  const fatal = logLines(server.output()).filter((l) => l.level === 60);
  expect(fatal, server.output()).toHaveLength(1);
  expect(server.output()).not.toMatch(/\n\s+at /); // no stack
  expect(server.output().includes('database ready')).toBe(databaseReady);
  return fatal[0]!.msg as string;
}

async function gql(port: number, query: string, token: string, variables?: Record<string, unknown>) {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: unknown[] };
}

const devAuth = loadConfig({ NODE_ENV: 'test' }).auth;
const adminToken = () => signToken(devAuth, { sub: DEVELOPMENT_ADMIN.id, role: 'ADMIN' });

/** `node --import tsx <script>` as `npm run` would run it, with only `env` set. */
function runScript(script: string, args: string[], env: Record<string, string>) {
  return run(process.execPath, ['--import', 'tsx', script, ...args], { env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

async function listeningOn(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('start-up problems: one line saying what to do, exit 1, no stack, no password', () => {
  it('PostgreSQL unreachable', { timeout: PROCESS_TIMEOUT }, async () => {
    const closed = await listeningOn();
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const server = servers.spawn({ ...LOCAL, DATABASE_URL: `postgresql://app:hunter2-secret@127.0.0.1:${port}/users` });
    const line = await failedStart(server);
    expect(line).toBe(
      `Cannot connect to PostgreSQL at postgresql://app:***@127.0.0.1:${port}/users: connection refused (is PostgreSQL running?). ` +
        'Start it (docker compose up -d postgres) or fix DATABASE_URL; unset DATABASE_URL to use the embedded database.',
    );
    expect(server.output()).not.toContain('hunter2');
  });

  it.skipIf(!template)('PostgreSQL not migrated', { timeout: PROCESS_TIMEOUT }, async () => {
    const name = uniqueDatabaseName('uag_unmigrated');
    await createDatabase(template!.serverUrl, name);
    try {
      const server = servers.spawn({ ...LOCAL, DATABASE_URL: databaseUrl(template!.serverUrl, name) });
      expect(await failedStart(server)).toMatch(/^The database at postgresql:\/\/\S+ is not migrated \(\d+ pending: \d{14}_init.*\): run `npm run db:migrate` first\.$/);
    } finally {
      await dropDatabase(template!.serverUrl, name);
    }
  });

  it('port taken', { timeout: PROCESS_TIMEOUT }, async () => {
    const taken = await listeningOn();
    const port = (taken.address() as { port: number }).port;
    try {
      const server = servers.spawn({ HOST: '127.0.0.1', PORT: String(port), EMBEDDED_DATA_DIR: 'memory://' });
      expect(await failedStart(server, { databaseReady: true })).toBe(
        `Port ${port} on 127.0.0.1 is already in use (is another server running?): stop it or set PORT to a free port.`,
      );
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });
});

describe('an embedded database directory', () => {
  let dir: string;
  let dataDir: string;
  let first: ServerProcess;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'uag-embedded-'));
    dataDir = path.join(dir, 'pglite');
    first = spawnServer({ ...DEV, EMBEDDED_DATA_DIR: dataDir });
    port = await waitForPort(first);
  }, PROCESS_TIMEOUT);

  afterAll(async () => {
    if (first) await stopServer(first, 'SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is seeded on its first start with the sample dataset and the development admin', async () => {
    const res = await gql(port, '{ me { id email role } users { totalCount } teams { totalCount } }', await adminToken());
    expect(res.data).toEqual({
      me: { id: expect.any(String), email: DEVELOPMENT_ADMIN.email, role: 'ADMIN' },
      users: { totalCount: 26 },
      teams: { totalCount: 6 },
    });
  });

  it('start-up says where GraphiQL is and how to get a token, in JSON lines when stdout is not a terminal', () => {
    const lines = first.output().split('\n').filter(Boolean);
    expect(
      lines.every((l) => l.startsWith('{')),
      first.output(),
    ).toBe(true);
    expect(first.output()).not.toContain('\x1b[');
    const messages = logLines(first.output()).map((l) => l.msg as string);
    expect(messages).toContain(`GraphiQL: open http://127.0.0.1:${port}/graphql in a browser (signed in as the development admin ${DEVELOPMENT_ADMIN.email})`);
    expect(messages).toContain('Bearer token for curl and scripts: npm run token (--help for the options)');
  });

  it('a second server on it is refused with the holder named', { timeout: PROCESS_TIMEOUT }, async () => {
    const second = servers.spawn({ ...DEV, EMBEDDED_DATA_DIR: dataDir });
    expect(await failedStart(second)).toMatch(
      new RegExp(
        `^The embedded database ${dataDir} is in use by another process \\(pid ${first.child.pid}, since .*\\): stop it first, or set EMBEDDED_DATA_DIR to another directory\\.`,
      ),
    );
  });

  it('db:seed -- --reset on it is refused in one line, and the server keeps its data', { timeout: PROCESS_TIMEOUT }, async () => {
    const seed = await runScript('prisma/seed.ts', ['--reset'], { EMBEDDED_DATA_DIR: dataDir });
    expect(seed.code).toBe(1);
    expect(seed.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^seed: The embedded database .* is in use by another process/)]);
    expect((await gql(port, '{ users { totalCount } }', await adminToken())).data).toEqual({ users: { totalCount: 26 } });
  });

  it('npm run token: the development admin by default; --sub as an email, a global ID or a UUID', { timeout: PROCESS_TIMEOUT }, async () => {
    const env = { EMBEDDED_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port) };
    const me = async (args: string[]) => {
      const { code, stdout, stderr } = await runScript('scripts/token.ts', args, env);
      expect(code, stderr).toBe(0);
      return (await gql(port, '{ me { id email } }', stdout.trim())).data?.me as { id: string; email: string } | null;
    };
    expect((await me([]))?.email).toBe(DEVELOPMENT_ADMIN.email);
    // The server holds the directory, so the email is looked up through it.
    const amara = await me(['--role', 'USER', '--sub', 'Amara.Okafor@example.com']);
    expect(amara?.email).toBe('amara.okafor@example.com');
    expect((await me(['--role', 'USER', '--sub', amara!.id]))?.email).toBe('amara.okafor@example.com');
    const uuid = (await gql(port, 'query ($e: String!) { userByEmail(email: $e) { id } }', await adminToken(), { e: 'amara.okafor@example.com' })).data;
    expect(uuid.userByEmail.id).toBe(amara!.id);
    const raw = Buffer.from(amara!.id, 'base64').toString().split(':')[1]!;
    expect((await me(['--sub', raw]))?.email).toBe('amara.okafor@example.com');

    const missing = await runScript('scripts/token.ts', ['--sub', 'nobody@example.com'], env);
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toBe(`token: No user with the email nobody@example.com in the embedded database ${dataDir}.\n`);
  });

  it('is taken over at once after its server was killed (no stale lock), with its data', { timeout: PROCESS_TIMEOUT }, async () => {
    expect(await stopServer(first, 'SIGKILL')).toBeNull();
    expect(existsSync(lockFileOf(dataDir))).toBe(true); // left behind by the kill
    const next = servers.spawn({ ...DEV, EMBEDDED_DATA_DIR: dataDir });
    const nextPort = await waitForPort(next);
    // Not seeded again: the data is the first server's.
    expect(logLines(next.output()).some((l) => /seeded/.test(l.msg))).toBe(false);
    expect((await gql(nextPort, '{ users { totalCount } }', await adminToken())).data).toEqual({ users: { totalCount: 26 } });
    expect(await stopServer(next)).toBe(0);
    expect(existsSync(lockFileOf(dataDir))).toBe(false);
  });
});

describe('SEED_EMBEDDED', () => {
  it('=false leaves a new embedded database empty', { timeout: PROCESS_TIMEOUT }, async () => {
    const server = servers.spawn({ ...DEV, EMBEDDED_DATA_DIR: 'memory://', SEED_EMBEDDED: 'false' });
    const port = await waitForPort(server);
    expect((await gql(port, '{ me { id } users { totalCount } }', await adminToken())).data).toEqual({ me: null, users: { totalCount: 0 } });
  });
});

describe('npm run token', () => {
  it('--help prints the usage and exits 0; a --sub that is none of UUID, global ID, email exits 2 with the usage', async () => {
    const help = await runScript('scripts/token.ts', ['--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run token -- \[--role ADMIN\|USER\] \[--sub <user>\]/);
    expect(help.stdout).toContain('a user id (UUID), a global ID as the API shows it, or an email');
    const bad = await runScript('scripts/token.ts', ['--sub', 'nonsense'], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^token: --sub must be a user id \(UUID\), a User global ID or an email, got "nonsense"\n\nUsage:/);
  }, 60_000);

  it.skipIf(!template)(
    'looks an email up in PostgreSQL',
    async () => {
      const name = uniqueDatabaseName('uag_token');
      await createDatabase(template!.serverUrl, name, template!.name);
      const url = databaseUrl(template!.serverUrl, name);
      try {
        const pg = await import('pg');
        const client = new pg.default.Client({ connectionString: url });
        await client.connect();
        const { rows } = await client.query<{ id: string }>(`INSERT INTO "User" (email, name, "updatedAt") VALUES ('grace@example.com', 'Grace', now()) RETURNING id`);
        await client.end();
        const { code, stdout, stderr } = await runScript('scripts/token.ts', ['--role', 'USER', '--sub', 'grace@example.com'], { DATABASE_URL: url });
        expect(code, stderr).toBe(0);
        const payload = JSON.parse(Buffer.from(stdout.trim().split('.')[1]!, 'base64url').toString());
        expect(payload).toMatchObject({ sub: rows[0]!.id, role: 'USER' });
      } finally {
        await dropDatabase(template!.serverUrl, name);
      }
    },
    60_000,
  );
});

describe.skipIf(!existsSync('/usr/bin/script'))('logs on a terminal', () => {
  it('are pretty lines, not JSON', { timeout: PROCESS_TIMEOUT }, async () => {
    // util-linux `script` gives the server a pseudo-terminal as stdout.
    const command = `${process.execPath} --import tsx src/main.ts`;
    const server = spawnProcess('script', ['-qefc', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', EMBEDDED_DATA_DIR: 'memory://', SEED_EMBEDDED: 'false' },
      stdin: 'pipe',
    });
    try {
      await expect.poll(() => server.stdout(), { timeout: PROCESS_TIMEOUT - 10_000, interval: 200 }).toMatch(/INFO.*listening on http:\/\/127\.0\.0\.1:\d+/);
      expect(server.stdout()).not.toMatch(/^\{"level"/m);
      expect(server.stdout()).toMatch(/\d\d:\d\d:\d\d\.\d{3}\]/);
    } finally {
      signalGroup(server.child, 'SIGKILL');
    }
  });
});
