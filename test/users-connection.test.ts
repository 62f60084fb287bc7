import { beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/ids.js';
import { useTestApp } from './helpers/app.js';

const t = useTestApp();

interface Row {
  id: string;
  email: string;
  name: string;
  role: 'USER' | 'ADMIN';
  createdAt: Date;
}

const rows: Row[] = [];
const NAMES = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];

beforeAll(async () => {
  // 30 users whose names and creation times tie in groups, so only the id breaks the ties.
  const base = Date.UTC(2026, 0, 1);
  for (let i = 0; i < 30; i++) {
    const row = await t.db.prisma.user.create({
      data: {
        email: `u${String(i).padStart(2, '0')}@example.com`,
        name: NAMES[i % NAMES.length]!,
        role: i % 3 === 0 ? 'ADMIN' : 'USER',
        createdAt: new Date(base + Math.floor(i / 4) * 1000),
      },
    });
    rows.push(row);
  }
});

const PAGE = /* GraphQL */ `
  query ($first: Int, $after: String, $last: Int, $before: String, $filter: UserFilter, $orderBy: UserOrder) {
    users(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
      totalCount
      edges { cursor node { id email } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`;

type Key = 'createdAt' | 'name' | 'email';
const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
function expected(key: Key, direction: 'ASC' | 'DESC', filter: (r: Row) => boolean = () => true): string[] {
  const value = (r: Row) => (key === 'createdAt' ? r.createdAt.getTime() : r[key]);
  const sign = direction === 'ASC' ? 1 : -1;
  return rows
    .filter(filter)
    .sort((a, b) => sign * (cmp(value(a), value(b)) || cmp(a.id, b.id)))
    .map((r) => toGlobalId('User', r.id));
}

async function page(variables: Record<string, unknown>) {
  const res = await t.gql(PAGE, variables);
  expect(res.errors).toBeUndefined();
  return res.data!.users;
}

const ORDERS: [string, Key][] = [
  ['CREATED_AT', 'createdAt'],
  ['NAME', 'name'],
  ['EMAIL', 'email'],
];

describe('users connection', () => {
  it('defaults to 20 users ordered by createdAt, then id', async () => {
    const result = await page({});
    expect(result.totalCount).toBe(30);
    expect(result.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(expected('createdAt', 'ASC').slice(0, 20));
    expect(result.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
  });

  for (const [field, key] of ORDERS) {
    for (const direction of ['ASC', 'DESC'] as const) {
      it(`pages forward and backward through ties ordered by ${field} ${direction}`, async () => {
        const orderBy = { field, direction };
        const want = expected(key, direction);

        const forward: string[] = [];
        let after: string | undefined;
        for (;;) {
          const result = await page({ first: 7, after, orderBy });
          forward.push(...result.edges.map((e: { node: { id: string } }) => e.node.id));
          expect(result.pageInfo.hasPreviousPage).toBe(after !== undefined);
          if (!result.pageInfo.hasNextPage) break;
          after = result.pageInfo.endCursor;
        }
        expect(forward).toEqual(want);

        const backward: string[] = [];
        let before: string | undefined;
        for (;;) {
          const result = await page({ last: 7, before, orderBy });
          backward.unshift(...result.edges.map((e: { node: { id: string } }) => e.node.id));
          if (!result.pageInfo.hasPreviousPage) break;
          before = result.pageInfo.startCursor;
        }
        expect(backward).toEqual(want);
      });
    }
  }

  it('filters by role and by a case-insensitive search of name or email, counting the filtered set', async () => {
    const admins = await page({ first: 100, filter: { role: 'ADMIN' } });
    expect(admins.totalCount).toBe(10);
    expect(admins.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(expected('createdAt', 'ASC', (r) => r.role === 'ADMIN'));
    const search = await page({ first: 100, filter: { search: 'ALPH' } });
    expect(search.totalCount).toBe(6);
    const byEmail = await page({ first: 100, filter: { search: 'U1' } });
    expect(byEmail.totalCount).toBe(10);
    const both = await page({ first: 100, filter: { search: 'alpha', role: 'ADMIN' } });
    expect(both.totalCount).toBe(rows.filter((r) => r.name === 'alpha' && r.role === 'ADMIN').length);
    const wildcard = await page({ first: 100, filter: { search: '%' } });
    expect(wildcard.totalCount).toBe(0);
  });

  it('filters by team, and a malformed team ID matches nobody', async () => {
    const team = await t.db.prisma.team.create({ data: { slug: 'filter-team', name: 'Filter team' } });
    await t.db.prisma.membership.createMany({ data: rows.slice(0, 3).map((r) => ({ userId: r.id, teamId: team.id })) });
    const members = await page({ filter: { teamId: toGlobalId('Team', team.id) } });
    expect(members.totalCount).toBe(3);
    const garbage = await page({ filter: { teamId: 'garbage' } });
    expect(garbage).toMatchObject({ totalCount: 0, edges: [] });
  });

  it('caps first and last at 100 without failing', async () => {
    for (let i = 30; i < 130; i++) {
      await t.db.prisma.user.create({ data: { email: `extra${i}@example.com`, name: 'extra' } });
    }
    expect((await page({ first: 500 })).edges).toHaveLength(100);
    expect((await page({ last: 1000 })).edges).toHaveLength(100);
    await t.db.prisma.user.deleteMany({ where: { name: 'extra' } });
  });

  it.each([
    ['garbage', 'not-a-cursor'],
    ['valid base64 of nothing useful', Buffer.from('hello').toString('base64')],
    ['a Pothos cursor around a non-UUID', Buffer.from('GPC:S:1 OR 1=1').toString('base64')],
  ])('answers a %s cursor with a BAD_USER_INPUT error, not an internal one', async (_label, cursor) => {
    const res = await t.gql(PAGE, { first: 2, after: cursor });
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]!.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.message).not.toMatch(/prisma|sql|postgres|stack/i);
  });

  it('rejects a negative page size with BAD_USER_INPUT', async () => {
    const res = await t.gql(PAGE, { first: -1 });
    expect(res.errors![0]!.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
