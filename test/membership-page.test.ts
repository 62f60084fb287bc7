import { randomUUID } from 'node:crypto';
import { formatPrismaCursor, prismaConnectionHelpers } from '@pothos/plugin-prisma';
import { describe, expect, it } from 'vitest';
import { builder } from '../src/schema/builder.js';
import { membershipPage } from '../src/schema/connections.js';
import '../src/schema/index.js';

/**
 * membershipPage (User.teams, Team.members) builds the page plugin-prisma's connection helper would,
 * with cursors encoded only when read: compared here with the helper itself, page by page.
 */

const SIZES = { defaultSize: 20, maxSize: 100 };
const helper = prismaConnectionHelpers(builder, 'Membership', { cursor: 'userId_teamId', ...SIZES, select: () => ({ role: true }), resolveNode: (m: { team: unknown }) => m.team });

const userId = randomUUID();
const rows = Array.from({ length: 8 }, (_, i) => ({
  userId,
  teamId: randomUUID(),
  role: i === 0 ? 'OWNER' : 'MEMBER',
  joinedAt: new Date(Date.UTC(2026, 0, i + 1)),
  team: { id: `team-${i}` },
}));

const someCursor = formatPrismaCursor(rows[0]!, ['userId', 'teamId']);

/** What a client can read of a page: each edge's cursor, node and role, and the page info. */
function view(page: { edges: readonly ({ cursor: string; node: unknown; role?: unknown } | null)[]; pageInfo: object }) {
  const { startCursor, endCursor, hasNextPage, hasPreviousPage } = page.pageInfo as Record<string, unknown>;
  return {
    edges: page.edges.map((e) => e && { cursor: e.cursor, node: e.node, role: e.role }),
    pageInfo: { startCursor, endCursor, hasNextPage, hasPreviousPage },
  };
}

describe('membershipPage', () => {
  const cases: [string, Record<string, unknown>, number][] = [
    ['first page, more to come', { first: 3 }, 4],
    ['first page, the last one', { first: 5 }, 3],
    ['after a cursor', { first: 2, after: someCursor }, 3],
    ['after a cursor, the end', { first: 4, after: someCursor }, 2],
    ['last rows', { last: 3 }, 4],
    ['last rows, all of them', { last: 5 }, 2],
    ['before a cursor', { last: 2, before: someCursor }, 3],
    ['the default size', {}, 8],
    ['an empty page', { first: 3 }, 0],
  ];
  for (const [name, args, fetched] of cases) {
    it(`matches the helper's page: ${name}`, () => {
      const list = rows.slice(0, fetched);
      const ours = membershipPage(list, args, (m) => m.team, SIZES);
      const theirs = helper.resolve(list as never, args as never, {} as never) as never;
      expect(view(ours)).toEqual(view(theirs));
    });
  }

  it('encodes no cursor until one is read', () => {
    const page = membershipPage(rows.slice(0, 4), { first: 3 }, (m) => m.team, SIZES);
    for (const edge of page.edges) expect(Object.getOwnPropertyDescriptor(edge, 'cursor')).toBeUndefined();
    expect(page.pageInfo.startCursor).toBe(page.edges[0]!.cursor);
    expect(page.edges[0]!.role).toBe('OWNER');
  });
});
