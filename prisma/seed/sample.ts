// The small, realistic sample dataset for development (and the embedded database's first start).
import type { Prisma, PrismaClient } from '../../src/generated/prisma/client.js';
import { deterministicUuid, type MembershipRow, type SeedCounts, type TeamRole, type TeamRow, type UserRow } from './rows.js';

/** mulberry32: a tiny seeded PRNG, so the "random" sample is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SAMPLE_PEOPLE = [
  'Amara Okafor',
  'Ben Hartley',
  'Chloé Dubois',
  'Daniel Kim',
  'Elena Petrova',
  'Farid Haddad',
  'Grace Liu',
  'Hiro Tanaka',
  'Isabel Moreno',
  'Jonas Weber',
  'Kavya Nair',
  'Liam O’Brien',
  'Maya Cohen',
  'Noah Fischer',
  'Olivia Bennett',
  'Pedro Alves',
  'Quinn Murphy',
  'Rosa Jiménez',
  'Samuel Osei',
  'Tara Singh',
  'Umar Siddiqui',
  'Valentina Rossi',
  'Wei Zhang',
  'Ximena Torres',
  'Zoë Müller',
] as const;
/** Indexes into SAMPLE_PEOPLE of the ADMINs. */
const SAMPLE_ADMINS: ReadonlySet<number> = new Set([0, 6]);
const SAMPLE_TEAMS = [
  { slug: 'platform', name: 'Platform' },
  { slug: 'payments', name: 'Payments' },
  { slug: 'identity', name: 'Identity & Access' },
  { slug: 'growth', name: 'Growth' },
  { slug: 'data', name: 'Data Engineering' },
  { slug: 'mobile', name: 'Mobile' },
] as const;
const SAMPLE_EPOCH = Date.UTC(2025, 2, 3, 9, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** `Chloé Dubois` → `chloe.dubois@example.com`: accents folded, punctuation dropped, lower case. */
function sampleEmail(name: string): string {
  const local = name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .split(/\s+/)
    .map((part) => part.replace(/[^a-z0-9]/g, ''))
    .join('.');
  return `${local}@example.com`;
}

/** The sample rows, computed without touching the database (same output every call). */
export function sampleDataset(): { users: UserRow[]; teams: TeamRow[]; memberships: MembershipRow[] } {
  const random = prng(20250303);
  const users: UserRow[] = SAMPLE_PEOPLE.map((name, i) => {
    const email = sampleEmail(name);
    // Sign-ups spread over a few months, at some hour of the working day.
    const createdAt = new Date(SAMPLE_EPOCH + i * 4 * DAY + Math.floor(random() * 9 * HOUR));
    const updatedAt = new Date(createdAt.getTime() + Math.floor(random() * 30) * DAY);
    return {
      id: deterministicUuid(`sample-user:${email}`),
      email,
      name,
      role: SAMPLE_ADMINS.has(i) ? 'ADMIN' : 'USER',
      createdAt,
      updatedAt,
    };
  });
  const teams: TeamRow[] = SAMPLE_TEAMS.map((team, j) => ({
    id: deterministicUuid(`sample-team:${team.slug}`),
    ...team,
    createdAt: new Date(SAMPLE_EPOCH + j * DAY),
  }));

  const memberships = new Map<string, MembershipRow>();
  const join = (u: UserRow, team: TeamRow, role: TeamRole) => {
    const key = `${u.id}:${team.id}`;
    if (memberships.has(key)) return;
    const after = Math.max(u.createdAt.getTime(), team.createdAt.getTime());
    memberships.set(key, { userId: u.id, teamId: team.id, role, joinedAt: new Date(after + Math.floor(random() * 7 * DAY)) });
  };
  // One OWNER per team, each a different person; then everyone joins one to three teams.
  teams.forEach((team, j) => join(users[j * 4]!, team, 'OWNER'));
  for (const user of users) {
    const count = 1 + Math.floor(random() * 3);
    const order = teams.map((team) => ({ team, key: random() })).sort((a, b) => a.key - b.key);
    for (const { team } of order.slice(0, count)) join(user, team, 'MEMBER');
  }
  return { users, teams, memberships: [...memberships.values()] };
}

/** Writes the sample dataset into an empty database, in one transaction. */
export async function seedSample(prisma: PrismaClient): Promise<SeedCounts> {
  const data = sampleDataset();
  return prisma.$transaction(async (tx: Prisma.TransactionClient) => {
    const users = (await tx.user.createMany({ data: data.users })).count;
    const teams = (await tx.team.createMany({ data: data.teams })).count;
    const memberships = (await tx.membership.createMany({ data: data.memberships })).count;
    return { users, teams, memberships };
  });
}
