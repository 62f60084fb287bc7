import type { User } from '../generated/prisma/client.js';
import { isUuid, parseGlobalIdOf } from '../ids.js';
import {
  countUsers,
  createUser,
  CreateUserSuccess,
  deleteUser,
  DeleteUserSuccess,
  updateUser,
  UpdateUserSuccess,
  userFilterCountSql,
  userFilterSql,
  userFilterWhere,
  userOrderBy,
} from '../resolvers/users.js';
import { findPage } from '../resolvers/page-sql.js';
import { email as emailSchema, MAX_LENGTH } from '../resolvers/validation.js';
import { noteWrite } from '../response-cache/invalidation.js';
import { builder } from './builder.js';
import { checkIdCursor, lazyTotalCount } from './connections.js';
import { columnsFor, onePage, pageTotalCount } from './pages.js';
import { EmailTakenErrorRef, NotFoundErrorRef, ValidationErrorRef, VersionConflictErrorRef } from './errors.js';

const RoleEnum = builder.enumType('Role', {
  description: 'What a user may do across the service.',
  values: {
    USER: { description: 'Reads users and teams; edits their own name and email.' },
    ADMIN: { description: 'May do everything.' },
  } as const,
});

const OrderDirectionEnum = builder.enumType('OrderDirection', {
  description: 'Sort direction.',
  values: { ASC: { description: 'Ascending.' }, DESC: { description: 'Descending.' } } as const,
});

const UserOrderFieldEnum = builder.enumType('UserOrderField', {
  description: 'Fields users can be sorted by; ties are broken by id.',
  values: {
    CREATED_AT: { description: 'Creation time.' },
    NAME: { description: 'Display name.' },
    EMAIL: { description: 'Email address.' },
  } as const,
});

export const UserRef = builder.prismaNode('User', {
  description: 'A person with an account.',
  id: { field: 'id', description: 'Global, opaque ID.' },
  fields: (t) => ({
    email: t.exposeString('email', { description: 'Stored and compared case-insensitively, returned lower-cased.' }),
    name: t.exposeString('name', { description: 'Display name, 1 to 100 characters.' }),
    role: t.expose('role', { type: RoleEnum, description: 'Service-wide role.' }),
    version: t.exposeInt('version', {
      description: 'Starts at 1 and grows by 1 on every successful update (optimistic concurrency).',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the user was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the user was last changed.' }),
  }),
});

/** Options of a global ID argument or input field: its bound, documented and checked. */
export const globalIdOf = (what: string) => ({
  description: `Global ID of ${what}, at most ${MAX_LENGTH.id} characters.`,
  extensions: { maxLength: MAX_LENGTH.id },
});
const emailField = (what: string) => ({
  description: `${what}, at most ${MAX_LENGTH.email} characters; stored lower-cased.`,
  extensions: { maxLength: MAX_LENGTH.email },
});
const nameField = (what: string) => ({
  description: `${what}, 1 to ${MAX_LENGTH.name} characters after trimming; no control characters, line separators or unpaired surrogates.`,
  extensions: { maxLength: MAX_LENGTH.name },
});

const UserFilter = builder.inputType('UserFilter', {
  description: 'Narrows the users connection; all given conditions must hold.',
  fields: (t) => ({
    search: t.string({
      description: `Case-insensitive substring of name or email: at most ${MAX_LENGTH.search} characters, no control characters, line separators or unpaired surrogates.`,
      extensions: { maxLength: MAX_LENGTH.search, plainText: true },
    }),
    role: t.field({ type: RoleEnum, description: 'Only users with this role.' }),
    teamId: t.id({ description: `Only members of this team (its global ID, at most ${MAX_LENGTH.id} characters).`, extensions: { maxLength: MAX_LENGTH.id } }),
  }),
});

const UserOrder = builder.inputType('UserOrder', {
  description: 'Sort order of the users connection.',
  fields: (t) => ({
    field: t.field({ type: UserOrderFieldEnum, required: true, description: 'The sort key.' }),
    direction: t.field({ type: OrderDirectionEnum, required: true, description: 'The direction.' }),
  }),
});

builder.queryFields((t) => ({
  me: t.prismaField({
    type: UserRef,
    nullable: true,
    description: "The authenticated caller; null when the token's subject has no user row.",
    resolve: (query, _root, _args, ctx) => (ctx.viewer && isUuid(ctx.viewer.userId) ? ctx.loaders.userWith(query).load(ctx.viewer.userId) : null),
  }),
  // A prisma field: plugin-prisma plans the nested connections into the lookup, one statement in all.
  user: t.prismaField({
    type: UserRef,
    nullable: true,
    description: 'A user by global ID; null when there is none (or the ID is not a user ID).',
    args: { id: t.arg.id({ required: true, ...globalIdOf('the user') }) },
    resolve: (query, _root, args, ctx) => {
      const id = parseGlobalIdOf('User', args.id);
      return id ? ctx.loaders.userWith(query).load(id) : null;
    },
  }),
  userByEmail: t.prismaField({
    type: UserRef,
    nullable: true,
    description: 'A user by email, compared case-insensitively.',
    args: {
      email: t.arg.string({
        required: true,
        description: `The email address, at most ${MAX_LENGTH.email} characters.`,
        extensions: { maxLength: MAX_LENGTH.email },
      }),
    },
    resolve: (query, _root, args, ctx) => {
      const email = emailSchema.safeParse(args.email);
      return email.success ? ctx.loaders.userByEmailWith(query).load(email.data) : null;
    },
  }),
  users: t.prismaConnection(
    {
      type: 'User',
      cursor: 'id',
      defaultSize: 20,
      maxSize: 100,
      description: 'Default order: createdAt ASC, then id. first/last are capped at 100; default page size 20.',
      args: {
        filter: t.arg({ type: UserFilter, description: 'Conditions every returned user meets.' }),
        orderBy: t.arg({ type: UserOrder, description: 'Sort order; default createdAt ascending.' }),
      },
      totalCount: (_root, args, ctx, info) => pageTotalCount(info) ?? countUsers(ctx.prisma, args.filter),
      resolve: (query, _root, args, ctx, info) => {
        checkIdCursor(query);
        const orderBy = userOrderBy(args.orderBy);
        // One statement: the page, its nested connections and the totalCount (see resolvers/page-sql.ts).
        return onePage(
          info,
          ctx,
          (withCount) =>
            findPage<User>(
              ctx.prisma,
              'User',
              { ...query, orderBy },
              {
                where: userFilterSql(args.filter),
                count: userFilterCountSql(args.filter),
                withCount,
                columns: columnsFor(info),
              },
            ),
          () =>
            ctx.prisma.user.findMany({
              ...query,
              where: userFilterWhere(args.filter),
              orderBy,
              // One statement with a per-parent LIMIT for nested connections, instead of every child row.
              relationLoadStrategy: 'join',
            }),
        );
      },
    },
    {
      name: 'UserConnection',
      description: 'A page of users.',
      fields: (t) => ({
        totalCount: t.int(lazyTotalCount('How many users match the filter, across all pages.')),
      }),
    },
    { name: 'UserEdge', description: 'A user in a page.' },
  ),
}));

const CreateUserInput = builder.inputType('CreateUserInput', {
  description: 'A new user.',
  fields: (t) => ({
    email: t.string({ required: true, ...emailField('Valid address') }),
    name: t.string({ required: true, ...nameField('Display name') }),
    role: t.field({ type: RoleEnum, description: 'Defaults to USER.' }),
  }),
});

const UpdateUserInput = builder.inputType('UpdateUserInput', {
  description: 'Changes to a user; omitted fields stay as they are.',
  fields: (t) => ({
    id: t.id({ required: true, ...globalIdOf('the user') }),
    email: t.string(emailField('New email address')),
    name: t.string(nameField('New display name')),
    role: t.field({ type: RoleEnum, description: 'New role.' }),
    expectedVersion: t.int({ description: 'Fail with VersionConflictError unless the user is at this version.' }),
  }),
});

const DeleteUserInput = builder.inputType('DeleteUserInput', {
  description: 'The user to delete.',
  fields: (t) => ({ id: t.id({ required: true, ...globalIdOf('the user') }) }),
});

builder.objectType(CreateUserSuccess, {
  name: 'CreateUserSuccess',
  description: 'The user was created.',
  isTypeOf: (v) => v instanceof CreateUserSuccess,
  fields: (t) => ({ user: t.field({ type: UserRef, description: 'The new user.', resolve: (r) => r.user }) }),
});
builder.objectType(UpdateUserSuccess, {
  name: 'UpdateUserSuccess',
  description: 'The user was updated.',
  isTypeOf: (v) => v instanceof UpdateUserSuccess,
  fields: (t) => ({ user: t.field({ type: UserRef, description: 'The user as it is now.', resolve: (r) => r.user }) }),
});
builder.objectType(DeleteUserSuccess, {
  name: 'DeleteUserSuccess',
  description: 'The user and their memberships were deleted.',
  isTypeOf: (v) => v instanceof DeleteUserSuccess,
  fields: (t) => ({ deletedUserId: t.exposeID('deletedUserId', { description: 'Global ID of the deleted user.' }) }),
});

const CreateUserResult = builder.unionType('CreateUserResult', {
  description: 'The new user, or why it was not created.',
  types: [CreateUserSuccess, ValidationErrorRef, EmailTakenErrorRef],
});
const UpdateUserResult = builder.unionType('UpdateUserResult', {
  description: 'The updated user, or why nothing changed.',
  types: [UpdateUserSuccess, ValidationErrorRef, EmailTakenErrorRef, NotFoundErrorRef, VersionConflictErrorRef],
});
const DeleteUserResult = builder.unionType('DeleteUserResult', {
  description: 'The deleted user ID, or why nothing was deleted.',
  types: [DeleteUserSuccess, NotFoundErrorRef],
});

builder.mutationFields((t) => ({
  createUser: t.field({
    type: CreateUserResult,
    authScopes: { admin: true },
    description: 'Create a user. Emails are unique case-insensitively.',
    args: { input: t.arg({ type: CreateUserInput, required: true, description: 'The new user.' }) },
    resolve: async (_root, { input }, ctx) => noteWrite(ctx, await createUser(ctx.prisma, input, ctx.creates)),
  }),
  updateUser: t.field({
    type: UpdateUserResult,
    // A USER may change their own name and email, never a role; ADMIN may change anything.
    authScopes: (_root, { input }, ctx) => ctx.viewer?.role === 'ADMIN' || (parseGlobalIdOf('User', input.id) === ctx.viewer?.userId && input.role == null),
    description: 'Update a user; version grows by 1.',
    args: { input: t.arg({ type: UpdateUserInput, required: true, description: 'The changes.' }) },
    resolve: async (_root, { input }, ctx) => noteWrite(ctx, await updateUser(ctx.prisma, input)),
  }),
  deleteUser: t.field({
    type: DeleteUserResult,
    authScopes: { admin: true },
    description: 'Delete a user and their memberships.',
    args: { input: t.arg({ type: DeleteUserInput, required: true, description: 'The user to delete.' }) },
    resolve: async (_root, { input }, ctx) => noteWrite(ctx, await deleteUser(ctx.prisma, input)),
  }),
}));
