import type { PrismaClient } from './generated/prisma/client.js';

/**
 * The development admin: a user with a fixed id and email that a new embedded database is seeded with
 * (and `npm run db:seed` adds), so the token GraphiQL opens with and `npm run token` make by default
 * belong to a real row and `{ me { email } }` answers. It is an ordinary row: it grants nothing by
 * itself; tokens do.
 */
export const DEVELOPMENT_ADMIN = Object.freeze({
  id: 'a0000000-0000-4000-8000-000000000001',
  email: 'admin@example.com',
  name: 'Development Admin',
  role: 'ADMIN',
} as const);

/** Creates the development admin unless a user with its id or email exists; true when it did. */
export async function ensureDevelopmentAdmin(prisma: PrismaClient): Promise<boolean> {
  const { count } = await prisma.user.createMany({ data: [{ ...DEVELOPMENT_ADMIN }], skipDuplicates: true });
  return count > 0;
}
