import DataLoader from 'dataloader';
import type { PrismaClient, Team, User } from '../generated/prisma/client.js';

/**
 * Request-scoped DataLoaders for lookups by key. Everything asked for in one tick of a request becomes
 * one `WHERE key IN (...)` statement, and a repeated key is read once per request.
 */
export interface Loaders {
  readonly userById: DataLoader<string, User | null>;
  readonly userByEmail: DataLoader<string, User | null>;
  readonly teamById: DataLoader<string, Team | null>;
}

/** Orders `rows` like `keys`, with null where no row has that key (DataLoader's contract). */
function byKeys<K, R>(keys: readonly K[], rows: R[], keyOf: (row: R) => K): (R | null)[] {
  const found = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => found.get(key) ?? null);
}

async function batchUsersById(prisma: PrismaClient, ids: readonly string[]) {
  const rows = await prisma.user.findMany({ where: { id: { in: [...ids] } } });
  return byKeys(ids, rows, (u) => u.id);
}

async function batchUsersByEmail(prisma: PrismaClient, emails: readonly string[]) {
  const rows = await prisma.user.findMany({ where: { email: { in: [...emails] } } });
  return byKeys(emails, rows, (u) => u.email);
}

async function batchTeamsById(prisma: PrismaClient, ids: readonly string[]) {
  const rows = await prisma.team.findMany({ where: { id: { in: [...ids] } } });
  return byKeys(ids, rows, (t) => t.id);
}

export function createLoaders(prisma: PrismaClient): Loaders {
  return {
    userById: new DataLoader((ids) => batchUsersById(prisma, ids)),
    userByEmail: new DataLoader((emails) => batchUsersByEmail(prisma, emails)),
    teamById: new DataLoader((ids) => batchTeamsById(prisma, ids)),
  };
}
