// Prints a bearer token the running development server accepts (`npm run token -- --role ADMIN [--sub <uuid>]`).
// It signs with the same configuration the server reads: JWT_SECRET (or the development secret),
// JWT_ISSUER and JWT_AUDIENCE.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { signToken } from '../src/auth.js';
import { loadConfig } from '../src/config.js';
import { isUuid } from '../src/ids.js';

const usage = 'Usage: npm run token -- [--role USER|ADMIN] [--sub <user uuid>] [--expires 1h]\n';
try {
  const { values } = parseArgs({
    options: { role: { type: 'string', default: 'ADMIN' }, sub: { type: 'string' }, expires: { type: 'string', default: '1h' } },
  });
  const role = values.role?.toUpperCase();
  if (role !== 'USER' && role !== 'ADMIN') throw new Error('--role must be USER or ADMIN');
  const sub = values.sub ?? randomUUID();
  if (!isUuid(sub)) throw new Error('--sub must be a user id (UUID)');
  const config = loadConfig();
  if (config.auth.jwksUrl) throw new Error('JWT_JWKS_URL is set: tokens come from your identity provider');
  process.stdout.write(`${await signToken(config.auth, { sub, role }, values.expires)}\n`);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
  process.exit(2);
}
