import { prismaConnectionHelpers } from '@pothos/plugin-prisma';
import { badUserInputError } from '../errors/index.js';
import { isUuid } from '../ids.js';
import { builder } from './builder.js';
import { TeamRef, TeamRoleEnum } from './team.js';
import { UserRef } from './user.js';

/**
 * User.teams and Team.members: pages of Membership rows whose node is the team or the user on the
 * other side, with the membership's role and joinedAt on the edge. plugin-prisma plans them into the
 * parent's query (with `relationLoadStrategy: 'join'` a per-parent LIMIT). totalCount is the parent's
 * own counter column (User.teamCount, Team.memberCount, kept exact by triggers on Membership), selected
 * beside the page: no COUNT over the relation, and no statement of its own.
 */
// Every column of the node, named: the node types expose whole rows, and a connection asked only for
// its totalCount would otherwise send Prisma an empty (invalid) select.
const TEAM_COLUMNS = { id: true, slug: true, name: true, createdAt: true, memberCount: true } as const;
const USER_COLUMNS = { id: true, email: true, name: true, role: true, version: true, createdAt: true, updatedAt: true, teamCount: true } as const;

const teamsOfUser = prismaConnectionHelpers(builder, 'Membership', {
  cursor: 'userId_teamId',
  defaultSize: 20,
  maxSize: 100,
  query: { orderBy: { teamId: 'asc' } },
  select: (nodeSelection) => ({ role: true, joinedAt: true, team: nodeSelection({ select: TEAM_COLUMNS }) }),
  resolveNode: (membership) => membership.team,
});

const membersOfTeam = prismaConnectionHelpers(builder, 'Membership', {
  cursor: 'userId_teamId',
  defaultSize: 20,
  maxSize: 100,
  query: { orderBy: { userId: 'asc' } },
  select: (nodeSelection) => ({ role: true, joinedAt: true, user: nodeSelection({ select: USER_COLUMNS }) }),
  resolveNode: (membership) => membership.user,
});

/** A cursor that decodes but does not hold two UUIDs would reach the database as a type error. */
function checkedCursor<Q extends { cursor?: { userId_teamId?: { userId: unknown; teamId: unknown } } }>(query: Q): Q {
  const key = query.cursor?.userId_teamId;
  if (key && !(isUuid(String(key.userId)) && isUuid(String(key.teamId)))) {
    throw badUserInputError('Invalid cursor');
  }
  return query;
}

const edgeFields = {
  role: { description: "The member's role in the team." },
  joinedAt: { description: 'When the user joined the team.' },
};

builder.prismaObjectField('User', 'teams', (t) =>
  t.connection(
    {
      type: TeamRef,
      description: "The user's teams, ordered by team ID (stable across pages).",
      select: (args, ctx, nestedSelection) => ({
        memberships: checkedCursor(teamsOfUser.getQuery(args, ctx, nestedSelection)),
        teamCount: true,
      }),
      resolve: (user, args, ctx) => ({ ...teamsOfUser.resolve(user.memberships, args, ctx), totalCount: user.teamCount }),
    },
    {
      name: 'UserTeamsConnection',
      description: "A page of a user's teams.",
      fields: (c) => ({
        totalCount: c.int({
          description: 'How many teams the user belongs to.',
          resolve: (connection) => connection.totalCount,
        }),
      }),
    },
    {
      name: 'UserTeamsEdge',
      description: 'A team the user belongs to, with their role in it.',
      fields: (e) => ({
        role: e.field({ type: TeamRoleEnum, ...edgeFields.role, resolve: (edge) => edge.role }),
        joinedAt: e.field({ type: 'DateTime', ...edgeFields.joinedAt, resolve: (edge) => edge.joinedAt }),
      }),
    },
  ),
);

builder.prismaObjectField('Team', 'members', (t) =>
  t.connection(
    {
      type: UserRef,
      description: "The team's members, ordered by user ID (stable across pages).",
      select: (args, ctx, nestedSelection) => ({
        memberships: checkedCursor(membersOfTeam.getQuery(args, ctx, nestedSelection)),
        memberCount: true,
      }),
      resolve: (team, args, ctx) => ({ ...membersOfTeam.resolve(team.memberships, args, ctx), totalCount: team.memberCount }),
    },
    {
      name: 'TeamMembersConnection',
      description: "A page of a team's members.",
      fields: (c) => ({
        totalCount: c.int({
          description: 'How many members the team has.',
          resolve: (connection) => connection.totalCount,
        }),
      }),
    },
    {
      name: 'TeamMembersEdge',
      description: 'A member of the team, with their role in it.',
      fields: (e) => ({
        role: e.field({ type: TeamRoleEnum, ...edgeFields.role, resolve: (edge) => edge.role }),
        joinedAt: e.field({ type: 'DateTime', ...edgeFields.joinedAt, resolve: (edge) => edge.joinedAt }),
      }),
    },
  ),
);
