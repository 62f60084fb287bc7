import { describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.js';
import { createLoaders } from '../src/loaders/index.js';

// Nothing here reaches the database: these check which loader a lookup goes through, which decides
// what batches together (test/batching.test.ts counts the statements).
const prisma = {} as PrismaClient;

describe('request loaders', () => {
  it('are made on first use and then the same for the whole request', () => {
    const loaders = createLoaders(prisma);
    expect(loaders.userById).toBe(loaders.userById);
    expect(loaders.teamBySlug).toBe(loaders.teamBySlug);
    expect(loaders.userById).not.toBe(loaders.userByEmail);
    expect(createLoaders(prisma).userById).not.toBe(loaders.userById);
  });

  it('give one loader per planned shape, and the plain lookup for a shape without relations', () => {
    const loaders = createLoaders(prisma);
    expect(loaders.userWith({})).toBe(loaders.userById);
    expect(loaders.teamBySlugWith({ include: {} })).toBe(loaders.teamBySlug);
    const shape = { include: { memberships: { take: 5 } } };
    expect(loaders.userWith(shape)).toBe(loaders.userWith({ include: { memberships: { take: 5 } } }));
    expect(loaders.userWith(shape)).not.toBe(loaders.userWith({ include: { memberships: { take: 6 } } }));
    // The same shape under another lookup is another loader.
    expect(loaders.userByEmailWith(shape)).not.toBe(loaders.userWith(shape));
  });
});
