import { queryRows } from '../db.js';
import { Prisma, type PrismaClient, type Team, type TeamRole, type User } from '../generated/prisma/client.js';
import { parseGlobalIdOf } from '../ids.js';
import { ForbiddenError, MembershipError, NotFoundError } from './errors.js';
import { addMemberStatement, type Caller, removeMemberStatement, type StatementRow, transferStatement } from './membership-sql.js';

/*
 * Membership changes, one statement each (membership-sql.ts). Every check that allows a write is made
 * on a row the statement itself has locked, after its locks.
 *
 * In READ COMMITTED every scan of a statement reads the snapshot taken when the statement started,
 * even after it waited for a lock; only the rows it locks (FOR UPDATE/SHARE, UPDATE, DELETE) are re-read
 * at their newest version and re-checked (EvalPlanQual): a row deleted meanwhile drops out, a row whose
 * role changed is filtered again. So "lock the team, then count the other OWNERs" would count an OWNER
 * removed while we waited. Instead:
 * - the caller is an OWNER (non-ADMIN callers; plugin-scope-auth checked it before, outside any lock):
 *   the caller's OWNER membership row is locked FOR SHARE after the team row. A revocation committed
 *   while we waited drops it (we answer FORBIDDEN and write nothing); one attempted later waits for us.
 * - another OWNER remains (removing or moving an OWNER): one other OWNER row is locked FOR SHARE, rows
 *   gone or demoted meanwhile skipped.
 * - the membership acted on is locked (remove: FOR UPDATE then DELETE; transfer: `source` FOR UPDATE).
 * - "already a member" is ON CONFLICT DO NOTHING on the primary key, which sees the newest data.
 * A refusal may rest on the snapshot: it writes nothing, and what it saw held during the statement.
 *
 * Lock order, the same in every mutation so that none deadlock: the user row, then team rows in id
 * order, then membership rows. A team's membership rows are written only by a transaction that holds
 * the team row (deleteUser too: users.ts), so waiting for them after the team lock closes no cycle.
 * - user row, FOR NO KEY UPDATE: the strength the count trigger needs for the user's teamCount, taken
 *   first so it is never upgraded later (two changes of one user upgrading a shared lock would
 *   deadlock); it makes a concurrent deleteUser wait or report the user gone, and orders user.* events
 *   (user.transferred) against updateUser and deleteUser, which lock the same row.
 * - team rows, FOR NO KEY UPDATE: two changes of one team take turns, which orders team.* events and
 *   the team's memberCount; another session's FOR UPDATE on the team row makes us wait (drain tests).
 */

export class AddTeamMemberSuccess {
  constructor(
    readonly team: Team,
    readonly user: User,
    readonly role: TeamRole,
  ) {}
}
export class RemoveTeamMemberSuccess {
  constructor(
    readonly team: Team,
    readonly user: User,
  ) {}
}
export class TransferUserSuccess {
  constructor(
    readonly user: User,
    readonly fromTeam: Team,
    readonly toTeam: Team,
  ) {}
}

export type AddTeamMemberResult = AddTeamMemberSuccess | NotFoundError | MembershipError | ForbiddenError;
export type RemoveTeamMemberResult = RemoveTeamMemberSuccess | NotFoundError | MembershipError | ForbiddenError;
export type TransferUserResult = TransferUserSuccess | NotFoundError | MembershipError | ForbiddenError;

/** Who asks: a non-ADMIN must be an OWNER of every team the change touches, under the locks. */
export type Actor = Caller;

export async function addTeamMember(prisma: PrismaClient, input: { teamId: string; userId: string; role?: TeamRole | null }, actor: Actor): Promise<AddTeamMemberResult> {
  const ids = decodeIds(input.userId, [input.teamId]);
  if (ids instanceof NotFoundError) return ids;
  const [teamId] = ids.teamIds as [string];
  const role = input.role ?? 'MEMBER';
  const row = await run(prisma, addMemberStatement(ids.userId, teamId, role, actor));
  const team = teamOf(row, teamId);
  if (!team) return new NotFoundError(input.teamId, 'team');
  if (!row.allowed) return new ForbiddenError();
  if (!row.user) return new NotFoundError(input.userId, 'user');
  if (!row.done) return new MembershipError('The user is already a member of this team.');
  // The rows were read under our locks, before the count trigger added this membership at the end.
  return new AddTeamMemberSuccess(counted(team, 'memberCount', 1), counted(userOf(row.user), 'teamCount', 1), role);
}

export async function removeTeamMember(prisma: PrismaClient, input: { teamId: string; userId: string }, actor: Actor): Promise<RemoveTeamMemberResult> {
  const ids = decodeIds(input.userId, [input.teamId]);
  if (ids instanceof NotFoundError) return ids;
  const [teamId] = ids.teamIds as [string];
  const row = await run(prisma, removeMemberStatement(ids.userId, teamId, actor));
  const team = teamOf(row, teamId);
  if (!team) return new NotFoundError(input.teamId, 'team');
  if (!row.allowed) return new ForbiddenError();
  if (!row.user) return new NotFoundError(input.userId, 'user');
  if (!row.role) return new MembershipError('The user is not a member of this team.');
  if (!row.done) return new MembershipError('The team would be left without an OWNER.');
  return new RemoveTeamMemberSuccess(counted(team, 'memberCount', -1), counted(userOf(row.user), 'teamCount', -1));
}

/** Moves the membership, role kept, in one statement; any refusal writes nothing. */
export async function transferUser(prisma: PrismaClient, input: { userId: string; fromTeamId: string; toTeamId: string }, actor: Actor): Promise<TransferUserResult> {
  const ids = decodeIds(input.userId, [input.fromTeamId, input.toTeamId]);
  if (ids instanceof NotFoundError) return ids;
  const [fromId, toId] = ids.teamIds as [string, string];
  if (fromId === toId) return sameTeam(prisma, ids.userId, fromId, input);
  const row = await run(prisma, transferStatement(ids.userId, fromId, toId, actor));
  const [fromTeam, toTeam] = [teamOf(row, fromId), teamOf(row, toId)];
  if (!fromTeam) return new NotFoundError(input.fromTeamId, 'team');
  if (!toTeam) return new NotFoundError(input.toTeamId, 'team');
  if (!row.allowed) return new ForbiddenError();
  if (!row.user) return new NotFoundError(input.userId, 'user');
  if (!row.role) return new MembershipError('The user is not a member of the source team.');
  if (row.inTarget) return new MembershipError('The user is already a member of the target team.');
  if (row.role === 'OWNER' && !row.otherOwner) return new MembershipError('The source team would be left without an OWNER.');
  // Otherwise the insert met a membership of the target committed while we waited, and did nothing.
  if (!row.done) return new MembershipError('The user is already a member of the target team.');
  return new TransferUserSuccess(userOf(row.user), counted(fromTeam, 'memberCount', -1), counted(toTeam, 'memberCount', 1));
}

/** from == to: nothing to lock or write; only the order of the answers matters. */
async function sameTeam(prisma: PrismaClient, userId: string, teamId: string, input: { userId: string; fromTeamId: string }) {
  const [row] = await queryRows<{ team: boolean; user: boolean }>(
    prisma,
    Prisma.sql`
    SELECT EXISTS (SELECT FROM "Team" WHERE "id" = ${teamId}::uuid) AS "team",
      EXISTS (SELECT FROM "User" WHERE "id" = ${userId}::uuid) AS "user"`,
  );
  if (!row?.team) return new NotFoundError(input.fromTeamId, 'team');
  if (!row.user) return new NotFoundError(input.userId, 'user');
  return new MembershipError('The user is already a member of the target team.');
}

async function run(prisma: PrismaClient, statement: Prisma.Sql): Promise<StatementRow> {
  const [row] = await queryRows<StatementRow>(prisma, statement);
  if (!row) throw new Error('membership statement returned no row');
  return row;
}

function teamOf(row: StatementRow, id: string): Team | undefined {
  const json = row.teams?.find((t) => t.id === id) as (Omit<Team, 'createdAt'> & { createdAt: string }) | undefined;
  return json && { ...json, createdAt: new Date(json.createdAt) };
}

function userOf(json: Record<string, unknown>): User {
  const user = json as unknown as Omit<User, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string };
  return { ...user, createdAt: new Date(user.createdAt), updatedAt: new Date(user.updatedAt) };
}

function counted<T extends Record<K, number>, K extends string>(row: T, key: K, delta: number): T {
  return { ...row, [key]: row[key] + delta };
}

interface Ids {
  userId: string;
  teamIds: string[];
}

/** Decodes the global IDs of an input; the first malformed one becomes the NotFoundError. */
function decodeIds(user: string, teams: string[]): Ids | NotFoundError {
  const userId = parseGlobalIdOf('User', user);
  if (!userId) return new NotFoundError(user, 'user');
  const teamIds: string[] = [];
  for (const team of teams) {
    const id = parseGlobalIdOf('Team', team);
    if (!id) return new NotFoundError(team, 'team');
    teamIds.push(id);
  }
  return { userId, teamIds };
}
