// Membership writes racing each other on PostgreSQL: whatever the interleaving, exactly one of the
// conflicting writes wins, no deadlock surfaces and the last OWNER stays.
import { describe, expect, it } from 'vitest';
import type { TeamRole } from '../src/generated/prisma/client.js';
import { toGlobalId } from '../src/ids.js';
import { useTestApp } from './helpers/app.js';
import { onPostgres } from './helpers/database.js';
import { expectNoLeak, fixtures, type TestTeam, type TestUser } from './helpers/fixtures.js';
import { ADD, countOf, DELETE_USER, kinds, REMOVE, teamCalls, TRANSFER } from './helpers/teams.js';

const t = useTestApp();
const { gql, add, remove, transfer } = teamCalls(t);
const { makeUser, makeUsers, makeTeam, membershipsOf, rolesOf } = fixtures(t);

// ---- real concurrency (PostgreSQL only) -------------------------------------------------------

describe('concurrency on PostgreSQL', () => {
  it.skipIf(!onPostgres)('two OWNERS removed at once: exactly one succeeds, one OWNER always remains', async () => {
    for (let round = 0; round < 15; round++) {
      const [a, b, m] = await makeUsers(3, `co-${round}`);
      const team = await makeTeam([
        [a!, 'OWNER'],
        [b!, 'OWNER'],
        [m!, 'MEMBER'],
      ]);
      const results = await Promise.all([a!, b!].map((u) => remove({ teamId: team.gid, userId: u.gid })));
      const list = kinds(results);
      expect(countOf(list, 'RemoveTeamMemberSuccess')).toBe(1);
      expect(countOf(list, 'MembershipError')).toBe(1);
      const rows = await membershipsOf(team);
      expect(rows.filter((r) => r.role === 'OWNER')).toHaveLength(1);
      expect(rows).toHaveLength(2);
    }
  });

  it.skipIf(!onPostgres)('10 concurrent transfers and removals of one membership: exactly one wins, never two teams', async () => {
    for (let round = 0; round < 8; round++) {
      const [user, owner] = await makeUsers(2, `mix-${round}`);
      const role: TeamRole = round % 2 ? 'OWNER' : 'MEMBER';
      const a = await makeTeam([
        [user!, role],
        [owner!, 'OWNER'],
      ]);
      const [b, c, d] = [await makeTeam(), await makeTeam(), await makeTeam()];
      const ops = [
        ...[b, c, d, b, c, d, b, c].map((to) => () => transfer({ userId: user!.gid, fromTeamId: a.gid, toTeamId: to!.gid })),
        () => remove({ teamId: a.gid, userId: user!.gid }),
        () => remove({ teamId: a.gid, userId: user!.gid }),
      ];
      const results = await Promise.all(ops.map((op) => op()));
      const list = kinds(results);
      const wins = results.filter((r) => r.__typename.endsWith('Success'));
      expect(wins).toHaveLength(1);
      expect(countOf(list, 'MembershipError')).toBe(9);
      const rows = await t.db.prisma.membership.findMany({ where: { userId: user!.id } });
      const teamIds = [a, b, c, d].map((x) => x!.id);
      expect(rows.every((r) => teamIds.includes(r.teamId))).toBe(true);
      expect(new Set(rows.map((r) => r.teamId)).size).toBe(rows.length);
      if (wins[0]!.__typename === 'RemoveTeamMemberSuccess') {
        expect(rows).toEqual([]);
      } else {
        expect(rows).toHaveLength(1);
        expect(toGlobalId('Team', rows[0]!.teamId)).toBe(wins[0]!.toTeam.id);
        expect(rows[0]!.role).toBe(role);
      }
      expect(await rolesOf(owner!, [a])).toEqual(['OWNER']);
    }
  });

  it.skipIf(!onPostgres)('two users swapping teams concurrently never deadlock and both succeed', async () => {
    const pairs = await Promise.all(
      Array.from({ length: 3 }, async (_, i) => {
        const [u1, u2] = await makeUsers(2, `swap-${i}`);
        const a = await makeTeam([[u1!, 'MEMBER']]);
        const b = await makeTeam([[u2!, 'MEMBER']]);
        return { u1: u1!, u2: u2!, a, b };
      }),
    );
    for (let round = 0; round < 10; round++) {
      // Even rounds: u1 A->B and u2 B->A; odd rounds move them back.
      const results = await Promise.all(
        pairs.flatMap(({ u1, u2, a, b }) => {
          const [x, y] = round % 2 ? [b, a] : [a, b];
          return [
            t.gql(TRANSFER, { input: { userId: u1.gid, fromTeamId: x.gid, toTeamId: y.gid } }),
            t.gql(TRANSFER, { input: { userId: u2.gid, fromTeamId: y.gid, toTeamId: x.gid } }),
          ];
        }),
      );
      for (const r of results) {
        expect(r.errors).toBeUndefined();
        expectNoLeak(r);
        expect(r.data!.transferUser.__typename).toBe('TransferUserSuccess');
      }
      for (const { u1, u2, a, b } of pairs) {
        const [home1, home2] = round % 2 ? [a, b] : [b, a];
        expect(await rolesOf(u1, [a, b])).toEqual(home1 === a ? ['MEMBER', null] : [null, 'MEMBER']);
        expect(await rolesOf(u2, [a, b])).toEqual(home2 === a ? ['MEMBER', null] : [null, 'MEMBER']);
      }
    }
  });

  it.skipIf(!onPostgres)('two OWNERS transferred out to two different teams at once: exactly one succeeds', async () => {
    for (let round = 0; round < 15; round++) {
      const [o1, o2, m] = await makeUsers(3, `own-out-${round}`);
      const from = await makeTeam([
        [o1!, 'OWNER'],
        [o2!, 'OWNER'],
        [m!, 'MEMBER'],
      ]);
      const [to1, to2] = [await makeTeam(), await makeTeam()];
      const results = await Promise.all([
        transfer({ userId: o1!.gid, fromTeamId: from.gid, toTeamId: to1.gid }),
        transfer({ userId: o2!.gid, fromTeamId: from.gid, toTeamId: to2.gid }),
      ]);
      const list = kinds(results);
      expect(countOf(list, 'TransferUserSuccess')).toBe(1);
      expect(countOf(list, 'MembershipError')).toBe(1);
      const rows = await membershipsOf(from);
      expect(rows.filter((r) => r.role === 'OWNER')).toHaveLength(1);
      const moved = list[0] === 'TransferUserSuccess' ? [o1!, to1] : [o2!, to2];
      expect(await rolesOf(moved[0] as TestUser, [from, moved[1] as TestTeam])).toEqual([null, 'OWNER']);
    }
  });

  it.skipIf(!onPostgres)('deleting a user while they are added, removed and transferred: no errors, no memberships left', async () => {
    for (let round = 0; round < 15; round++) {
      const [user, owner] = await makeUsers(2, `del-race-${round}`);
      const a = await makeTeam([
        [user!, round % 2 ? 'OWNER' : 'MEMBER'],
        [owner!, 'OWNER'],
      ]);
      const [b, c] = [await makeTeam(), await makeTeam()];
      const results = await Promise.all([
        gql(TRANSFER, { input: { userId: user!.gid, fromTeamId: a.gid, toTeamId: b.gid } }),
        gql(ADD, { input: { teamId: c.gid, userId: user!.gid } }),
        gql(DELETE_USER, { id: user!.gid }),
        gql(REMOVE, { input: { teamId: a.gid, userId: user!.gid } }),
      ]);
      for (const r of results) expect(r.errors).toBeUndefined();
      const [moved, added, deleted, removed] = results.map((r) => Object.values(r.data!)[0] as { __typename: string });
      expect(deleted!.__typename).toBe('DeleteUserSuccess');
      expect(['TransferUserSuccess', 'NotFoundError', 'MembershipError']).toContain(moved!.__typename);
      expect(['AddTeamMemberSuccess', 'NotFoundError']).toContain(added!.__typename);
      expect(['RemoveTeamMemberSuccess', 'NotFoundError', 'MembershipError']).toContain(removed!.__typename);
      expect(await t.db.prisma.membership.count({ where: { userId: user!.id } })).toBe(0);
      expect(await rolesOf(owner!, [a])).toEqual(['OWNER']);
    }
  });

  it.skipIf(!onPostgres)('20 concurrent adds of one user to one team: exactly one succeeds', async () => {
    const user = await makeUser('add-race');
    const team = await makeTeam();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => add({ teamId: team.gid, userId: user.gid, role: i % 2 ? 'OWNER' : 'MEMBER' })));
    const list = kinds(results);
    expect(countOf(list, 'AddTeamMemberSuccess')).toBe(1);
    expect(countOf(list, 'MembershipError')).toBe(19);
    expect(await membershipsOf(team)).toHaveLength(1);
  });
});
