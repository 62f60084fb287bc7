import { getConnectionPageSize } from '@pothos/core';
import type { DefaultConnectionArguments } from '@pothos/plugin-relay';
import { formatPrismaCursor } from '@pothos/plugin-prisma';
import { badUserInputError } from '../errors/index.js';
import { isUuid } from '../ids.js';

/**
 * What every connection shares: the cursor guard and the described `totalCount` field.
 *
 * Cursors are opaque to clients but decode to row keys; one that decodes but does not hold UUIDs
 * (a forged or foreign cursor) would reach the database as a type error, so it is refused as
 * 400 BAD_USER_INPUT "Invalid cursor" before any statement.
 */
const invalidCursor = () => badUserInputError('Invalid cursor');

/** The cursor guard of a root connection over rows keyed by `id` (users, teams). */
export function checkIdCursor(query: { cursor?: { id?: unknown } }): void {
  if (query.cursor && !isUuid(String(query.cursor.id))) throw invalidCursor();
}

/** The cursor guard of a Membership connection (User.teams, Team.members): the key holds two UUIDs. */
export function checkedMembershipCursor<Q extends { cursor?: { userId_teamId?: { userId: unknown; teamId: unknown } } }>(query: Q): Q {
  const key = query.cursor?.userId_teamId;
  if (key && !(isUuid(String(key.userId)) && isUuid(String(key.teamId)))) throw invalidCursor();
  return query;
}

/**
 * `totalCount` of a root connection (`t.int(lazyTotalCount(…))`), declared only to document it:
 * plugin-prisma's lazy count (the connection's `totalCount` option, see pages.ts) is what resolves it.
 */
export function lazyTotalCount(description: string) {
  return {
    description,
    extensions: { pothosPrismaTotalCount: true },
    resolve: (parent: unknown) => (parent as { totalCount: () => Promise<number> }).totalCount(),
  };
}

/** The Membership key, in the order of its compound cursor `userId_teamId` (see membership.ts). */
const MEMBERSHIP_KEY = ['userId', 'teamId'];

/** An edge of a membership page: the membership's columns, its node, and its cursor when read. */
class MembershipEdge<Row extends object, Node> {
  #cursor: string | undefined;
  constructor(
    private readonly row: Row,
    readonly node: Node,
  ) {
    Object.assign(this, row);
  }
  get cursor(): string {
    return (this.#cursor ??= formatPrismaCursor(this.row as Record<string, unknown>, MEMBERSHIP_KEY));
  }
}

/** A page's start and end cursors, encoded when read. */
class LazyPageInfo {
  constructor(
    private readonly edges: readonly { readonly cursor: string }[],
    readonly hasPreviousPage: boolean,
    readonly hasNextPage: boolean,
  ) {}
  get startCursor(): string | null {
    return this.edges[0]?.cursor ?? null;
  }
  get endCursor(): string | null {
    return this.edges.at(-1)?.cursor ?? null;
  }
}

/**
 * A page of memberships (User.teams, Team.members) as plugin-prisma's connection helper `resolve`
 * builds it from the rows its query fetched (one more than the page, to tell whether another page
 * exists): the same edges, page info and cursors, except that a cursor is encoded only when read.
 * Most pages are asked for their nodes, not their cursors, and encoding one per edge was ~6 % of a
 * teams page's CPU and ~8 % of a users page's allocation (bench profile). `sizes` must be the
 * helper's `defaultSize` and `maxSize`.
 */
export function membershipPage<Row extends object, Node>(
  rows: readonly Row[],
  args: DefaultConnectionArguments,
  nodeOf: (row: Row) => Node,
  sizes: { defaultSize: number; maxSize: number },
) {
  const backward = args.before != null || args.last != null;
  const { limit } = getConnectionPageSize({ args, ...sizes });
  const full = rows.length === limit;
  const page = full ? (backward ? rows.slice(1) : rows.slice(0, -1)) : rows;
  const edges = page.map((row) => new MembershipEdge(row, nodeOf(row)) as MembershipEdge<Row, Node> & Row);
  const hasNextPage = args.before != null ? true : args.last != null ? false : full;
  const hasPreviousPage = args.after != null ? true : backward ? full : false;
  return { edges, pageInfo: new LazyPageInfo(edges, hasPreviousPage, hasNextPage) };
}
