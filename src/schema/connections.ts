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

/** `totalCount` of a connection whose resolver put the count on the page (the parent's counter column). */
export function storedTotalCount(description: string) {
  return {
    description,
    resolve: (connection: { totalCount: number }) => connection.totalCount,
  };
}
