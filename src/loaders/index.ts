import DataLoader from 'dataloader';
import type { ProfileClient, UserProfile } from '../downstream/profile-client.js';
import { MAX_PROFILE_BATCH } from '../downstream/profile-client.js';
import type { PrismaClient, Team, User } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';

/**
 * Request-scoped DataLoaders for lookups by key. Everything asked for in one
 * tick of a request becomes one `WHERE key IN (...)` statement, and a repeated key is read once.
 */
export interface Loaders {
  readonly userById: DataLoader<string, User | null>;
  readonly userByEmail: DataLoader<string, User | null>;
  readonly teamById: DataLoader<string, Team | null>;
  readonly teamBySlug: DataLoader<string, Team | null>;
  /** Whether the request's caller is an OWNER of each team (authorization). */
  readonly viewerOwnsTeam: DataLoader<string, boolean>;
  /**
   * Profiles from the profile service by user id: one call per batch in batch mode (one per id
   * otherwise), a repeated id asked once. Null for every id when no service is configured.
   */
  readonly profileByUserId: DataLoader<string, UserProfile | null>;
}

/** The profile service, and what its calls need from the request. */
export interface ProfileSource {
  readonly client: ProfileClient | undefined;
  /** The request's signal: its deadline and disconnect cancel the calls. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

/** Orders `rows` like `keys`, with `missing` where no row has that key (DataLoader's contract). */
function byKeys<K, R, M>(keys: readonly K[], rows: R[], keyOf: (row: R) => K, missing: M): (R | M)[] {
  const found = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => found.get(key) ?? missing);
}

async function usersById(prisma: PrismaClient, ids: readonly string[]) {
  const rows = await prisma.user.findMany({ where: { id: { in: [...ids] } } });
  return byKeys(ids, rows, (u) => u.id, null);
}

async function usersByEmail(prisma: PrismaClient, emails: readonly string[]) {
  const rows = await prisma.user.findMany({ where: { email: { in: [...emails] } } });
  return byKeys(emails, rows, (u) => u.email, null);
}

async function teamsById(prisma: PrismaClient, ids: readonly string[]) {
  const rows = await prisma.team.findMany({ where: { id: { in: [...ids] } } });
  return byKeys(ids, rows, (t) => t.id, null);
}

async function teamsBySlug(prisma: PrismaClient, slugs: readonly string[]) {
  const rows = await prisma.team.findMany({ where: { slug: { in: [...slugs] } } });
  return byKeys(slugs, rows, (t) => t.slug, null);
}

async function teamsOwnedBy(prisma: PrismaClient, userId: string | undefined, teamIds: readonly string[]) {
  if (!userId) return teamIds.map(() => false);
  const rows = await prisma.membership.findMany({
    where: { userId, teamId: { in: [...teamIds] }, role: 'OWNER' },
    select: { teamId: true },
  });
  const owned = new Set(rows.map((r) => r.teamId));
  return teamIds.map((id) => owned.has(id));
}

/** Observes each batch (the dataloader_batch_size histogram). */
export type OnBatch = (loader: string, size: number) => void;

export function createLoaders(
  prisma: PrismaClient,
  viewerId?: string,
  onBatch: OnBatch = () => undefined,
  profiles?: ProfileSource,
): Loaders {
  const loader = <K, V>(name: string, batch: (prisma: PrismaClient, keys: readonly K[]) => Promise<V[]>) =>
    new DataLoader<K, V>((keys) => {
      onBatch(name, keys.length);
      return batch(prisma, keys);
    });
  return {
    userById: loader('userById', usersById),
    userByEmail: loader('userByEmail', usersByEmail),
    teamById: loader('teamById', teamsById),
    teamBySlug: loader('teamBySlug', teamsBySlug),
    viewerOwnsTeam: loader('viewerOwnsTeam', (p, ids: readonly string[]) => teamsOwnedBy(p, viewerId, ids)),
    profileByUserId: new DataLoader<string, UserProfile | null>(
      (ids) => {
        const client = profiles?.client;
        if (!client) return Promise.resolve(ids.map(() => null));
        onBatch('profileByUserId', ids.length);
        return client.load(ids, { signal: profiles.signal, logger: profiles.logger });
      },
      { maxBatchSize: MAX_PROFILE_BATCH },
    ),
  };
}
