import DataLoader from 'dataloader';
import type { ProfileClient, UserProfile } from '../downstream/profile-client.js';
import { MAX_PROFILE_BATCH } from '../downstream/profile-client.js';
import { queryRows } from '../db.js';
import { Prisma, type PrismaClient, type Team, type User } from '../generated/prisma/client.js';
import { findPage, type PlannedQuery as PagePlan, UnsupportedQuery } from '../resolvers/page-sql.js';
import type { Logger } from '../logger.js';
import type { RequestSignal } from '../request-signal.js';
import { statementScope } from '../statement-scope.js';

/**
 * Request-scoped DataLoaders for lookups by key. Everything asked for in one
 * tick of a request becomes one `WHERE key IN (...)` statement, and a repeated key is read once. The
 * plain lookups by key also share that statement with the app's other requests (SharedLookups).
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

/** The model's columns, as findMany selects them (its scalar fields). */
const columnsOf = (fields: Record<string, string>) =>
  Prisma.raw(
    Object.values(fields)
      .map((f) => `"${f}"`)
      .join(', '),
  );
const USER_COLUMNS = columnsOf(Prisma.UserScalarFieldEnum);
const TEAM_COLUMNS = columnsOf(Prisma.TeamScalarFieldEnum);

// The lookups by key are raw statements through queryRows, not findMany: the same rows (the model's
// columns; test/loader-rows.test.ts compares them with findMany's) for less than half the CPU.

/**
 * `column` is one of `keys`: `= $1` for one key (most lookups), `= ANY($1)` for a batch. PostgreSQL
 * plans `= ANY($1)` anew on every execution (its generic plan, priced for an array of unknown length,
 * never beats the custom plan for a short one; test/prepared-statements.test.ts), which doubled the
 * database's CPU per node-by-id request; `= $1` runs on the connection's cached generic plan.
 */
function isOneOf(column: string, keys: readonly string[], cast: 'uuid' | 'text'): Prisma.Sql {
  const type = Prisma.raw(cast);
  return keys.length === 1 ? Prisma.sql`${Prisma.raw(column)} = ${keys[0]}::${type}` : Prisma.sql`${Prisma.raw(column)} = ANY(${keys}::${type}[])`;
}

/** The plain lookups by key: the statement for some keys, and each row's key. */
const LOOKUPS = {
  userById: { statement: (ids: readonly string[]) => Prisma.sql`SELECT ${USER_COLUMNS} FROM "User" WHERE ${isOneOf('"id"', ids, 'uuid')}`, key: (u: User) => u.id },
  userByEmail: { statement: (emails: readonly string[]) => Prisma.sql`SELECT ${USER_COLUMNS} FROM "User" WHERE ${isOneOf('"email"', emails, 'text')}`, key: (u: User) => u.email },
  teamById: { statement: (ids: readonly string[]) => Prisma.sql`SELECT ${TEAM_COLUMNS} FROM "Team" WHERE ${isOneOf('"id"', ids, 'uuid')}`, key: (t: Team) => t.id },
  teamBySlug: { statement: (slugs: readonly string[]) => Prisma.sql`SELECT ${TEAM_COLUMNS} FROM "Team" WHERE ${isOneOf('"slug"', slugs, 'text')}`, key: (t: Team) => t.slug },
} as const;
type LookupName = keyof typeof LOOKUPS;
type LookupRow<N extends LookupName> = N extends 'userById' | 'userByEmail' ? User : Team;

async function lookup<N extends LookupName>(prisma: PrismaClient, name: N, keys: readonly string[]): Promise<(LookupRow<N> | null)[]> {
  const { statement, key } = LOOKUPS[name] as { statement: (keys: readonly string[]) => Prisma.Sql; key: (row: LookupRow<N>) => string };
  const rows = await queryRows<LookupRow<N>>(prisma, statement(keys));
  return byKeys(keys, rows, key, null);
}

/** Most keys in one shared lookup statement; more (many requests, or one request's aliased `nodes`) are split. */
const MAX_SHARED_BATCH = 500;

/**
 * The plain lookups by key (a user or team by id, email or slug: rows every caller sees alike), shared
 * by the concurrent requests of one app: what they ask for before the event loop's next check phase
 * (`setImmediate`) is one statement. Under node by id's load about four requests shared each statement,
 * and the server answered 1.25-1.8x as many a second (README, "Lookups shared across requests").
 *
 * Only the statement is shared, never a row between one request and the next: nothing is cached here
 * (`cache: false`), and each request keeps its own loader in front (its cache, its batches). Requests
 * that asked for one key in one statement get the same row object, so nothing may write to a row (Pothos
 * marks one with its type, which is the same for every request; its per-request caches are keyed by the
 * context, not by rows). The statement belongs to no request (it runs outside every statement scope): a
 * request answered at its deadline does not cancel it for the others, and does not wait for it (see
 * `RequestLoaders`).
 */
export class SharedLookups {
  readonly #loaders = new Map<LookupName, DataLoader<string, User | Team | null>>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly onBatch: OnBatch = () => undefined,
  ) {}

  /** The rows of `keys` (null where none), or the statement's error in each place. */
  load<N extends LookupName>(name: N, keys: readonly string[]): Promise<(LookupRow<N> | null | Error)[]> {
    let loader = this.#loaders.get(name);
    if (!loader) {
      loader = new DataLoader<string, User | Team | null>(
        (batch) =>
          statementScope.exit(() => {
            this.onBatch(name, batch.length);
            return lookup(this.prisma, name, batch);
          }),
        { cache: false, batchScheduleFn: (dispatch) => setImmediate(dispatch), maxBatchSize: MAX_SHARED_BATCH },
      );
      this.#loaders.set(name, loader);
    }
    return loader.loadMany(keys) as Promise<(LookupRow<N> | null | Error)[]>;
  }
}

async function teamsOwnedBy(prisma: PrismaClient, userId: string | undefined, teamIds: readonly string[]) {
  if (!userId) return teamIds.map(() => false);
  const rows = await queryRows<{ teamId: string }>(
    prisma,
    Prisma.sql`SELECT "teamId" FROM "Membership" WHERE "userId" = ${userId}::uuid AND ${isOneOf('"teamId"', teamIds, 'uuid')} AND "role" = 'OWNER'`,
  );
  const owned = new Set(rows.map((r) => r.teamId));
  return teamIds.map((id) => owned.has(id));
}

/**
 * Rows of `modelName` by `key` with the relations plugin-prisma planned, in one statement: page-sql
 * compiles the planned query (its nested pages included) with the keys as its condition; a shape it
 * does not compile (UnsupportedQuery, raised before anything is sent) runs as Prisma's findMany.
 */
async function rowsWith<T>(
  prisma: PrismaClient,
  modelName: 'User' | 'Team',
  key: 'id' | 'email' | 'slug',
  query: PlannedQuery,
  keys: readonly string[],
  findMany: () => Promise<T[]>,
) {
  try {
    const where = (alias: string) => isOneOf(`"${alias}"."${key}"`, keys, key === 'id' ? 'uuid' : 'text');
    return (await findPage<T>(prisma, modelName, { ...query, orderBy: { [key]: 'asc' } } as PagePlan, { where, withCount: false })).rows;
  } catch (error) {
    if (!(error instanceof UnsupportedQuery)) throw error;
    return findMany();
  }
}

const usersWith = (key: 'id' | 'email') => async (prisma: PrismaClient, query: PlannedQuery, keys: readonly string[]) => {
  const rows = await rowsWith<User>(prisma, 'User', key, query, keys, () => prisma.user.findMany({ ...query, where: { [key]: { in: [...keys] } }, relationLoadStrategy: 'join' }));
  return byKeys(keys, rows, (u) => u[key], null);
};

const teamsWith = (key: 'id' | 'slug') => async (prisma: PrismaClient, query: PlannedQuery, keys: readonly string[]) => {
  const rows = await rowsWith<Team>(prisma, 'Team', key, query, keys, () => prisma.team.findMany({ ...query, where: { [key]: { in: [...keys] } }, relationLoadStrategy: 'join' }));
  return byKeys(keys, rows, (t) => t[key], null);
};

const usersWithId = usersWith('id');
const usersWithEmail = usersWith('email');
const teamsWithId = teamsWith('id');
const teamsWithSlug = teamsWith('slug');

/** Observes each batch (the dataloader_batch_size histogram). */
export type OnBatch = (loader: string, size: number) => void;

/**
 * The request's loaders, each made on first use: a request reads through one or two of them (node by
 * id: userById), and making all of them (each DataLoader with its cache map, options and closures)
 * on every request cost node by id 31 µs and createUser 46 µs per request (in-process A/B).
 */
class RequestLoaders implements Loaders {
  #userById?: DataLoader<string, User | null>;
  #userByEmail?: DataLoader<string, User | null>;
  #teamById?: DataLoader<string, Team | null>;
  #teamBySlug?: DataLoader<string, Team | null>;
  #viewerOwnsTeam?: DataLoader<string, boolean>;
  #profileByUserId?: DataLoader<string, UserProfile | null>;
  /** One loader per planned shape (its JSON) and lookup, made on first use in the request. */
  #shaped?: Map<string, DataLoader<string, User | Team | null>>;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly viewerId: string | undefined,
    private readonly onBatch: OnBatch,
    private readonly profiles: ProfileSource | undefined,
    private readonly lookups: SharedLookups | undefined,
  ) {}

  #loader<K, V>(name: string, batch: (prisma: PrismaClient, keys: readonly K[]) => Promise<V[]>): DataLoader<K, V> {
    return new DataLoader<K, V>((keys) => {
      this.onBatch(name, keys.length);
      return batch(this.prisma, keys);
    });
  }

  /**
   * The request's loader of a plain lookup: its own cache and batches, each batch sent through the
   * app's SharedLookups when there are any (else its own statement, as every other loader here). A
   * shared statement is not one of the request's (see SharedLookups), but the request is charged one
   * statement per batch, as if it had sent it (the SQL budget: an N+1 pattern still counts N). Like a
   * statement of its own, a batch of a request whose signal has aborted is refused, not sent.
   */
  #lookup<N extends LookupName>(name: N): DataLoader<string, LookupRow<N> | null> {
    const lookups = this.lookups;
    if (!lookups) return this.#loader(name, (prisma, keys: readonly string[]) => lookup(prisma, name, keys));
    return new DataLoader<string, LookupRow<N> | null>(async (keys) => {
      const tally = statementScope.getStore();
      if (tally?.signal?.aborted) throw tally.signal.reason;
      const values = await lookups.load(name, keys);
      if (tally && !values.every((value) => value instanceof Error)) tally.charge(tally.texts && LOOKUPS[name].statement(keys).text);
      return values;
    });
  }

  get userById() {
    return (this.#userById ??= this.#lookup('userById'));
  }
  get userByEmail() {
    return (this.#userByEmail ??= this.#lookup('userByEmail'));
  }
  get teamById() {
    return (this.#teamById ??= this.#lookup('teamById'));
  }
  get teamBySlug() {
    return (this.#teamBySlug ??= this.#lookup('teamBySlug'));
  }
  get viewerOwnsTeam() {
    return (this.#viewerOwnsTeam ??= this.#loader('viewerOwnsTeam', (p, ids: readonly string[]) => teamsOwnedBy(p, this.viewerId, ids)));
  }

  /** The loader of `name` for `query`'s shape; a shape without relations is the plain lookup `plain`. */
  #byShape<V extends User | Team>(
    name: string,
    plain: DataLoader<string, V | null>,
    batch: (p: PrismaClient, q: PlannedQuery, keys: readonly string[]) => Promise<(V | null)[]>,
    query: PlannedQuery,
  ): DataLoader<string, V | null> {
    if (!plansRelations(query)) return plain;
    const key = `${name} ${JSON.stringify(query)}`;
    const shaped = (this.#shaped ??= new Map());
    let loader = shaped.get(key) as DataLoader<string, V | null> | undefined;
    if (!loader) {
      loader = this.#loader(name, (p, keys: readonly string[]) => batch(p, query, keys));
      shaped.set(key, loader);
    }
    return loader;
  }

  userWith(query: PlannedQuery) {
    return this.#byShape('userWith', this.userById, usersWithId, query);
  }
  userByEmailWith(query: PlannedQuery) {
    return this.#byShape('userByEmailWith', this.userByEmail, usersWithEmail, query);
  }
  teamWith(query: PlannedQuery) {
    return this.#byShape('teamWith', this.teamById, teamsWithId, query);
  }
  teamBySlugWith(query: PlannedQuery) {
    return this.#byShape('teamBySlugWith', this.teamBySlug, teamsWithSlug, query);
  }

  get profileByUserId() {
    return (this.#profileByUserId ??= new DataLoader<string, UserProfile | null>(
      (ids) => {
        const profiles = this.profiles;
        if (!profiles?.client) return Promise.resolve(ids.map(() => null));
        this.onBatch('profileByUserId', ids.length);
        return profiles.client.load(ids, { signal: profiles.signal.asAbortSignal(), logger: profiles.logger });
      },
      { maxBatchSize: MAX_PROFILE_BATCH },
    ));
  }
}

/**
 * A request's loaders. With `lookups` (the app's), its plain lookups by key share their statements
 * with the app's other requests; without, every batch is a statement of the request's own.
 */
export function createLoaders(prisma: PrismaClient, viewerId?: string, onBatch: OnBatch = () => undefined, profiles?: ProfileSource, lookups?: SharedLookups): Loaders {
  return new RequestLoaders(prisma, viewerId, onBatch, profiles, lookups);
}
