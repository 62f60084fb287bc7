import { beforeAll, describe, expect, it } from 'vitest';
import { Prisma } from '../src/generated/prisma/client.js';
import { benchTeamId, benchUserId, seedBenchmark } from '../prisma/seed.js';
import { findPage, type PlannedQuery, UnsupportedQuery } from '../src/resolvers/page-sql.js';
import { useTestApp } from './helpers/app.js';

/**
 * page-sql writes the query plugin-prisma plans as one raw statement. Differential tests: the same
 * query object through page-sql and through Prisma's own findMany must give the same rows, in the
 * same order, with the same values (Dates included); whatever page-sql does not compile is refused
 * with UnsupportedQuery (the caller then runs Prisma's query).
 */
const t = useTestApp();

beforeAll(async () => {
  await seedBenchmark(t.db.prisma, { users: 60, teams: 12, membershipsPerUser: 4 });
});

const all = () => Prisma.sql`true`;
const ORDER = [{ createdAt: 'asc' }, { id: 'asc' }] as const;

const teamsOfUser = (extra: Partial<PlannedQuery> = {}) => ({
  orderBy: { teamId: 'asc' },
  take: 3,
  skip: 0,
  select: { userId: true, teamId: true, role: true, joinedAt: true, team: true },
  ...extra,
});

const cases: [string, 'User' | 'Team', PlannedQuery][] = [
  ['users forward with nested teams', 'User', { take: 6, skip: 0, orderBy: ORDER, include: { memberships: teamsOfUser() } }],
  [
    'users after a cursor, nested teams after a cursor',
    'User',
    {
      take: 5,
      skip: 1,
      cursor: { id: benchUserId(7) },
      orderBy: ORDER,
      include: { memberships: teamsOfUser({ cursor: { userId_teamId: { userId: benchUserId(8), teamId: benchTeamId(3) } }, skip: 1 }) },
    },
  ],
  [
    'users backwards before a cursor, nested teams backwards',
    'User',
    { take: -4, skip: 1, cursor: { id: benchUserId(30) }, orderBy: ORDER, include: { memberships: teamsOfUser({ take: -2 }) } },
  ],
  ['users by name descending', 'User', { take: 7, skip: 0, orderBy: [{ name: 'desc' }, { id: 'desc' }], include: {} }],
  [
    'teams with members and their teams, three levels',
    'Team',
    {
      take: 4,
      skip: 0,
      orderBy: [{ slug: 'asc' }],
      include: {
        memberships: {
          orderBy: { userId: 'asc' },
          take: 3,
          skip: 0,
          select: {
            role: true,
            joinedAt: true,
            userId: true,
            teamId: true,
            user: { include: { memberships: teamsOfUser({ take: 2, select: { teamId: true, userId: true, team: { select: { slug: true } } } }) } },
          },
        },
      },
    },
  ],
  [
    // A nested row is a text array: a list's join column comes from its parent row, a required foreign
    // key from the row it names (flattened into the same array); without them, from the row itself.
    'teams whose members name only their keys, and a to-one without its key holding a list',
    'Team',
    {
      take: 3,
      skip: 0,
      orderBy: [{ slug: 'desc' }],
      include: {
        memberships: {
          orderBy: { userId: 'asc' },
          take: 2,
          select: {
            userId: true,
            teamId: true,
            team: { select: { slug: true, memberships: { take: 2, orderBy: { userId: 'desc' }, select: { teamId: true, userId: true, joinedAt: true } } } },
          },
        },
      },
    },
  ],
  [
    'users whose teams select the join column alone',
    'User',
    { take: 4, orderBy: ORDER, include: { memberships: { take: 2, orderBy: { teamId: 'desc' }, select: { userId: true } } } },
  ],
  ['a cursor naming no row: an empty page', 'User', { take: 3, skip: 1, cursor: { id: '00000000-0000-4000-8000-000000000000' }, orderBy: ORDER }],
];

describe('page-sql answers what Prisma answers', () => {
  for (const [name, model, query] of cases) {
    it(name, async () => {
      const delegate = model === 'User' ? t.db.prisma.user : t.db.prisma.team;
      const expected = await (delegate.findMany as (q: unknown) => Promise<unknown[]>)(query);
      const page = await findPage(t.db.prisma, model, query, { where: all, withCount: true });
      expect(page.rows).toEqual(expected);
      expect(page.totalCount).toBe(model === 'User' ? 60 : 12);
    });
  }

  it('filters the count and the page by the same condition', async () => {
    const page = await findPage<{ id: string }>(
      t.db.prisma,
      'User',
      { take: 100, orderBy: ORDER },
      { where: (u) => Prisma.sql`${Prisma.raw(`"${u}"."email"`)} LIKE 'user1%'`, withCount: true },
    );
    expect(page.totalCount).toBe(11);
    expect(page.rows).toHaveLength(11);
  });

  it('refuses what it does not compile', async () => {
    const refused: PlannedQuery[] = [
      { take: 2, orderBy: ORDER, include: { _count: true } } as PlannedQuery,
      { take: 2, orderBy: ORDER, include: { memberships: { where: { role: 'OWNER' }, take: 2, orderBy: { teamId: 'asc' } } } } as PlannedQuery,
      { take: 2, orderBy: ORDER, distinct: ['name'] } as PlannedQuery,
      { take: 2, orderBy: [{ name: 'asc' }, { id: 'desc' }], cursor: { id: benchUserId(1) } },
      { take: 2, orderBy: ORDER, cursor: { email: 'user1@bench.example' } },
    ];
    for (const query of refused) {
      await expect(findPage(t.db.prisma, 'User', query, { where: all, withCount: false })).rejects.toBeInstanceOf(UnsupportedQuery);
    }
  });
});
