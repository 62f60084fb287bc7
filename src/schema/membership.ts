import { prismaConnectionHelpers } from '@pothos/plugin-prisma';
import { builder } from './builder.js';
import { checkedMembershipCursor, membershipPage } from './connections.js';
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

/** Page sizes of both membership connections (the helpers' and membershipPage's). */
const SIZES = { defaultSize: 20, maxSize: 100 };

const teamsOfUser = prismaConnectionHelpers(builder, 'Membership', {
  cursor: 'userId_teamId',
  ...SIZES,
  query: { orderBy: { teamId: 'asc' } },
  select: (nodeSelection) => ({ role: true, joinedAt: true, team: nodeSelection({ select: TEAM_COLUMNS }) }),
  resolveNode: (membership) => membership.team,
});

const membersOfTeam = prismaConnectionHelpers(builder, 'Membership', {
  cursor: 'userId_teamId',
  ...SIZES,
  query: { orderBy: { userId: 'asc' } },
  select: (nodeSelection) => ({ role: true, joinedAt: true, user: nodeSelection({ select: USER_COLUMNS }) }),
  resolveNode: (membership) => membership.user,
});

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
        memberships: checkedMembershipCursor(teamsOfUser.getQuery(args, ctx, nestedSelection)),
        teamCount: true,
      }),
      // The helper's page, with cursors encoded when read (membershipPage).
      resolve: (user, args) => ({ ...membershipPage(user.memberships, args, (m) => m.team, SIZES), totalCount: user.teamCount }),
    },
    {
      name: 'UserTeamsConnection',
      description: "A page of a user's teams.",
      fields: (c) => ({
        totalCount: c.exposeInt('totalCount', { description: 'How many teams the user belongs to.' }),
      }),
    },
    {
      name: 'UserTeamsEdge',
      description: 'A team the user belongs to, with their role in it.',
      fields: (e) => ({
        role: e.expose('role', { type: TeamRoleEnum, ...edgeFields.role }),
        joinedAt: e.expose('joinedAt', { type: 'DateTime', ...edgeFields.joinedAt }),
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
        memberships: checkedMembershipCursor(membersOfTeam.getQuery(args, ctx, nestedSelection)),
        memberCount: true,
      }),
      resolve: (team, args) => ({ ...membershipPage(team.memberships, args, (m) => m.user, SIZES), totalCount: team.memberCount }),
    },
    {
      name: 'TeamMembersConnection',
      description: "A page of a team's members.",
      fields: (c) => ({
        totalCount: c.exposeInt('totalCount', { description: 'How many members the team has.' }),
      }),
    },
    {
      name: 'TeamMembersEdge',
      description: 'A member of the team, with their role in it.',
      fields: (e) => ({
        role: e.expose('role', { type: TeamRoleEnum, ...edgeFields.role }),
        joinedAt: e.expose('joinedAt', { type: 'DateTime', ...edgeFields.joinedAt }),
      }),
    },
  ),
);
