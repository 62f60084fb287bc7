// Membership writes one at a time: addTeamMember, removeTeamMember (the last OWNER stays), transferUser
// (one statement, one transaction; refusals change nothing) and deleteUser as the teams see it.
import { describe, expect, it, vi } from 'vitest';
import { useTestApp } from './helpers/app.js';
import { fixtures, ISO_MS } from './helpers/fixtures.js';
import { badIds, DELETE_USER, MEMBERS_PAGE, teamCalls, TRANSFER } from './helpers/teams.js';

const t = useTestApp();
const { gql, ok, add, remove, transfer } = teamCalls(t);
const { makeUser, makeUsers, makeTeam, expectNoWrite, membershipsOf, rolesOf } = fixtures(t);

// ---- addTeamMember ----------------------------------------------------------------------------

describe('addTeamMember', () => {
  it('adds a member with the default role MEMBER', async () => {
    const [owner, user] = await makeUsers(2, 'add');
    const team = await makeTeam([[owner!, 'OWNER']]);
    const result = await add({ teamId: team.gid, userId: user!.gid });
    expect(result).toEqual({
      __typename: 'AddTeamMemberSuccess',
      team: { id: team.gid, slug: team.slug },
      user: { id: user!.gid, email: user!.email },
      role: 'MEMBER',
    });
    expect(await rolesOf(user!, [team])).toEqual(['MEMBER']);
    const row = await t.db.prisma.membership.findUniqueOrThrow({ where: { userId_teamId: { userId: user!.id, teamId: team.id } } });
    expect(Math.abs(row.joinedAt.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('adds an OWNER when asked, and the membership shows on both sides', async () => {
    const user = await makeUser('add-owner');
    const team = await makeTeam();
    const result = await add({ teamId: team.gid, userId: user.gid, role: 'OWNER' });
    expect(result).toMatchObject({ __typename: 'AddTeamMemberSuccess', role: 'OWNER' });
    expect(await rolesOf(user, [team])).toEqual(['OWNER']);
    const data = await ok(
      `query ($t: ID!, $u: ID!) {
        team(id: $t) { members { totalCount edges { role node { id } } } }
        user(id: $u) { teams { totalCount edges { role node { id } } } }
      }`,
      { t: team.gid, u: user.gid },
    );
    expect(data.team.members).toEqual({ totalCount: 1, edges: [{ role: 'OWNER', node: { id: user.gid } }] });
    expect(data.user.teams).toEqual({ totalCount: 1, edges: [{ role: 'OWNER', node: { id: team.gid } }] });
  });

  it.each(['MEMBER', 'OWNER'] as const)('returns MembershipError for someone already a member (as %s), writing nothing', async (role) => {
    const user = await makeUser('already');
    const team = await makeTeam([[user, role]]);
    for (const asked of ['MEMBER', 'OWNER', undefined]) {
      const result = await expectNoWrite(() => add({ teamId: team.gid, userId: user.gid, role: asked }));
      expect(result).toEqual({ __typename: 'MembershipError', message: expect.any(String) });
    }
    expect(await rolesOf(user, [team])).toEqual([role]);
  });

  it.each(badIds('Team'))('returns NotFoundError with the given id for a %s team ID, writing nothing', async (_label, teamId) => {
    const user = await makeUser('nf');
    const result = await expectNoWrite(() => add({ teamId, userId: user.gid }));
    expect(result).toEqual({ __typename: 'NotFoundError', id: teamId, message: expect.any(String) });
  });

  it.each(badIds('User'))('returns NotFoundError with the given id for a %s user ID, writing nothing', async (_label, userId) => {
    const team = await makeTeam();
    const result = await expectNoWrite(() => add({ teamId: team.gid, userId }));
    expect(result).toEqual({ __typename: 'NotFoundError', id: userId, message: expect.any(String) });
  });

  it('returns NotFoundError for the ID of a deleted team', async () => {
    const user = await makeUser('gone');
    const team = await makeTeam();
    await t.db.prisma.team.delete({ where: { id: team.id } });
    const result = await expectNoWrite(() => add({ teamId: team.gid, userId: user.gid }));
    expect(result).toMatchObject({ __typename: 'NotFoundError', id: team.gid });
  });
});

// ---- removeTeamMember -------------------------------------------------------------------------

describe('removeTeamMember', () => {
  it('removes a MEMBER and only that membership', async () => {
    const [owner, user] = await makeUsers(2, 'rm');
    const team = await makeTeam([
      [owner!, 'OWNER'],
      [user!, 'MEMBER'],
    ]);
    const other = await makeTeam([[user!, 'MEMBER']]);
    const result = await remove({ teamId: team.gid, userId: user!.gid });
    expect(result).toEqual({
      __typename: 'RemoveTeamMemberSuccess',
      team: { id: team.gid, slug: team.slug },
      user: { id: user!.gid, email: user!.email },
    });
    expect(await rolesOf(user!, [team, other])).toEqual([null, 'MEMBER']);
    expect(await rolesOf(owner!, [team])).toEqual(['OWNER']);
    expect(await t.db.prisma.user.count({ where: { id: user!.id } })).toBe(1);
  });

  it('returns MembershipError for a user who is not a member, writing nothing', async () => {
    const [owner, user] = await makeUsers(2, 'rm-not');
    const team = await makeTeam([[owner!, 'OWNER']]);
    await makeTeam([[user!, 'MEMBER']]); // a member elsewhere
    const result = await expectNoWrite(() => remove({ teamId: team.gid, userId: user!.gid }));
    expect(result).toEqual({ __typename: 'MembershipError', message: expect.any(String) });
  });

  it("refuses to remove the team's last OWNER, deleting nothing", async () => {
    const [owner, member] = await makeUsers(2, 'last');
    const team = await makeTeam([
      [owner!, 'OWNER'],
      [member!, 'MEMBER'],
    ]);
    const result = await expectNoWrite(() => remove({ teamId: team.gid, userId: owner!.gid }));
    expect(result).toEqual({ __typename: 'MembershipError', message: expect.any(String) });
    expect(await membershipsOf(team)).toHaveLength(2);
  });

  it('refuses to remove a sole OWNER who is the only member', async () => {
    const owner = await makeUser('solo');
    const team = await makeTeam([[owner, 'OWNER']]);
    const result = await expectNoWrite(() => remove({ teamId: team.gid, userId: owner.gid }));
    expect(result.__typename).toBe('MembershipError');
  });

  it('lets an OWNER leave while another OWNER remains, then protects the last one', async () => {
    const [a, b, m] = await makeUsers(3, 'owners');
    const team = await makeTeam([
      [a!, 'OWNER'],
      [b!, 'OWNER'],
      [m!, 'MEMBER'],
    ]);
    expect((await remove({ teamId: team.gid, userId: a!.gid })).__typename).toBe('RemoveTeamMemberSuccess');
    expect((await membershipsOf(team)).map((r) => [r.userId, r.role]).sort()).toEqual(
      [
        [b!.id, 'OWNER'],
        [m!.id, 'MEMBER'],
      ].sort(),
    );
    const refused = await expectNoWrite(() => remove({ teamId: team.gid, userId: b!.gid }));
    expect(refused.__typename).toBe('MembershipError');
    expect((await remove({ teamId: team.gid, userId: m!.gid })).__typename).toBe('RemoveTeamMemberSuccess');
    expect(await membershipsOf(team)).toEqual([expect.objectContaining({ userId: b!.id, role: 'OWNER' })]);
  });

  it('lets a team without any OWNER lose every MEMBER', async () => {
    const users = await makeUsers(3, 'ownerless');
    const team = await makeTeam(users.map((u) => [u, 'MEMBER']));
    for (const user of users) expect((await remove({ teamId: team.gid, userId: user.gid })).__typename).toBe('RemoveTeamMemberSuccess');
    expect(await membershipsOf(team)).toEqual([]);
    expect(await t.db.prisma.team.count({ where: { id: team.id } })).toBe(1);
  });

  it.each(badIds('Team'))('returns NotFoundError with the given id for a %s team ID, writing nothing', async (_label, teamId) => {
    const user = await makeUser('rm-nf');
    await makeTeam([[user, 'MEMBER']]);
    const result = await expectNoWrite(() => remove({ teamId, userId: user.gid }));
    expect(result).toEqual({ __typename: 'NotFoundError', id: teamId, message: expect.any(String) });
  });

  it.each(badIds('User'))('returns NotFoundError with the given id for a %s user ID, writing nothing', async (_label, userId) => {
    const owner = await makeUser('rm-nf-owner');
    const team = await makeTeam([[owner, 'OWNER']]);
    const result = await expectNoWrite(() => remove({ teamId: team.gid, userId }));
    expect(result).toEqual({ __typename: 'NotFoundError', id: userId, message: expect.any(String) });
  });
});

// ---- transferUser -----------------------------------------------------------------------------

describe('transferUser', () => {
  it.each(['MEMBER', 'OWNER'] as const)('moves a %s, keeping the role', async (role) => {
    const [mover, keeper] = await makeUsers(2, 'move');
    // The source keeps an OWNER either way, so an OWNER may leave it.
    const from = await makeTeam([
      [mover!, role],
      [keeper!, 'OWNER'],
    ]);
    const to = await makeTeam([[keeper!, 'MEMBER']]);
    const untouched = await makeTeam([[mover!, 'MEMBER']]);
    const result = await transfer({ userId: mover!.gid, fromTeamId: from.gid, toTeamId: to.gid });
    expect(result).toEqual({
      __typename: 'TransferUserSuccess',
      user: { id: mover!.gid, email: mover!.email },
      fromTeam: { id: from.gid, slug: from.slug },
      toTeam: { id: to.gid, slug: to.slug },
    });
    expect(await rolesOf(mover!, [from, to, untouched])).toEqual([null, role, 'MEMBER']);
    expect(await rolesOf(keeper!, [from, to])).toEqual(['OWNER', 'MEMBER']);
    const edge = (await ok(MEMBERS_PAGE, { id: to.gid })).team.members.edges.find((e: { node: { id: string } }) => e.node.id === mover!.gid);
    expect(edge).toMatchObject({ role, joinedAt: expect.stringMatching(ISO_MS) });
  });

  it('moves the sole MEMBER of a team without OWNERs, leaving it empty', async () => {
    const user = await makeUser('no-owner');
    const from = await makeTeam([[user, 'MEMBER']]);
    const to = await makeTeam();
    expect((await transfer({ userId: user.gid, fromTeamId: from.gid, toTeamId: to.gid })).__typename).toBe('TransferUserSuccess');
    expect(await rolesOf(user, [from, to])).toEqual([null, 'MEMBER']);
  });

  // Was: a transaction whose statements lock, read, delete and insert in that order. Now one statement
  // (issue 10): its CTEs lock the user row, then the team rows, then move the membership.
  it('is one statement that locks the user, then the teams, then moves the membership', async () => {
    const [mover, keeper] = await makeUsers(2, 'tx');
    const from = await makeTeam([
      [mover!, 'MEMBER'],
      [keeper!, 'OWNER'],
    ]);
    const to = await makeTeam();
    t.resetStatements();
    expect((await transfer({ userId: mover!.gid, fromTeamId: from.gid, toTeamId: to.gid })).__typename).toBe('TransferUserSuccess');
    // Prisma reports statements asynchronously; wait until the transfer's has been seen.
    const sql = await vi.waitFor(() => {
      expect(t.statements).toHaveLength(1);
      return t.statements[0]!.replace(/\s+/g, ' ');
    });
    const at = (pattern: RegExp) => sql.search(pattern);
    const lockUser = at(/FROM "User" WHERE "id" = \$\d+::uuid FOR NO KEY UPDATE/);
    const lockTeams = at(/FROM "Team" WHERE .* ORDER BY "id" FOR NO KEY UPDATE/);
    const insert = at(/INSERT INTO "Membership"/);
    const remove = at(/DELETE FROM "Membership"/);
    const event = at(/INSERT INTO "OutboxEvent"/);
    expect(lockUser).toBeGreaterThanOrEqual(0);
    expect(lockTeams).toBeGreaterThan(lockUser);
    expect(insert).toBeGreaterThan(lockTeams);
    expect(remove).toBeGreaterThan(insert);
    expect(event).toBeGreaterThan(remove);
  });

  it('is one transaction: when the insert fails, the delete is rolled back', async () => {
    const [mover, keeper] = await makeUsers(2, 'atomic');
    const from = await makeTeam([
      [mover!, 'OWNER'],
      [keeper!, 'OWNER'],
    ]);
    const to = await makeTeam([], 'refuse-inserts');
    // A trigger in this file's own database makes the INSERT into the target team fail, after the
    // DELETE from the source team has already run inside the transfer.
    await t.db.prisma.$executeRawUnsafe(`
      CREATE OR REPLACE FUNCTION test_refuse_membership() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW."teamId" = '${to.id}'::uuid THEN RAISE EXCEPTION 'refused by the test'; END IF;
        RETURN NEW;
      END $$`);
    await t.db.prisma.$executeRawUnsafe(`CREATE TRIGGER test_refuse_membership BEFORE INSERT ON "Membership" FOR EACH ROW EXECUTE FUNCTION test_refuse_membership()`);
    try {
      const res = await expectNoWrite(() => gql(TRANSFER, { input: { userId: mover!.gid, fromTeamId: from.gid, toTeamId: to.gid } }));
      // An unexpected database failure is masked: one generic top-level error, no details.
      expect(res.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.', path: ['transferUser'] })]);
      expect(JSON.stringify(res)).not.toContain('refused by the test');
      expect(await rolesOf(mover!, [from, to])).toEqual(['OWNER', null]);
    } finally {
      await t.db.prisma.$executeRawUnsafe(`DROP TRIGGER test_refuse_membership ON "Membership"`);
      await t.db.prisma.$executeRawUnsafe(`DROP FUNCTION test_refuse_membership()`);
    }
    // And with the trigger gone the same transfer goes through.
    expect((await transfer({ userId: mover!.gid, fromTeamId: from.gid, toTeamId: to.gid })).__typename).toBe('TransferUserSuccess');
    expect(await rolesOf(mover!, [from, to])).toEqual([null, 'OWNER']);
  });

  describe('refusals leave memberships exactly as they were', () => {
    it('not a member of the source team', async () => {
      const user = await makeUser('nm');
      const from = await makeTeam([[await makeUser('nm-owner'), 'OWNER']]);
      const to = await makeTeam();
      const result = await expectNoWrite(() => transfer({ userId: user.gid, fromTeamId: from.gid, toTeamId: to.gid }));
      expect(result).toEqual({ __typename: 'MembershipError', message: expect.any(String) });
    });

    it('already a member of the target team', async () => {
      const user = await makeUser('both');
      const from = await makeTeam([[user, 'MEMBER']]);
      const to = await makeTeam([[user, 'MEMBER']]);
      const result = await expectNoWrite(() => transfer({ userId: user.gid, fromTeamId: from.gid, toTeamId: to.gid }));
      expect(result.__typename).toBe('MembershipError');
      expect(await rolesOf(user, [from, to])).toEqual(['MEMBER', 'MEMBER']);
    });

    it.each(['MEMBER', 'OWNER'] as const)('from == to (as %s)', async (role) => {
      const [user, owner] = await makeUsers(2, 'same');
      const team = await makeTeam([
        [user!, role],
        [owner!, 'OWNER'],
      ]);
      const result = await expectNoWrite(() => transfer({ userId: user!.gid, fromTeamId: team.gid, toTeamId: team.gid }));
      expect(result.__typename).toBe('MembershipError');
      expect(await rolesOf(user!, [team])).toEqual([role]);
    });

    it('moving the last OWNER out', async () => {
      const [owner, member] = await makeUsers(2, 'last-out');
      const from = await makeTeam([
        [owner!, 'OWNER'],
        [member!, 'MEMBER'],
      ]);
      const to = await makeTeam();
      const result = await expectNoWrite(() => transfer({ userId: owner!.gid, fromTeamId: from.gid, toTeamId: to.gid }));
      expect(result).toEqual({ __typename: 'MembershipError', message: expect.any(String) });
      expect(await rolesOf(owner!, [from, to])).toEqual(['OWNER', null]);
    });

    const bad = (type: 'User' | 'Team') => badIds(type).map(([label, id]) => [label, id] as const);

    it.each(bad('User'))('NotFoundError for a %s user ID', async (_label, userId) => {
      const member = await makeUser('tnf');
      const from = await makeTeam([[member, 'MEMBER']]);
      const to = await makeTeam();
      const result = await expectNoWrite(() => transfer({ userId, fromTeamId: from.gid, toTeamId: to.gid }));
      expect(result).toEqual({ __typename: 'NotFoundError', id: userId, message: expect.any(String) });
    });

    it.each(bad('Team'))('NotFoundError for a %s source team ID', async (_label, fromTeamId) => {
      const user = await makeUser('tnf-from');
      await makeTeam([[user, 'MEMBER']]);
      const to = await makeTeam();
      const result = await expectNoWrite(() => transfer({ userId: user.gid, fromTeamId, toTeamId: to.gid }));
      expect(result).toEqual({ __typename: 'NotFoundError', id: fromTeamId, message: expect.any(String) });
    });

    it.each(bad('Team'))('NotFoundError for a %s target team ID', async (_label, toTeamId) => {
      const user = await makeUser('tnf-to');
      const from = await makeTeam([[user, 'MEMBER']]);
      const result = await expectNoWrite(() => transfer({ userId: user.gid, fromTeamId: from.gid, toTeamId }));
      expect(result).toEqual({ __typename: 'NotFoundError', id: toTeamId, message: expect.any(String) });
      expect(await rolesOf(user, [from])).toEqual(['MEMBER']);
    });
  });
});

// ---- deleting a user --------------------------------------------------------------------------

describe('deleteUser, seen from the teams', () => {
  it("removes the user's memberships and nobody else's", async () => {
    const [leaving, staying] = await makeUsers(2, 'del');
    const a = await makeTeam([
      [leaving!, 'OWNER'],
      [staying!, 'OWNER'],
    ]);
    const b = await makeTeam([[leaving!, 'MEMBER']]);
    const data = await ok(DELETE_USER, { id: leaving!.gid });
    expect(data.deleteUser).toEqual({ __typename: 'DeleteUserSuccess', deletedUserId: leaving!.gid });
    expect(await t.db.prisma.membership.count({ where: { userId: leaving!.id } })).toBe(0);
    expect(await membershipsOf(a)).toEqual([expect.objectContaining({ userId: staying!.id, role: 'OWNER' })]);
    expect(await t.db.prisma.team.count({ where: { id: { in: [a.id, b.id] } } })).toBe(2);
    const teams = await ok(
      `query ($a: ID!, $b: ID!) {
        a: team(id: $a) { members { totalCount edges { node { id } } } }
        b: team(id: $b) { members { totalCount edges { node { id } } } }
      }`,
      { a: a.gid, b: b.gid },
    );
    expect(teams).toEqual({
      a: { members: { totalCount: 1, edges: [{ node: { id: staying!.gid } }] } },
      b: { members: { totalCount: 0, edges: [] } },
    });
  });
});
