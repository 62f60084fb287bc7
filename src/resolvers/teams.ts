import { z } from 'zod';
import type { Membership, PrismaClient, Team, TeamRole, User } from '../generated/prisma/client.js';
import { parseGlobalIdOf } from '../ids.js';
import { classifyDatabaseError, MembershipError, NotFoundError, SlugTakenError, ValidationError } from './errors.js';
import { recordEvent, type Tx } from './events.js';
import { MAX_LENGTH, slug, text, validate } from './validation.js';

export class CreateTeamSuccess {
  constructor(readonly team: Team) {}
}
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

export type CreateTeamResult = CreateTeamSuccess | ValidationError | SlugTakenError;
export type AddTeamMemberResult = AddTeamMemberSuccess | NotFoundError | MembershipError;
export type RemoveTeamMemberResult = RemoveTeamMemberSuccess | NotFoundError | MembershipError;
export type TransferUserResult = TransferUserSuccess | NotFoundError | MembershipError;

const TRANSACTION_MAX_WAIT_MS = 10_000;
const TRANSACTION_TIMEOUT_MS = 15_000;


const createTeamInput = z.object({ slug, name: text(1, MAX_LENGTH.name) });

export async function createTeam(prisma: PrismaClient, input: { slug: string; name: string }): Promise<CreateTeamResult> {
  const data = validate(createTeamInput, input);
  if (data instanceof ValidationError) return data;
  try {
    const team = await prisma.$transaction(async (tx) => {
      const created = await tx.team.create({ data });
      await recordEvent(tx, 'team.created', created.id, created);
      return created;
    });
    return new CreateTeamSuccess(team);
  } catch (error) {
    if (classifyDatabaseError(error)?.kind === 'unique') return new SlugTakenError(data.slug);
    throw error;
  }
}

/**
 * Runs `work` in a transaction holding row locks on the given teams, in id order so that two
 * operations on the same pair of teams cannot deadlock. Every membership change of a team goes
 * through its lock, so "is this the last OWNER?" cannot change between the check and the write.
 */
async function withTeamsLocked<T>(
  prisma: PrismaClient,
  teamIds: string[],
  work: (tx: Tx, teams: Map<string, Team>) => Promise<T>,
): Promise<T> {
  const ids = [...new Set(teamIds)].sort();
  return prisma.$transaction(
    async (tx) => {
      // One statement; ORDER BY makes PostgreSQL take the row locks in id order.
      await tx.$queryRaw`SELECT "id" FROM "Team" WHERE "id" = ANY(${ids}::uuid[]) ORDER BY "id" FOR UPDATE`;
      const rows = await tx.team.findMany({ where: { id: { in: ids } } });
      return work(tx, new Map(rows.map((team) => [team.id, team])));
    },
    // Waiting behind another change of the same team is expected; give it time, but never forever.
    { maxWait: TRANSACTION_MAX_WAIT_MS, timeout: TRANSACTION_TIMEOUT_MS },
  );
}

/**
 * Reads the user under a FOR KEY SHARE row lock, taken before any membership is touched: a concurrent
 * deleteUser (which locks the row FOR UPDATE, then cascades to the memberships) either waits for this
 * transaction or has committed first, and then the user reads as missing. Without it the membership
 * INSERT/DELETE that follows could meet the cascade: a foreign-key violation, "record not found" or a
 * deadlock, i.e. an internal error instead of NotFoundError.
 */
async function findUserLocked(tx: Tx, id: string): Promise<User | null> {
  await tx.$queryRaw`SELECT 1 FROM "User" WHERE "id" = ${id}::uuid FOR KEY SHARE`;
  return tx.user.findUnique({ where: { id } });
}

/** An OWNER may leave only if the team keeps another OWNER. Call with the team locked. */
async function leavesTeamOwnerless(tx: Tx, membership: Membership): Promise<boolean> {
  if (membership.role !== 'OWNER') return false;
  const otherOwners = await tx.membership.count({
    where: { teamId: membership.teamId, role: 'OWNER', userId: { not: membership.userId } },
  });
  return otherOwners === 0;
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

export async function addTeamMember(
  prisma: PrismaClient,
  input: { teamId: string; userId: string; role?: TeamRole | null },
): Promise<AddTeamMemberResult> {
  const ids = decodeIds(input.userId, [input.teamId]);
  if (ids instanceof NotFoundError) return ids;
  const teamId = ids.teamIds[0]!;
  const role = input.role ?? 'MEMBER';
  return withTeamsLocked(prisma, [teamId], async (tx, teams) => {
    const team = teams.get(teamId);
    if (!team) return new NotFoundError(input.teamId, 'team');
    const user = await findUserLocked(tx, ids.userId);
    if (!user) return new NotFoundError(input.userId, 'user');
    const existing = await tx.membership.findUnique({ where: { userId_teamId: { userId: user.id, teamId } } });
    if (existing) return new MembershipError('The user is already a member of this team.');
    const created = await tx.membership.create({ data: { userId: user.id, teamId, role } });
    await recordEvent(tx, 'team.member_added', teamId, created);
    return new AddTeamMemberSuccess(team, user, role);
  });
}

export async function removeTeamMember(
  prisma: PrismaClient,
  input: { teamId: string; userId: string },
): Promise<RemoveTeamMemberResult> {
  const ids = decodeIds(input.userId, [input.teamId]);
  if (ids instanceof NotFoundError) return ids;
  const teamId = ids.teamIds[0]!;
  return withTeamsLocked(prisma, [teamId], async (tx, teams) => {
    const team = teams.get(teamId);
    if (!team) return new NotFoundError(input.teamId, 'team');
    const user = await findUserLocked(tx, ids.userId);
    if (!user) return new NotFoundError(input.userId, 'user');
    const membership = await tx.membership.findUnique({ where: { userId_teamId: { userId: user.id, teamId } } });
    if (!membership) return new MembershipError('The user is not a member of this team.');
    if (await leavesTeamOwnerless(tx, membership)) {
      return new MembershipError('The team would be left without an OWNER.');
    }
    await tx.membership.delete({ where: { userId_teamId: { userId: user.id, teamId } } });
    await recordEvent(tx, 'team.member_removed', teamId, { teamId, userId: user.id, role: membership.role });
    return new RemoveTeamMemberSuccess(team, user);
  });
}

/** Moves the membership, role kept, in one transaction; any refusal writes nothing. */
export async function transferUser(
  prisma: PrismaClient,
  input: { userId: string; fromTeamId: string; toTeamId: string },
): Promise<TransferUserResult> {
  const ids = decodeIds(input.userId, [input.fromTeamId, input.toTeamId]);
  if (ids instanceof NotFoundError) return ids;
  const [fromId, toId] = ids.teamIds as [string, string];
  return withTeamsLocked(prisma, [fromId, toId], async (tx, teams) => {
    const fromTeam = teams.get(fromId);
    if (!fromTeam) return new NotFoundError(input.fromTeamId, 'team');
    const toTeam = teams.get(toId);
    if (!toTeam) return new NotFoundError(input.toTeamId, 'team');
    const user = await findUserLocked(tx, ids.userId);
    if (!user) return new NotFoundError(input.userId, 'user');
    if (fromId === toId) return new MembershipError('The user is already a member of the target team.');
    const memberships = await tx.membership.findMany({ where: { userId: user.id, teamId: { in: [fromId, toId] } } });
    const from = memberships.find((m) => m.teamId === fromId);
    if (!from) return new MembershipError('The user is not a member of the source team.');
    if (memberships.some((m) => m.teamId === toId)) {
      return new MembershipError('The user is already a member of the target team.');
    }
    if (await leavesTeamOwnerless(tx, from)) {
      return new MembershipError('The source team would be left without an OWNER.');
    }
    await tx.membership.delete({ where: { userId_teamId: { userId: user.id, teamId: fromId } } });
    const moved = await tx.membership.create({ data: { userId: user.id, teamId: toId, role: from.role } });
    await recordEvent(tx, 'user.transferred', user.id, { userId: user.id, fromTeamId: fromId, toTeamId: toId, role: moved.role, joinedAt: moved.joinedAt });
    return new TransferUserSuccess(user, fromTeam, toTeam);
  });
}
