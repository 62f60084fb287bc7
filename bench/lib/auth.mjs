// Bearer tokens for our server, which (when it has authentication) verifies HS256 tokens signed with
// JWT_SECRET. The benchmark makes a random secret per run, gives it to the server, and signs one ADMIN
// token with it. Servers without authentication ignore both.
import { createHmac, randomBytes } from 'node:crypto';

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export function makeAuth(sub) {
  const secret = randomBytes(32).toString('hex');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub, role: 'ADMIN', iat: now, exp: now + 4 * 3600 })}`;
  const signature = createHmac('sha256', secret).update(unsigned).digest('base64url');
  return { secret, header: `Bearer ${unsigned}.${signature}` };
}
