import { describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/ids.js';
import { useTestApp } from './helpers/app.js';
import { onPostgres } from './helpers/database.js';
import { unique } from './helpers/fixtures.js';
import { openSession, waitForLockWaiters } from './helpers/sessions.js';

/**
 * Authorization under concurrency (issue 9, point 7). plugin-scope-auth checks "the caller is an OWNER
 * of the team" before the resolver, outside any lock; the write then waits for the team row lock. If
 * the caller's ownership is revoked meanwhile, the write must be refused (top-level FORBIDDEN, as for
 * any non-OWNER) and write nothing: the statement checks ownership again on the caller's membership
 * row, locked after the team row. Another session holds the team row lock to make the write wait.
 */
const t = useTestApp();

async function user(tag: string) {
  const row = await t.db.prisma.user.create({ data: { email: `${unique(tag)}@example.com`, name: tag } });
  return { id: row.id, gid: toGlobalId('User', row.id) };
}
async function team(members: [{ id: string }, 'OWNER' | 'MEMBER'][]) {
  const row = await t.db.prisma.team.create({ data: { slug: unique('race'), name: 'Race' } });
  for (const [m, role] of members) await t.db.prisma.membership.create({ data: { userId: m.id, teamId: row.id, role } });
  return { id: row.id, gid: toGlobalId('Team', row.id) };
}

/** Memberships, counters and outbox events of these teams and users: all a refused write could touch. */
async function stateOf(teamIds: string[], userIds: string[]) {
  const prisma = t.db.prisma;
  return {
    memberships: await prisma.membership.findMany({ where: { teamId: { in: teamIds } }, orderBy: [{ teamId: 'asc' }, { userId: 'asc' }] }),
    teams: await prisma.team.findMany({ where: { id: { in: teamIds } }, orderBy: { id: 'asc' } }),
    users: await prisma.user.findMany({ where: { id: { in: userIds } }, orderBy: { id: 'asc' } }),
    events: await prisma.outboxEvent.count({ where: { aggregateId: { in: [...teamIds, ...userIds] } } }),
  };
}

type Revoke = 'demoted by another session' | 'deleted by the lock holder' | 'not revoked (control)';

/**
 * Holds the row locks of `lockTeams` in another session, sends `mutation` as `owner`, waits until it
 * is queued behind the lock, revokes `owner`'s OWNER membership of `revokeTeam` as `revoke` says and
 * commits it, releases the lock, and returns the response.
 */
async function race(owner: { id: string }, lockTeams: string[], revokeTeam: string, revoke: Revoke, mutation: string, input: object) {
  const holder = await openSession(t);
  const other = await openSession(t);
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT "id" FROM "Team" WHERE "id" = ANY($1::uuid[]) ORDER BY "id" FOR UPDATE', [lockTeams]);
    const token = await t.token({ role: 'USER', sub: owner.id });
    const response = t.gql(mutation, { i: input }, { token });
    await waitForLockWaiters(holder);
    const membership = [owner.id, revokeTeam];
    if (revoke === 'demoted by another session') {
      await other.query(`UPDATE "Membership" SET "role" = 'MEMBER' WHERE "userId" = $1 AND "teamId" = $2`, membership);
    } else if (revoke === 'deleted by the lock holder') {
      await holder.query(`DELETE FROM "Membership" WHERE "userId" = $1 AND "teamId" = $2`, membership);
    }
    await holder.query('COMMIT'); // releases the lock (and, for the holder's revocation, commits it)
    return await response;
  } finally {
    await holder.end();
    await other.end();
  }
}

const ADD = 'mutation ($i: AddTeamMemberInput!) { addTeamMember(input: $i) { __typename } }';
const REMOVE = 'mutation ($i: RemoveTeamMemberInput!) { removeTeamMember(input: $i) { __typename } }';
const TRANSFER = 'mutation ($i: TransferUserInput!) { transferUser(input: $i) { __typename } }';

const refused = { data: null, errors: [expect.objectContaining({ message: 'Not allowed.', extensions: { code: 'FORBIDDEN' } })] };

describe.skipIf(!onPostgres)('ownership revoked while the write waits for the team lock', () => {
  it.each(['demoted by another session', 'deleted by the lock holder'] as const)('addTeamMember(role: OWNER) is refused and writes nothing (ownership %s)', async (revoke) => {
    const [owner, other, newcomer] = [await user('owner'), await user('other'), await user('newcomer')];
    const a = await team([
      [owner, 'OWNER'],
      [other, 'OWNER'],
    ]);
    const before = await stateOf([a.id], [newcomer.id]);
    const res = await race(owner, [a.id], a.id, revoke, ADD, { teamId: a.gid, userId: newcomer.gid, role: 'OWNER' });
    expect(res).toEqual(refused);
    const after = await stateOf([a.id], [newcomer.id]);
    expect(after.memberships.find((m) => m.userId === newcomer.id)).toBeUndefined();
    expect(after.users).toEqual(before.users);
    expect(after.events).toBe(before.events);
  });

  it('removeTeamMember is refused and writes nothing', async () => {
    const [owner, other, member] = [await user('owner'), await user('other'), await user('member')];
    const a = await team([
      [owner, 'OWNER'],
      [other, 'OWNER'],
      [member, 'MEMBER'],
    ]);
    const res = await race(owner, [a.id], a.id, 'demoted by another session', REMOVE, { teamId: a.gid, userId: member.gid });
    expect(res).toEqual(refused);
    const after = await stateOf([a.id], [member.id]);
    expect(after.memberships.find((m) => m.userId === member.id)).toMatchObject({ role: 'MEMBER' });
    expect(after.teams[0]!.memberCount).toBe(3);
    expect(after.events).toBe(0);
  });

  it('transferUser is refused and writes nothing when ownership of the target team is revoked', async () => {
    const [owner, member] = [await user('owner'), await user('member')];
    const a = await team([
      [owner, 'OWNER'],
      [member, 'MEMBER'],
    ]);
    const b = await team([[owner, 'OWNER']]);
    const before = await stateOf([a.id, b.id], [member.id]);
    const res = await race(owner, [a.id, b.id], b.id, 'demoted by another session', TRANSFER, { userId: member.gid, fromTeamId: a.gid, toTeamId: b.gid });
    expect(res).toEqual(refused);
    const after = await stateOf([a.id, b.id], [member.id]);
    expect(after.memberships.filter((m) => m.userId === member.id)).toEqual(before.memberships.filter((m) => m.userId === member.id));
    expect(after.teams.map((x) => x.memberCount)).toEqual(before.teams.map((x) => x.memberCount));
    expect(after.events).toBe(before.events);
  });

  it('control: without the revocation the same waiting write goes through', async () => {
    const [owner, newcomer] = [await user('owner'), await user('newcomer')];
    const a = await team([[owner, 'OWNER']]);
    const res = await race(owner, [a.id], a.id, 'not revoked (control)', ADD, { teamId: a.gid, userId: newcomer.gid, role: 'OWNER' });
    expect(res).toEqual({ data: { addTeamMember: { __typename: 'AddTeamMemberSuccess' } } });
    expect((await stateOf([a.id], [newcomer.id])).memberships.find((m) => m.userId === newcomer.id)).toMatchObject({ role: 'OWNER' });
  });
});
