import { forbiddenError } from '../errors/index.js';
import { Prisma, type Team } from '../generated/prisma/client.js';
import { parseGlobalIdOf } from '../ids.js';
import type { Context } from '../context.js';
import { ForbiddenError } from '../resolvers/errors.js';
import { type Actor, addTeamMember, AddTeamMemberSuccess, removeTeamMember, RemoveTeamMemberSuccess, transferUser, TransferUserSuccess } from '../resolvers/memberships.js';
import { findPage } from '../resolvers/page-sql.js';
import { createTeam, CreateTeamSuccess } from '../resolvers/teams.js';
import { MAX_LENGTH, slug as slugSchema } from '../resolvers/validation.js';
import { noteWrite } from '../response-cache/invalidation.js';
import { builder } from './builder.js';
import { checkIdCursor, lazyTotalCount } from './connections.js';
import { columnsFor, onePage, pageTotalCount } from './pages.js';
import { MembershipErrorRef, NotFoundErrorRef, SlugTakenErrorRef, ValidationErrorRef } from './errors.js';
import { globalIdOf, UserRef } from './user.js';

export const TeamRoleEnum = builder.enumType('TeamRole', {
  description: "A member's role in one team.",
  values: {
    MEMBER: { description: 'Belongs to the team.' },
    OWNER: { description: "Manages the team's members. A team that has an OWNER always keeps one." },
  } as const,
});

export const TeamRef = builder.prismaNode('Team', {
  description: 'A group of users.',
  id: { field: 'id', description: 'Global, opaque ID.' },
  fields: (t) => ({
    slug: t.exposeString('slug', { description: 'Unique, URL-safe: ^[a-z0-9]+(-[a-z0-9]+)*$, 2 to 64 characters.' }),
    name: t.exposeString('name', { description: 'Display name, 1 to 100 characters.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the team was created.' }),
  }),
});

builder.queryFields((t) => ({
  // A prisma field: plugin-prisma plans the nested connections into the lookup, one statement in all.
  team: t.prismaField({
    type: TeamRef,
    nullable: true,
    description: 'A team by global ID; null when there is none (or the ID is not a team ID).',
    args: { id: t.arg.id({ required: true, ...globalIdOf('the team') }) },
    resolve: (query, _root, args, ctx) => {
      const id = parseGlobalIdOf('Team', args.id);
      return id ? ctx.loaders.teamWith(query).load(id) : null;
    },
  }),
  teamBySlug: t.prismaField({
    type: TeamRef,
    nullable: true,
    description: 'A team by slug.',
    args: {
      slug: t.arg.string({ required: true, description: `The slug, at most ${MAX_LENGTH.slug} characters.`, extensions: { maxLength: MAX_LENGTH.slug } }),
    },
    // Only a well-formed slug can name a team; anything else (a NUL byte would be a database error) is null.
    resolve: (query, _root, args, ctx) => {
      const slug = slugSchema.safeParse(args.slug);
      return slug.success ? ctx.loaders.teamBySlugWith(query).load(slug.data) : null;
    },
  }),
  teams: t.prismaConnection(
    {
      type: 'Team',
      cursor: 'id',
      defaultSize: 20,
      maxSize: 100,
      description: 'Default order: slug ASC.',
      totalCount: (_root, _args, ctx, info) => pageTotalCount(info) ?? ctx.prisma.team.count(),
      resolve: (query, _root, _args, ctx, info) => {
        checkIdCursor(query);
        // One statement: the page, its nested connections and the totalCount (see resolvers/page-sql.ts).
        return onePage(
          info,
          ctx,
          (withCount) =>
            findPage<Team>(
              ctx.prisma,
              'Team',
              { ...query, orderBy: [{ slug: 'asc' }] },
              {
                where: () => Prisma.sql`true`,
                withCount,
                columns: columnsFor(info),
              },
            ),
          () => ctx.prisma.team.findMany({ ...query, orderBy: [{ slug: 'asc' }], relationLoadStrategy: 'join' }),
        );
      },
    },
    {
      name: 'TeamConnection',
      description: 'A page of teams.',
      fields: (t) => ({
        totalCount: t.int(lazyTotalCount('How many teams there are, across all pages.')),
      }),
    },
    { name: 'TeamEdge', description: 'A team in a page.' },
  ),
}));

const CreateTeamInput = builder.inputType('CreateTeamInput', {
  description: 'A new team.',
  fields: (t) => ({
    slug: t.string({
      required: true,
      description: `Unique slug: ^[a-z0-9]+(-[a-z0-9]+)*$, 2 to ${MAX_LENGTH.slug} characters.`,
      extensions: { maxLength: MAX_LENGTH.slug },
    }),
    name: t.string({
      required: true,
      description: `Display name, 1 to ${MAX_LENGTH.name} characters after trimming; no control characters, line separators or unpaired surrogates.`,
      extensions: { maxLength: MAX_LENGTH.name },
    }),
  }),
});
const AddTeamMemberInput = builder.inputType('AddTeamMemberInput', {
  description: 'A user to add to a team.',
  fields: (t) => ({
    teamId: t.id({ required: true, ...globalIdOf('the team') }),
    userId: t.id({ required: true, ...globalIdOf('the user') }),
    role: t.field({ type: TeamRoleEnum, description: 'Defaults to MEMBER.' }),
  }),
});
const RemoveTeamMemberInput = builder.inputType('RemoveTeamMemberInput', {
  description: 'A member to remove from a team.',
  fields: (t) => ({
    teamId: t.id({ required: true, ...globalIdOf('the team') }),
    userId: t.id({ required: true, ...globalIdOf('the user') }),
  }),
});
const TransferUserInput = builder.inputType('TransferUserInput', {
  description: 'Move a user from one team to another in one transaction, keeping their team role.',
  fields: (t) => ({
    userId: t.id({ required: true, ...globalIdOf('the user') }),
    fromTeamId: t.id({ required: true, ...globalIdOf('the team they leave') }),
    toTeamId: t.id({ required: true, ...globalIdOf('the team they join') }),
  }),
});

builder.objectType(CreateTeamSuccess, {
  name: 'CreateTeamSuccess',
  description: 'The team was created.',
  isTypeOf: (v) => v instanceof CreateTeamSuccess,
  fields: (t) => ({ team: t.field({ type: TeamRef, description: 'The new team.', resolve: (r) => r.team }) }),
});
builder.objectType(AddTeamMemberSuccess, {
  name: 'AddTeamMemberSuccess',
  description: 'The user joined the team.',
  isTypeOf: (v) => v instanceof AddTeamMemberSuccess,
  fields: (t) => ({
    team: t.field({ type: TeamRef, description: 'The team.', resolve: (r) => r.team }),
    user: t.field({ type: UserRef, description: 'The new member.', resolve: (r) => r.user }),
    role: t.field({ type: TeamRoleEnum, description: 'Their role in the team.', resolve: (r) => r.role }),
  }),
});
builder.objectType(RemoveTeamMemberSuccess, {
  name: 'RemoveTeamMemberSuccess',
  description: 'The user left the team.',
  isTypeOf: (v) => v instanceof RemoveTeamMemberSuccess,
  fields: (t) => ({
    team: t.field({ type: TeamRef, description: 'The team.', resolve: (r) => r.team }),
    user: t.field({ type: UserRef, description: 'The former member.', resolve: (r) => r.user }),
  }),
});
builder.objectType(TransferUserSuccess, {
  name: 'TransferUserSuccess',
  description: 'The user moved, keeping their role.',
  isTypeOf: (v) => v instanceof TransferUserSuccess,
  fields: (t) => ({
    user: t.field({ type: UserRef, description: 'The user who moved.', resolve: (r) => r.user }),
    fromTeam: t.field({ type: TeamRef, description: 'The team they left.', resolve: (r) => r.fromTeam }),
    toTeam: t.field({ type: TeamRef, description: 'The team they joined.', resolve: (r) => r.toTeam }),
  }),
});

const CreateTeamResult = builder.unionType('CreateTeamResult', {
  description: 'The new team, or why it was not created.',
  types: [CreateTeamSuccess, ValidationErrorRef, SlugTakenErrorRef],
});
const AddTeamMemberResult = builder.unionType('AddTeamMemberResult', {
  description: 'The new membership, or why nothing changed.',
  types: [AddTeamMemberSuccess, NotFoundErrorRef, MembershipErrorRef],
});
const RemoveTeamMemberResult = builder.unionType('RemoveTeamMemberResult', {
  description: 'The removed membership, or why nothing changed.',
  types: [RemoveTeamMemberSuccess, NotFoundErrorRef, MembershipErrorRef],
});
const TransferUserResult = builder.unionType('TransferUserResult', {
  description: 'The move, or why nothing changed.',
  types: [TransferUserSuccess, NotFoundErrorRef, MembershipErrorRef],
});

/** The caller as the membership statements re-check it under their locks. */
function actorOf(ctx: Context): Actor {
  return { userId: ctx.viewer?.userId ?? null, admin: ctx.viewer?.role === 'ADMIN' };
}

/**
 * A caller whose ownership was revoked while their change waited for its locks gets what any
 * non-OWNER gets from the authScopes check: a top-level FORBIDDEN, and nothing written.
 */
function refusedIfForbidden<T>(result: T | ForbiddenError): T {
  if (result instanceof ForbiddenError) throw forbiddenError(result.message);
  return result;
}

/** ADMIN, or an OWNER of the team named by this global ID (checked again inside the write). */
function ownerOf(teamGlobalId: string) {
  const teamId = parseGlobalIdOf('Team', teamGlobalId);
  return teamId ? { admin: true, teamOwner: teamId } : { admin: true };
}

builder.mutationFields((t) => ({
  createTeam: t.field({
    type: CreateTeamResult,
    authScopes: { admin: true },
    description: 'Create a team.',
    args: { input: t.arg({ type: CreateTeamInput, required: true, description: 'The new team.' }) },
    resolve: async (_root, { input }, ctx) => noteWrite(ctx, await createTeam(ctx.prisma, input)),
  }),
  addTeamMember: t.field({
    type: AddTeamMemberResult,
    authScopes: (_root, { input }) => ownerOf(input.teamId),
    description: 'Add a user to a team.',
    args: { input: t.arg({ type: AddTeamMemberInput, required: true, description: 'Who joins which team.' }) },
    resolve: async (_root, { input }, ctx) => noteWrite(ctx, refusedIfForbidden(await addTeamMember(ctx.prisma, input, actorOf(ctx)))),
  }),
  removeTeamMember: t.field({
    type: RemoveTeamMemberResult,
    authScopes: (_root, { input }) => ownerOf(input.teamId),
    description: "Remove a user from a team; a team's last OWNER cannot be removed.",
    args: { input: t.arg({ type: RemoveTeamMemberInput, required: true, description: 'Who leaves which team.' }) },
    resolve: async (_root, { input }, ctx) => noteWrite(ctx, refusedIfForbidden(await removeTeamMember(ctx.prisma, input, actorOf(ctx)))),
  }),
  transferUser: t.field({
    type: TransferUserResult,
    // Moving a member out of one team and into another needs ownership of both.
    authScopes: async (_root, { input }, ctx) => {
      if (ctx.viewer?.role === 'ADMIN') return true;
      const [from, to] = [parseGlobalIdOf('Team', input.fromTeamId), parseGlobalIdOf('Team', input.toTeamId)];
      if (!from || !to || !ctx.viewer) return false;
      const owned = await ctx.loaders.viewerOwnsTeam.loadMany([from, to]);
      return owned.every((o) => o === true);
    },
    description: 'Move a user from one team to another in one transaction, keeping their team role.',
    args: { input: t.arg({ type: TransferUserInput, required: true, description: 'The move.' }) },
    resolve: async (_root, { input }, ctx) => noteWrite(ctx, refusedIfForbidden(await transferUser(ctx.prisma, input, actorOf(ctx)))),
  }),
}));
