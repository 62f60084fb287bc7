import { z } from 'zod';
import { queryRows } from '../db.js';
import { isPostgresError } from '../errors/database.js';
import { Prisma, type PrismaClient, type Role, type User } from '../generated/prisma/client.js';
import { column, type EventPayload, eventRecorder, isoTimestamp, recordEvent } from '../events/index.js';
import { parseGlobalIdOf, toGlobalId } from '../ids.js';
import { classifyDatabaseError, EmailTakenError, NotFoundError, ValidationError, VersionConflictError } from './errors.js';
import { email, globalId, MAX_LENGTH, text, validate } from './validation.js';
import { StatementTally, statementScope } from '../statement-scope.js';

export class CreateUserSuccess {
  constructor(readonly user: User) {}
}
export class UpdateUserSuccess {
  constructor(readonly user: User) {}
}
export class DeleteUserSuccess {
  constructor(readonly deletedUserId: string) {}
}

export type CreateUserResult = CreateUserSuccess | ValidationError | EmailTakenError;
export type UpdateUserResult = UpdateUserSuccess | ValidationError | EmailTakenError | NotFoundError | VersionConflictError;
export type DeleteUserResult = DeleteUserSuccess | NotFoundError;

const createUserInput = z.object({
  email,
  name: text(1, MAX_LENGTH.name),
  role: z.enum(['USER', 'ADMIN']).nullish(),
});

const userId = z.object({ id: globalId });

const updateUserInput = z.object({
  email: email.nullish(),
  name: text(1, MAX_LENGTH.name).nullish(),
  role: z.enum(['USER', 'ADMIN']).nullish(),
  expectedVersion: z.number().int().min(1, 'must be at least 1').nullish(),
});

// Each mutation below is one statement: PostgreSQL runs it as its own transaction, so the row and its
// outbox event commit together with no BEGIN/COMMIT round trips (see recordEvent for the event order).
// Prisma's query builder cannot write a row and another table's row in one statement, hence raw SQL
// (Prisma.sql tagged templates, run by queryRows: every value a bind parameter).

/**
 * user.created, from the inserted row's columns (not the whole row: no internal counters). Each
 * statement's row carries the traceparent of the span it is written in.
 */
const userCreatedEvent = eventRecorder('user.created', {
  from: 'created',
  aggregateId: column('id'),
  payload: {
    id: column('id'),
    email: column('email'),
    name: column('name'),
    role: column('role'),
    version: column('version'),
    createdAt: isoTimestamp('"createdAt"'),
    updatedAt: isoTimestamp('"updatedAt"'),
  },
});

/**
 * One INSERT ... ON CONFLICT DO NOTHING: uniqueness is the unique index's job, so of concurrent creates
 * of one email exactly one inserts (the others wait for it, then do nothing) and no error round trip.
 * With `shared` (the app's SharedCreates), the insert is grouped with other requests' creates into one
 * statement; when that statement failed without writing anything, this request sends its own.
 */
export async function createUser(prisma: PrismaClient, input: { email: string; name: string; role?: Role | null }, shared?: SharedCreates): Promise<CreateUserResult> {
  const data = validate(createUserInput, input);
  if (data instanceof ValidationError) return data;
  if (shared) {
    const user = await shared.create(data);
    if (user !== undefined) return user ? new CreateUserSuccess(user) : new EmailTakenError(data.email);
  }
  const [user] = await queryRows<User>(prisma, createUsersStatement([data]));
  return user ? new CreateUserSuccess(user) : new EmailTakenError(data.email);
}

type NewUser = z.infer<typeof createUserInput>;

/** Most creates in one grouped statement; more wait for the next. */
const MAX_SHARED_CREATES = 500;

/**
 * The statement creating `users`, each with its user.created event: `VALUES` for one, and for a group
 * an INSERT ... SELECT FROM unnest(...) of the rows in the order they were asked for (so of two with
 * one email, the first inserts). The group spells out the role column's default (USER): an INSERT ...
 * SELECT has no DEFAULT per row (test/shared-creates.test.ts compares the two).
 */
function createUsersStatement(users: readonly NewUser[]): Prisma.Sql {
  let rows: Prisma.Sql;
  if (users.length === 1) {
    const [{ email, name, role }] = users as [NewUser];
    rows = Prisma.sql`VALUES (${email}, ${name}, ${role ? Prisma.sql`${role}::"Role"` : Prisma.sql`DEFAULT`})`;
  } else {
    const emails = users.map((u) => u.email);
    const names = users.map((u) => u.name);
    const roles = users.map((u) => u.role ?? null);
    rows = Prisma.sql`
      SELECT i."email", i."name", coalesce(i."role", 'USER'::"Role")
      FROM unnest(${emails}::varchar[], ${names}::varchar[], ${roles}::"Role"[]) WITH ORDINALITY AS i("email", "name", "role", "n")
      ORDER BY i."n"`;
  }
  return Prisma.sql`
    WITH created AS (
      INSERT INTO "User" ("email", "name", "role") ${rows}
      ON CONFLICT ("email") DO NOTHING
      RETURNING *),
    event AS (${userCreatedEvent()})
    SELECT * FROM created`;
}

/** A create waiting for its group's statement, and the scope of the request that asked for it. */
interface PendingCreate {
  readonly user: NewUser;
  readonly tally: StatementTally | undefined;
  readonly resolve: (user: User | null | undefined) => void;
  readonly reject: (error: unknown) => void;
  answered: boolean;
}

interface CreateGroup {
  readonly members: PendingCreate[];
  /** The scope the group's statement is sent in: each member's request joins it while it waits. */
  readonly scope: StatementTally;
}

/**
 * createUser's inserts grouped across the app's concurrent requests: the creates asked for before the
 * event loop's next check phase (`setImmediate`) are one INSERT ... SELECT FROM unnest(...) with their
 * events, one statement and one implicit transaction instead of one each (README, "Creates grouped
 * across requests"). Each request gets the answer its own statement would have given:
 * - its user, or EMAIL_TAKEN when the email was taken (before, or by an earlier create of the group:
 *   the group inserts in the order the creates were asked for, and sends each email once);
 * - the request's deadline holds as for its own statement. A request past its deadline joins no group;
 *   one that passes it while the group's statement runs cancels that statement (its scope joined the
 *   group's, see `StatementTally.joined`) and is answered once it ended: no write of its commits later.
 * - when the group's statement failed with an error from PostgreSQL (it rolled back: nothing was
 *   written), the others each send their own statement (`create` resolves undefined), so a cancelled
 *   group or one row PostgreSQL refused fails nobody else. Any other failure (the connection lost, no
 *   answer: the outcome unknown) is every member's, as it would have been for its own statement.
 * Each request is charged one statement (the SQL budget). Not used with tracing on: a grouped
 * statement's span and its events' traceparent would belong to no one request.
 */
export class SharedCreates {
  // Its own queue, not a DataLoader as SharedLookups': a create refused before the statement is sent
  // (its request past its deadline) is answered at once, where a DataLoader answers every key of a
  // batch only when the batch function has returned, after the others' statement.
  #group: CreateGroup | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly onBatch: (size: number) => void = () => undefined,
  ) {}

  /** The new user, null when its email is taken, or undefined when the caller must send its own statement. */
  async create(user: NewUser): Promise<User | null | undefined> {
    const tally = statementScope.getStore();
    if (tally?.signal?.aborted) throw tally.signal.reason;
    let group = this.#group;
    if (!group || group.members.length >= MAX_SHARED_CREATES) {
      const next: CreateGroup = { members: [], scope: new StatementTally() };
      this.#group = group = next;
      setImmediate(() => void this.#send(next));
    }
    const { members, scope } = group;
    return await new Promise((resolve, reject) => {
      members.push({ user, tally, resolve, reject, answered: false });
      if (tally) {
        tally.start();
        tally.joined = scope;
      }
    });
  }

  async #send(group: CreateGroup): Promise<void> {
    if (this.#group === group) this.#group = undefined;
    try {
      await this.#run(group);
    } catch (error) {
      // Nothing above should throw past its own handling; should it, no member is left waiting.
      for (const member of group.members) answer(member, () => member.reject(error));
    }
  }

  async #run({ members, scope }: CreateGroup): Promise<void> {
    const sent: PendingCreate[] = [];
    for (const member of members) {
      const signal = member.tally?.signal;
      // Past its deadline while it waited: refused, as its own statement would be.
      if (signal?.aborted) answer(member, () => member.reject(signal.reason));
      else sent.push(member);
    }
    if (sent.length === 0) return;
    const first = new Map<string, PendingCreate>();
    for (const member of sent) if (!first.has(member.user.email)) first.set(member.user.email, member);
    const statement = createUsersStatement([...first.values()].map((m) => m.user));
    this.onBatch(sent.length);
    let created: User[];
    try {
      created = await statementScope.run(scope, () => queryRows<User>(this.prisma, statement));
    } catch (error) {
      const rolledBack = isPostgresError(error);
      for (const member of sent) {
        const signal = member.tally?.signal;
        if (signal?.aborted) answer(member, () => member.reject(signal.reason));
        else answer(member, rolledBack ? () => member.resolve(undefined) : () => member.reject(error));
      }
      return;
    }
    const byEmail = new Map(created.map((u) => [u.email, u]));
    for (const member of sent) {
      member.tally?.charge(member.tally.texts && statement.text);
      const user = first.get(member.user.email) === member ? byEmail.get(member.user.email) : undefined;
      answer(member, () => member.resolve(user ?? null));
    }
  }
}

/** Answers a member once: its request stops waiting on the group's statement (its scope leaves the group's). */
function answer(member: PendingCreate, settle: () => void): void {
  if (member.answered) return;
  member.answered = true;
  const { tally } = member;
  if (tally) {
    tally.joined = undefined;
    tally.end();
  }
  settle();
}

/**
 * Optimistic concurrency in one statement. `current` locks the row (FOR NO KEY UPDATE, as the UPDATE
 * would) and, having waited for any concurrent writer, reads its newest version; the UPDATE applies
 * only when that version is the expected one. A refusal therefore reports the version the row has
 * now, not the older one of the statement's snapshot.
 */
export async function updateUser(
  prisma: PrismaClient,
  input: { id: string; email?: string | null; name?: string | null; role?: Role | null; expectedVersion?: number | null },
): Promise<UpdateUserResult> {
  // An ID longer than any global ID names nobody; refused before it is decoded (or echoed back).
  const tooLongId = validate(userId, { id: input.id });
  if (tooLongId instanceof ValidationError) return tooLongId;
  const id = parseGlobalIdOf('User', input.id);
  if (!id) return new NotFoundError(input.id, 'user');
  const { id: _globalId, ...fields } = input;
  const data = validate(updateUserInput, fields);
  if (data instanceof ValidationError) return data;

  const changes: EventPayload<'user.updated'>['changes'] = {};
  if (data.email != null) changes.email = data.email;
  if (data.name != null) changes.name = data.name;
  if (data.role != null) changes.role = data.role;
  let rows: (Partial<User> & { currentVersion: number })[];
  try {
    rows = await queryRows(
      prisma,
      Prisma.sql`
      WITH current AS MATERIALIZED (
        SELECT "id", "version" FROM "User" WHERE "id" = ${id}::uuid FOR NO KEY UPDATE),
      updated AS (
        UPDATE "User" u SET
          "email" = coalesce(${data.email ?? null}::varchar, u."email"),
          "name" = coalesce(${data.name ?? null}::varchar, u."name"),
          "role" = coalesce(${data.role ?? null}::"Role", u."role"),
          "version" = u."version" + 1,
          "updatedAt" = clock_timestamp()
        FROM current c
        WHERE u."id" = c."id" AND (${data.expectedVersion ?? null}::int IS NULL OR c."version" = ${data.expectedVersion ?? null}::int)
        RETURNING u.*),
      event AS (${recordEvent('user.updated', {
        from: 'updated',
        aggregateId: column('id'),
        payload: {
          id: column('id'),
          changes: Prisma.sql`${JSON.stringify(changes)}::jsonb`,
          version: column('version'),
          updatedAt: isoTimestamp('"updatedAt"'),
        },
      })})
      SELECT c."version" AS "currentVersion", u.* FROM current c LEFT JOIN updated u ON true`,
    );
  } catch (error) {
    if (classifyDatabaseError(error)?.kind === 'unique' && data.email != null) return new EmailTakenError(data.email);
    throw error;
  }
  const [row] = rows;
  if (!row) return new NotFoundError(input.id, 'user');
  const { currentVersion, ...user } = row;
  return user.id ? new UpdateUserSuccess(user as User) : new VersionConflictError(currentVersion);
}

/**
 * Deletes the user; their memberships go by ON DELETE CASCADE and the membership triggers keep the
 * teams' counts. Lock order, the same in every mutation: the user row, then team rows in id order,
 * then membership rows. The cascade deletes membership rows and the trigger then updates the teams,
 * so the teams must be locked first, and the statement can only name them from its snapshot, which
 * is taken before it waits for the user row: a membership committed during that wait would be missed.
 * Every membership change also updates the user row (its teamCount), so "the user row we locked is
 * the version our snapshot sees" proves the snapshot's list of teams complete. When it is not (the
 * user changed while we waited), the same statement runs again in a transaction that first locks the
 * user row: its snapshot then comes after the lock, when no membership of the user can change.
 */
export async function deleteUser(prisma: PrismaClient, input: { id: string }): Promise<DeleteUserResult> {
  const id = parseGlobalIdOf('User', input.id);
  if (!id) return new NotFoundError(input.id, 'user');
  let [row] = await queryRows<DeleteRow>(prisma, deleteUserStatement(id));
  if (row?.found && !row.deleted) {
    [row] = await prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT 1 FROM "User" WHERE "id" = ${id}::uuid FOR UPDATE`;
      return tx.$queryRaw<DeleteRow[]>(deleteUserStatement(id));
    });
    if (row?.found && !row.deleted) throw new Error('deleteUser: the user row changed while locked');
  }
  return row?.deleted ? new DeleteUserSuccess(toGlobalId('User', id)) : new NotFoundError(input.id, 'user');
}

interface DeleteRow {
  found: boolean;
  deleted: boolean;
}

function deleteUserStatement(id: string): Prisma.Sql {
  return Prisma.sql`
    WITH target AS MATERIALIZED (
      SELECT "id", xmin FROM "User" WHERE "id" = ${id}::uuid FOR UPDATE),
    unchanged AS MATERIALIZED (
      SELECT s."id" FROM "User" s JOIN target t ON s."id" = t."id" AND s.xmin = t.xmin),
    teams AS MATERIALIZED (
      SELECT "id" FROM "Team"
      WHERE "id" IN (SELECT "teamId" FROM "Membership" WHERE "userId" = (SELECT "id" FROM unchanged))
      ORDER BY "id" FOR NO KEY UPDATE),
    deleted AS (
      DELETE FROM "User" WHERE "id" = (SELECT "id" FROM unchanged) AND (SELECT count(*) FROM teams) >= 0
      RETURNING "id"),
    event AS (${recordEvent('user.deleted', {
      from: 'deleted',
      aggregateId: column('id'),
      // `teams` is complete: see above (the snapshot's memberships are those the cascade deletes).
      payload: { id: column('id'), teamIds: Prisma.sql`(SELECT coalesce(jsonb_agg("id" ORDER BY "id"), '[]'::jsonb) FROM teams)` },
    })})
    SELECT EXISTS (SELECT FROM target) AS "found", EXISTS (SELECT FROM deleted) AS "deleted"`;
}

export interface UserFilterInput {
  search?: string | null;
  role?: Role | null;
  teamId?: string | null;
}

/** The WHERE clause of the `users` connection. An unknown or malformed team id matches nobody. */
export function userFilterWhere(filter: UserFilterInput | null | undefined): Prisma.UserWhereInput {
  if (!filter) return {};
  const where: Prisma.UserWhereInput = {};
  // Prisma passes `contains` through to ILIKE as is: escape its wildcards so they match literally.
  const search = filter.search?.trim().replace(/[\\%_]/g, (c) => `\\${c}`);
  if (search) {
    where.OR = [{ name: { contains: search, mode: 'insensitive' } }, { email: { contains: search, mode: 'insensitive' } }];
  }
  if (filter.role) where.role = filter.role;
  if (filter.teamId != null) {
    const teamId = parseGlobalIdOf('Team', filter.teamId);
    if (teamId) where.memberships = { some: { teamId } };
    else where.id = { in: [] };
  }
  return where;
}

export type UserOrderField = 'CREATED_AT' | 'NAME' | 'EMAIL';
const ORDER_COLUMN = { CREATED_AT: 'createdAt', NAME: 'name', EMAIL: 'email' } as const;

/** Every order ends with the id, so ties in the sort key still page deterministically. */
export function userOrderBy(order: { field: UserOrderField; direction: 'ASC' | 'DESC' } | null | undefined) {
  const direction = order?.direction === 'DESC' ? 'desc' : 'asc';
  const column = ORDER_COLUMN[order?.field ?? 'CREATED_AT'];
  return [{ [column]: direction }, { id: direction }] as Prisma.UserOrderByWithRelationInput[];
}

/** userFilterWhere as a SQL condition on the User row aliased `alias`, for the one-statement page. */
export function userFilterSql(filter: UserFilterInput | null | undefined): (alias: string) => Prisma.Sql {
  const search = filter?.search?.trim().replace(/[\\%_]/g, (c) => `\\${c}`);
  const role = filter?.role ?? null;
  const teamId = filter?.teamId == null ? undefined : parseGlobalIdOf('Team', filter.teamId);
  return (alias) => {
    const u = (column: string) => Prisma.raw(`"${alias}"."${column}"`);
    const conditions: Prisma.Sql[] = [Prisma.sql`true`];
    // ILIKE with the wildcards escaped, as Prisma's `contains` + `mode: 'insensitive'`.
    if (search) conditions.push(Prisma.sql`(${u('name')} ILIKE ${`%${search}%`} OR ${u('email')} ILIKE ${`%${search}%`})`);
    if (role) conditions.push(Prisma.sql`${u('role')} = ${role}::"Role"`);
    if (teamId === null) conditions.push(Prisma.sql`false`);
    else if (teamId) {
      conditions.push(Prisma.sql`EXISTS (SELECT FROM "Membership" m WHERE m."userId" = ${u('id')} AND m."teamId" = ${teamId}::uuid)`);
    }
    return Prisma.join(conditions, ' AND ');
  };
}

/**
 * The totalCount of the users connection when the filter is only a team: that team's memberCount
 * (exact, kept by the membership triggers, read in the same statement), so counting the members of
 * a team of 100,000 costs one row, not 100,000. Undefined when another condition is set.
 */
export function userFilterCountSql(filter: UserFilterInput | null | undefined): Prisma.Sql | undefined {
  if (filter?.teamId == null || filter.search?.trim() || filter.role) return undefined;
  const teamId = parseGlobalIdOf('Team', filter.teamId);
  return teamId ? Prisma.sql`(SELECT "memberCount" FROM "Team" WHERE "id" = ${teamId}::uuid)` : Prisma.sql`0`;
}

/** The users connection's totalCount alone (no page asked): the counter when it answers, else a COUNT. */
export async function countUsers(prisma: PrismaClient, filter: UserFilterInput | null | undefined): Promise<number> {
  const counter = userFilterCountSql(filter);
  if (!counter) return prisma.user.count({ where: userFilterWhere(filter) });
  const [row] = await queryRows<{ n: number }>(prisma, Prisma.sql`SELECT coalesce(${counter}, 0)::int AS "n"`);
  return row?.n ?? 0;
}
