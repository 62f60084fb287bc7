import { describe, expect, it } from 'vitest';
import { createLoaders } from '../src/loaders/index.js';
import { makeTeam, makeUsers, NO_UUID } from './helpers/fixtures.js';
import { useTestApp } from './helpers/app.js';

/**
 * The lookups by key are raw statements (queryRows), not findMany: differential tests that they give
 * what Prisma's findMany gives for the same keys, in the keys' order, null for a key without a row.
 */
const t = useTestApp();

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
    const [owner, member] = await makeUsers(t, 2, 'loader-owner');
    const owned = await makeTeam(
      t,
      [
        [owner!, 'OWNER'],
        [member!, 'MEMBER'],
      ],
      'loader-owner',
    );
    const other = await makeTeam(t, [[member!, 'OWNER']], 'loader-owner');
    expect(await createLoaders(t.db.prisma, owner!.id).viewerOwnsTeam.loadMany([owned.id, other.id, NO_UUID])).toEqual([true, false, false]);
    expect(await createLoaders(t.db.prisma, member!.id).viewerOwnsTeam.loadMany([owned.id, other.id])).toEqual([false, true]);
    expect(await createLoaders(t.db.prisma).viewerOwnsTeam.load(owned.id)).toBe(false);
  });
});
