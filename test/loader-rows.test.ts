import { describe, expect, it } from 'vitest';
import { StatementTally } from '../src/db.js';
import { createLoaders } from '../src/loaders/index.js';
import { makeTeam, makeUsers, NO_UUID } from './helpers/fixtures.js';
import { useTestApp } from './helpers/app.js';

/**
 * The lookups by key are raw statements (queryRows), not findMany: differential tests that they give
 * what Prisma's findMany gives for the same keys, in the keys' order, null for a key without a row.
 */
const t = useTestApp();

/** Two users and a team the first owns and the second is a member of. */
async function ownerAndMember(tag: string) {
  const [owner, member] = await makeUsers(t, 2, tag);
  const team = await makeTeam(
    t,
    [
      [owner!, 'OWNER'],
      [member!, 'MEMBER'],
    ],
    tag,
  );
  return { owner: owner!, member: member!, team };
}

describe('loaders by key', () => {
  it('give the rows findMany gives: users by id and by email, teams by id and by slug', async () => {
    const [a, b] = await makeUsers(t, 2, 'loader-rows');
    const team = await makeTeam(t, [[a!, 'OWNER']], 'loader-rows');
    const loaders = createLoaders(t.db.prisma);
    const prisma = t.db.prisma;

    const byId = await loaders.userById.loadMany([b!.id, NO_UUID, a!.id]);
    const users = await prisma.user.findMany({ where: { id: { in: [a!.id, b!.id] } } });
    const user = (id: string) => users.find((u) => u.id === id);
    expect(byId).toEqual([user(b!.id), null, user(a!.id)]);

    expect(await loaders.userByEmail.loadMany([a!.email, 'nobody@example.com'])).toEqual([user(a!.id), null]);

    const row = await prisma.team.findUniqueOrThrow({ where: { id: team.id } });
    expect(await loaders.teamById.loadMany([NO_UUID, team.id])).toEqual([null, row]);
    expect(await loaders.teamBySlug.load(team.slug)).toEqual(row);
  });

  it('tell the teams the viewer owns, and none to a request without one', async () => {
    const { owner, member, team: owned } = await ownerAndMember('loader-owner');
    const other = await makeTeam(t, [[member, 'OWNER']], 'loader-owner');
    expect(await createLoaders(t.db.prisma, owner.id).viewerOwnsTeam.loadMany([owned.id, other.id, NO_UUID])).toEqual([true, false, false]);
    expect(await createLoaders(t.db.prisma, member.id).viewerOwnsTeam.loadMany([owned.id, other.id])).toEqual([false, true]);
    expect(await createLoaders(t.db.prisma).viewerOwnsTeam.load(owned.id)).toBe(false);
  });

  it('with planned relations: the rows findMany gives, in one page-sql statement', async () => {
    const { owner: a, member: b, team: one } = await ownerAndMember('loader-with');
    const two = await makeTeam(t, [[a, 'MEMBER']], 'loader-with');
    const teams = { orderBy: { teamId: 'asc' }, take: 5, skip: 0, select: { userId: true, teamId: true, role: true, joinedAt: true, team: true } } as const;
    const members = { orderBy: { userId: 'asc' }, take: 1, skip: 0, select: { userId: true, teamId: true, role: true, user: { select: { email: true } } } } as const;
    const prisma = t.db.prisma;
    const loaders = createLoaders(prisma);
    const tally = new StatementTally([]);
    const [users, byEmail, byId, bySlug] = await t.db.tally(tally, () =>
      Promise.all([
        loaders.userWith({ include: { memberships: teams } }).loadMany([b.id, NO_UUID, a.id]),
        loaders.userByEmailWith({ include: { memberships: teams } }).load(a.email),
        loaders.teamWith({ include: { memberships: members } }).loadMany([two.id, one.id]),
        loaders.teamBySlugWith({ select: { id: true, slug: true, memberships: members } }).load(one.slug),
      ]),
    );
    const userRows = await prisma.user.findMany({ where: { id: { in: [a.id, b.id] } }, include: { memberships: teams }, relationLoadStrategy: 'join' });
    const user = (id: string) => userRows.find((u) => u.id === id);
    expect(users).toEqual([user(b.id), null, user(a.id)]);
    expect(byEmail).toEqual(user(a.id));
    expect(user(a.id)!.memberships).toHaveLength(2);
    const teamRows = await prisma.team.findMany({ where: { id: { in: [one.id, two.id] } }, include: { memberships: members }, relationLoadStrategy: 'join' });
    expect(byId).toEqual([teamRows.find((r) => r.id === two.id), teamRows.find((r) => r.id === one.id)]);
    expect(bySlug).toEqual(await prisma.team.findUnique({ where: { slug: one.slug }, select: { id: true, slug: true, memberships: members } }));
    // One statement per loader, each page-sql's (a condition on the keys: `= $1` for one, `= ANY($1)` for
    // more), none of them Prisma's own.
    expect(tally.count).toBe(4);
    for (const text of tally.texts!) expect(text).toMatch(/= (ANY\(\$1::(uuid|text)\[\]\)|\$1::(uuid|text)\b)/);
  });
});
