import { describe, expect, it } from 'vitest';
import { useTestApp } from './helpers/app.js';
import { makeUser } from './helpers/fixtures.js';

const t = useTestApp();

describe('REST: GET /api/v1/users/{id}', () => {
  it('answers the user with its version as ETag', async () => {
    const user = await makeUser(t);
    const token = await t.token({ role: 'USER' });
    const res = await t.fetch(`/api/v1/users/${encodeURIComponent(user.gid)}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"1"');
    const body = await res.json();
    expect(body).toMatchObject({ id: user.gid, email: user.email, version: 1 });
  });
});
