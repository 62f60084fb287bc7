// What both datasets write, and what the CLI does to a database before seeding it.
import { createHash } from 'node:crypto';
import type { PrismaClient } from '../../src/generated/prisma/client.js';

type Role = 'USER' | 'ADMIN';
export type TeamRole = 'MEMBER' | 'OWNER';

export interface UserRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt: Date;
  updatedAt: Date;
}
export interface TeamRow {
  id: string;
  slug: string;
  name: string;
  createdAt: Date;
}
export interface MembershipRow {
  userId: string;
  teamId: string;
  role: TeamRole;
  joinedAt: Date;
}

/** Row counts a seed wrote. */
export interface SeedCounts {
  readonly users: number;
  readonly teams: number;
  readonly memberships: number;
}

/**
 * A v4-shaped UUID derived from `key` (SHA-256, version and variant bits set), so the same key gives the
 * same id on every run and every machine.
 */
export function deterministicUuid(key: string): string {
  const b = createHash('sha256').update(key).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Deletes every Membership, Team and User row (children first), in one transaction. */
export async function resetDatabase(prisma: PrismaClient): Promise<void> {
  await prisma.$transaction([prisma.membership.deleteMany(), prisma.team.deleteMany(), prisma.user.deleteMany()]);
}

/** Users and teams already in the database (memberships cannot exist without both). */
export async function countExisting(prisma: PrismaClient): Promise<{ users: number; teams: number }> {
  const [users, teams] = await Promise.all([prisma.user.count(), prisma.team.count()]);
  return { users, teams };
}
