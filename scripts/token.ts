// Prints a bearer token the server accepts: `npm run token -- --help`. It signs with the configuration
// the server reads (JWT_SECRET or the development secret, JWT_ISSUER, JWT_AUDIENCE).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { signToken } from '../src/auth.js';
import { type Config, ConfigError, loadConfig } from '../src/config.js';
import { DEVELOPMENT_ADMIN } from '../src/dev-admin.js';
import { isUuid, parseGlobalIdOf } from '../src/ids.js';
import { StartupError, unreachableDatabase } from '../src/startup/errors.js';

const USAGE = `Usage: npm run token -- [--role ADMIN|USER] [--sub <user>] [--expires <time>]

Prints a bearer token for the API (npm run -s token prints nothing else), signed like the server
verifies them: with JWT_SECRET, or the built-in development secret when none is set.

  --role ADMIN|USER   the token's role (default ADMIN)
  --sub <user>        whose token: a user id (UUID), a global ID as the API shows it, or an email
                      (looked up in the database). Default for ADMIN: the development admin
                      ${DEVELOPMENT_ADMIN.email}; for USER a random id with no user row.
  --expires <time>    lifetime, e.g. 15m, 1h, 2d (default 1h)
  -h, --help          show this help

Examples:
  npm run token
  npm run token -- --role USER --sub amara.okafor@example.com
  curl -s localhost:4000/graphql -H "authorization: Bearer $(npm run -s token)" \\
    -H 'content-type: application/json' -d '{"query":"{ me { email } }"}'
`;

class UsageError extends Error {}

/** The user id `sub` names: a UUID as it is, a User global ID decoded, an email looked up. */
async function resolveSubject(sub: string, config: Config): Promise<string> {
  if (isUuid(sub)) return sub.toLowerCase();
  const fromGlobalId = parseGlobalIdOf('User', sub);
  if (fromGlobalId) return fromGlobalId;
  if (!sub.includes('@')) throw new UsageError(`--sub must be a user id (UUID), a User global ID or an email, got "${sub}"`);
  const email = sub.trim().toLowerCase();
  const id = await userIdByEmail(email, config);
  if (!id) throw new StartupError(`No user with the email ${email} in ${databaseName(config)}.`);
  return id;
}

const databaseName = (config: Config) => (config.database.url ? 'the database at DATABASE_URL' : `the embedded database ${config.database.embeddedDataDir}`);

async function userIdByEmail(email: string, config: Config): Promise<string | undefined> {
  const dir = config.database.embeddedDataDir;
  if (!config.database.url) {
    if (dir.startsWith('memory://')) throw new StartupError('EMBEDDED_DATA_DIR=memory:// cannot be looked into from here: pass --sub as a UUID or a global ID.');
    if (!existsSync(path.join(path.resolve(dir), 'PG_VERSION'))) throw new StartupError(`The embedded database ${dir} does not exist yet: start the server first (npm start).`);
    // A running server holds the embedded database: ask it.
    const { lockHolder } = await import('../src/embedded/lock.js');
    if (lockHolder(path.resolve(dir))) return userIdFromServer(email, config);
  }
  // Loaded only for an email: a token for an id needs no database (and starts in a moment).
  const { openDatabase } = await import('../src/db.js');
  const db = await openDatabase(config.database);
  try {
    if (db.pool && config.database.url) await db.pool.query('SELECT 1').catch((error: unknown) => Promise.reject(unreachableDatabase(config.database.url!, error)));
    return (await db.prisma.user.findUnique({ where: { email }, select: { id: true } }))?.id;
  } finally {
    await db.close();
  }
}

async function userIdFromServer(email: string, config: Config): Promise<string | undefined> {
  const host = ['0.0.0.0', '::'].includes(config.http.host) ? '127.0.0.1' : config.http.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${config.http.port}/graphql`;
  const token = await signToken(config.auth, { sub: DEVELOPMENT_ADMIN.id, role: 'ADMIN' }, '1m');
  let body: { data?: { userByEmail: { id: string } | null } };
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'query ($email: String!) { userByEmail(email: $email) { id } }', variables: { email } }),
      signal: AbortSignal.timeout(5_000),
    });
    body = (await res.json()) as typeof body;
  } catch {
    throw new StartupError(`The embedded database is in use by a server that does not answer at ${url}: set PORT to its port, or pass --sub as a UUID or a global ID.`);
  }
  const globalId = body.data?.userByEmail?.id;
  return globalId ? (parseGlobalIdOf('User', globalId) ?? undefined) : undefined;
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        role: { type: 'string', default: 'ADMIN' },
        sub: { type: 'string' },
        expires: { type: 'string', default: '1h' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const role = values.role?.toUpperCase();
  if (role !== 'USER' && role !== 'ADMIN') throw new UsageError('--role must be USER or ADMIN');
  const config = loadConfig();
  if (config.auth.jwksUrl) throw new StartupError('JWT_JWKS_URL is set: tokens come from your identity provider.');
  let sub: string;
  if (values.sub) sub = await resolveSubject(values.sub, config);
  else if (role === 'ADMIN') sub = DEVELOPMENT_ADMIN.id;
  else {
    sub = crypto.randomUUID();
    process.stderr.write('note: no --sub: a USER token for a random id with no user row (`me` is null)\n');
  }
  process.stdout.write(`${await signToken(config.auth, { sub, role }, values.expires)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`token: ${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    const known = error instanceof StartupError || error instanceof ConfigError;
    process.stderr.write(`token: ${known ? error.message : error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
