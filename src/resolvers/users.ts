import { z } from 'zod';
import type { Prisma, PrismaClient, Role, User } from '../generated/prisma/client.js';
import { parseGlobalIdOf, toGlobalId } from '../ids.js';
import { recordEvent } from './events.js';
import { classifyDatabaseError, EmailTakenError, NotFoundError, ValidationError, VersionConflictError } from './errors.js';
import { email, globalId, MAX_LENGTH, text, validate } from './validation.js';

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

/** Uniqueness is the database's job (a unique index), so concurrent creates cannot both win. */
export async function createUser(
  prisma: PrismaClient,
  input: { email: string; name: string; role?: Role | null },
): Promise<CreateUserResult> {
  const data = validate(createUserInput, input);
  if (data instanceof ValidationError) return data;
  try {
    const user = await prisma.$transaction(async (tx) => {
      const created = await tx.user.create({
        data: { email: data.email, name: data.name, ...(data.role ? { role: data.role } : {}) },
      });
      await recordEvent(tx, 'user.created', created.id, created);
      return created;
    });
    return new CreateUserSuccess(user);
  } catch (error) {
    if (classifyDatabaseError(error)?.kind === 'unique') return new EmailTakenError(data.email);
    throw error;
  }
}

/** Optimistic concurrency: the version check and the write are one UPDATE ... WHERE version = $n. */
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

  const changes: Prisma.UserUpdateInput = { version: { increment: 1 } };
  if (data.email != null) changes.email = data.email;
  if (data.name != null) changes.name = data.name;
  if (data.role != null) changes.role = data.role;
  const where: Prisma.UserWhereUniqueInput =
    data.expectedVersion == null ? { id } : { id, version: data.expectedVersion };
  const changed = Object.fromEntries(Object.entries(changes).filter(([key]) => key !== 'version'));
  try {
    const user = await prisma.$transaction(async (tx) => {
      const updated = await tx.user.update({ where, data: changes });
      await recordEvent(tx, 'user.updated', updated.id, { id: updated.id, changes: changed, version: updated.version, updatedAt: updated.updatedAt });
      return updated;
    });
    return new UpdateUserSuccess(user);
  } catch (error) {
    const failure = classifyDatabaseError(error);
    if (failure?.kind === 'unique' && data.email != null) return new EmailTakenError(data.email);
    if (failure?.kind !== 'notFound') throw error;
  }
  const current = await prisma.user.findUnique({ where: { id }, select: { version: true } });
  return current ? new VersionConflictError(current.version) : new NotFoundError(input.id, 'user');
}

/** Memberships go with the user (ON DELETE CASCADE). */
export async function deleteUser(prisma: PrismaClient, input: { id: string }): Promise<DeleteUserResult> {
  const id = parseGlobalIdOf('User', input.id);
  if (!id) return new NotFoundError(input.id, 'user');
  try {
    await prisma.$transaction(async (tx) => {
      const deleted = await tx.user.delete({ where: { id }, select: { id: true, email: true } });
      await recordEvent(tx, 'user.deleted', id, { id: deleted.id });
    });
    return new DeleteUserSuccess(toGlobalId('User', id));
  } catch (error) {
    if (classifyDatabaseError(error)?.kind === 'notFound') return new NotFoundError(input.id, 'user');
    throw error;
  }
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
    where.OR = [
      { name: { contains: search, mode: 'insensitive' } },
      { email: { contains: search, mode: 'insensitive' } },
    ];
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
