// The benchmark databases, on the PostgreSQL server named by BENCH_DATABASE_URL:
//   <name>       the uniform dataset: 10,000 users, 1,000 teams, 50,000 memberships, made by the project's
//                own `npm run db:migrate` and seed CLI (`npm run db:seed -- --users ... --reset`)
//   <name>_skew  a copy of it (CREATE DATABASE ... TEMPLATE) plus the skew: 100,000 more users, all in
//                team 1 (so it has 100,050 members), and user 1 in every one of the 1,000 teams
// Both are dropped and re-created on every run, then VACUUM ANALYZEd so plans and visibility maps are
// settled before anything is measured.
import { spawn } from 'node:child_process';
import pg from 'pg';
import { benchTeamId, benchUserId } from './queries.mjs';

export const DATASET = { users: 10_000, teams: 1_000, membershipsPerUser: 5 };
export const SKEW = { hugeTeamExtraMembers: 100_000, busyUserTeams: DATASET.teams };
/** Team 1 and user 1 head the first teams page (slug order) and the first users page (creation order). */
export const HUGE_TEAM = { index: 1, id: benchTeamId(1) };
export const BUSY_USER = { index: 1, id: benchUserId(1) };

/** `base` (a server URL) with the database `name`. */
export function databaseUrl(base, name) {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs a command from the repository root; rejects with its output when it fails. */
export function run(command, args, { cwd, env = {}, quiet = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const collect = (d) => {
      out += d.toString();
      if (!quiet) process.stdout.write(d.toString().replace(/^/gm, '    '));
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${out.slice(-3000)}`))));
  });
}

async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-setup' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const ident = (name) => `"${name.replace(/"/g, '""')}"`;

async function recreate(adminUrl, name, template) {
  await withClient(adminUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${ident(name)}${template ? ` TEMPLATE ${ident(template)}` : ''}`);
  });
}

/** Creates, migrates, seeds and skews both databases; resolves to their URLs and timings. */
export async function setupDatabases({ serverUrl, name, root, say }) {
  const admin = databaseUrl(serverUrl, 'postgres');
  const uniformUrl = databaseUrl(serverUrl, name);
  const skewName = `${name}_skew`;
  const skewUrl = databaseUrl(serverUrl, skewName);
  const t0 = performance.now();

  say(`  creating ${name}`);
  await recreate(admin, name);
  say('  npm run db:migrate');
  await run('npm', ['run', '--silent', 'db:migrate'], { cwd: root, env: { DATABASE_URL: uniformUrl } });
  const seedArgs = ['--users', DATASET.users, '--teams', DATASET.teams, '--memberships-per-user', DATASET.membershipsPerUser, '--reset'];
  say(`  npm run db:seed -- ${seedArgs.join(' ')}`);
  await run('npm', ['run', '--silent', 'db:seed', '--', ...seedArgs.map(String)], { cwd: root, env: { DATABASE_URL: uniformUrl } });
  await withClient(uniformUrl, (c) => c.query('VACUUM ANALYZE'));
  const counts = await withClient(uniformUrl, async (c) => (await c.query(COUNTS)).rows[0]);
  say(`  ${name}: ${counts.users} users, ${counts.teams} teams, ${counts.memberships} memberships`);

  say(`  creating ${skewName} (copy of ${name}) and adding the skew`);
  await recreate(admin, skewName, name);
  const t1 = performance.now();
  await withClient(skewUrl, async (c) => {
    await c.query('BEGIN');
    // 100,000 more users, created after every seeded one (the uniform users page is unchanged) ...
    await c.query(
      `INSERT INTO "User" ("id", "email", "name", "role", "createdAt", "updatedAt")
       SELECT md5('skew-user:' || k)::uuid, 'skew' || k || '@bench.example', 'Skew ' || k, 'USER', ts, ts
       FROM generate_series(1, $1::int) AS k,
            LATERAL (SELECT timestamptz '2025-01-01 00:00:00+00' + make_interval(secs => 20000 + k)) AS t(ts)`,
      [SKEW.hugeTeamExtraMembers],
    );
    // ... all of them members of team 1 ...
    await c.query(
      `INSERT INTO "Membership" ("userId", "teamId", "role", "joinedAt")
       SELECT md5('skew-user:' || k)::uuid, $2::uuid, 'MEMBER', timestamptz '2025-01-02 00:00:00+00' + make_interval(secs => k)
       FROM generate_series(1, $1::int) AS k`,
      [SKEW.hugeTeamExtraMembers, HUGE_TEAM.id],
    );
    // ... and user 1 in every team.
    await c.query(
      `INSERT INTO "Membership" ("userId", "teamId", "role", "joinedAt")
       SELECT $1::uuid, t."id", 'MEMBER', timestamptz '2025-01-03 00:00:00+00'
       FROM "Team" t
       WHERE NOT EXISTS (SELECT 1 FROM "Membership" m WHERE m."userId" = $1::uuid AND m."teamId" = t."id")`,
      [BUSY_USER.id],
    );
    await c.query('COMMIT');
    await c.query('VACUUM ANALYZE');
  });
  const skewSeconds = (performance.now() - t1) / 1000;
  const skewCounts = await withClient(skewUrl, async (c) => {
    const totals = (await c.query(COUNTS)).rows[0];
    const team = (await c.query('SELECT count(*)::int AS n FROM "Membership" WHERE "teamId" = $1', [HUGE_TEAM.id])).rows[0].n;
    const user = (await c.query('SELECT count(*)::int AS n FROM "Membership" WHERE "userId" = $1', [BUSY_USER.id])).rows[0].n;
    return { ...totals, hugeTeamMembers: team, busyUserTeams: user };
  });
  say(
    `  ${skewName}: ${skewCounts.users} users, ${skewCounts.memberships} memberships; team-1 has ${skewCounts.hugeTeamMembers} members, ` +
      `user 1 is in ${skewCounts.busyUserTeams} teams (skew added in ${skewSeconds.toFixed(1)} s)`,
  );
  return {
    uniformUrl,
    skewUrl,
    uniformName: name,
    skewName,
    counts,
    skewCounts,
    setupSeconds: (performance.now() - t0) / 1000,
  };
}

const COUNTS = `SELECT (SELECT count(*)::int FROM "User") AS users, (SELECT count(*)::int FROM "Team") AS teams,
  (SELECT count(*)::int FROM "Membership") AS memberships`;

/** Deletes the users a createUser run made (so every server reads tables of the same size), then analyzes. */
export async function deleteLoadUsers(url) {
  return withClient(url, async (c) => {
    const { rowCount } = await c.query(`DELETE FROM "User" WHERE "email" LIKE 'bench-%@load.example'`);
    await c.query('VACUUM ANALYZE "User"');
    return rowCount;
  });
}

/** `SELECT version()` and the server's settings that matter for the figures. */
export async function postgresInfo(url) {
  return withClient(url, async (c) => {
    const version = (await c.query('SELECT version()')).rows[0].version;
    const settings = (
      await c.query(
        `SELECT name, setting, unit FROM pg_settings
         WHERE name IN ('shared_buffers', 'work_mem', 'max_connections', 'synchronous_commit', 'fsync', 'jit')`,
      )
    ).rows;
    return { version, settings: Object.fromEntries(settings.map((s) => [s.name, `${s.setting}${s.unit ? ` ${s.unit}` : ''}`])) };
  });
}
