import DataLoader from 'dataloader';
import type { ProfileClient, UserProfile } from '../downstream/profile-client.js';
import { MAX_PROFILE_BATCH } from '../downstream/profile-client.js';
import type { PrismaClient, Team, User } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import type { RequestSignal } from '../request-signal.js';

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
   * Users by id with the relations plugin-prisma planned for the field (`query`): every lookup of one
   * shape in a tick is one statement with its nested pages (`relationLoadStrategy: 'join'`). A shape
   * without relations is userById, so it batches with node(id) and the other plain lookups.
   */
  userWith(query: PlannedQuery): DataLoader<string, User | null>;
  /** Users by email with planned relations, as `userWith`. */
  userByEmailWith(query: PlannedQuery): DataLoader<string, User | null>;
  /** Teams by id with planned relations, as `userWith`. */
  teamWith(query: PlannedQuery): DataLoader<string, Team | null>;
  /** Teams by slug with planned relations, as `userWith`. */
  teamBySlugWith(query: PlannedQuery): DataLoader<string, Team | null>;
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
  readonly signal: RequestSignal;
  readonly logger: Logger;
}

/** What plugin-prisma plans for a field returning a model: `{}`, `{ include }` or `{ select }`. */
export type PlannedQuery = { include?: object; select?: object };

/** Whether a planned query loads anything but the row's own columns. */
function plansRelations(query: PlannedQuery): boolean {
  return Object.keys(query.select ?? query.include ?? {}).length > 0 || query.select !== undefined;
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

const usersWith = (key: 'id' | 'email') => async (prisma: PrismaClient, query: PlannedQuery, keys: readonly string[]) => {
  const rows = await prisma.user.findMany({ ...query, where: { [key]: { in: [...keys] } }, relationLoadStrategy: 'join' });
  return byKeys(keys, rows, (u) => u[key], null);
};

const teamsWith = (key: 'id' | 'slug') => async (prisma: PrismaClient, query: PlannedQuery, keys: readonly string[]) => {
  const rows = await prisma.team.findMany({ ...query, where: { [key]: { in: [...keys] } }, relationLoadStrategy: 'join' });
  return byKeys(keys, rows, (t) => t[key], null);
};

/** Observes each batch (the dataloader_batch_size histogram). */
export type OnBatch = (loader: string, size: number) => void;

export function createLoaders(prisma: PrismaClient, viewerId?: string, onBatch: OnBatch = () => undefined, profiles?: ProfileSource): Loaders {
  const loader = <K, V>(name: string, batch: (prisma: PrismaClient, keys: readonly K[]) => Promise<V[]>) =>
    new DataLoader<K, V>((keys) => {
      onBatch(name, keys.length);
      return batch(prisma, keys);
    });
  const userById = loader('userById', usersById);
  const userByEmail = loader('userByEmail', usersByEmail);
  const teamById = loader('teamById', teamsById);
  const teamBySlug = loader('teamBySlug', teamsBySlug);
  /** One loader per planned shape (its JSON), made on first use in the request. */
  const byShape = <V>(name: string, plain: DataLoader<string, V>, batch: (p: PrismaClient, q: PlannedQuery, ids: readonly string[]) => Promise<V[]>) => {
    const loaders = new Map<string, DataLoader<string, V>>();
    return (query: PlannedQuery) => {
      if (!plansRelations(query)) return plain;
      const key = JSON.stringify(query);
      let shaped = loaders.get(key);
      if (!shaped) {
        shaped = loader(name, (p, ids: readonly string[]) => batch(p, query, ids));
        loaders.set(key, shaped);
      }
      return shaped;
    };
  };
  return {
    userById,
    userByEmail,
    teamById,
    teamBySlug,
    viewerOwnsTeam: loader('viewerOwnsTeam', (p, ids: readonly string[]) => teamsOwnedBy(p, viewerId, ids)),
    userWith: byShape('userWith', userById, usersWith('id')),
    userByEmailWith: byShape('userByEmailWith', userByEmail, usersWith('email')),
    teamWith: byShape('teamWith', teamById, teamsWith('id')),
    teamBySlugWith: byShape('teamBySlugWith', teamBySlug, teamsWith('slug')),
    profileByUserId: new DataLoader<string, UserProfile | null>(
      (ids) => {
        const client = profiles?.client;
        if (!client) return Promise.resolve(ids.map(() => null));
        onBatch('profileByUserId', ids.length);
        return client.load(ids, { signal: profiles.signal.asAbortSignal(), logger: profiles.logger });
      },
      { maxBatchSize: MAX_PROFILE_BATCH },
    ),
  };
}
