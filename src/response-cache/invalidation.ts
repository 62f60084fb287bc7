import { toGlobalId } from '../ids.js';
import { AddTeamMemberSuccess, RemoveTeamMemberSuccess, TransferUserSuccess } from '../resolvers/memberships.js';
import { CreateTeamSuccess } from '../resolvers/teams.js';
import { CreateUserSuccess, DeleteUserSuccess, UpdateUserSuccess } from '../resolvers/users.js';

/**
 * What a cached response is indexed by, and what a write invalidates:
 * - `{ typename: 'User', id: <global ID> }`: every response holding that user (the plugin indexes
 *   each object with an `id` it sees in a result; ids are the global IDs clients see);
 * - `{ typename: 'Team' }`: every response holding any team;
 * - `{ typename: 'Query', id: 'users' }`: every response to an operation selecting `Query.users` (the
 *   plugin tags responses with their root fields: lists and lookups by another key than the id, whose
 *   answer a write changes without the written entity being in it, such as a page it joins or an
 *   email lookup that was null).
 */
export interface CacheEntity {
  typename: string;
  id?: string;
}

const root = (...fields: string[]): CacheEntity[] => fields.map((id) => ({ typename: 'Query', id }));
const user = (id: string): CacheEntity => ({ typename: 'User', id: toGlobalId('User', id) });
const team = (id: string): CacheEntity => ({ typename: 'Team', id: toGlobalId('Team', id) });

/**
 * The cache entries a successful write makes stale; nothing for a typed failure (nothing changed).
 * Memberships move both counts (Team.members.totalCount, User.teams.totalCount) and both lists, so
 * they touch the team and the user, and `users(filter: { teamId })` pages.
 */
export function staleAfter(result: unknown): CacheEntity[] {
  if (result instanceof CreateUserSuccess) return root('users', 'userByEmail', 'me', 'user', 'node', 'nodes');
  if (result instanceof UpdateUserSuccess) return [user(result.user.id), ...root('users', 'userByEmail')];
  // Their memberships went with them: every team's member count and list may have changed.
  if (result instanceof DeleteUserSuccess) return [{ typename: 'User', id: result.deletedUserId }, { typename: 'Team' }, ...root('users', 'userByEmail')];
  if (result instanceof CreateTeamSuccess) return root('teams', 'teamBySlug', 'team', 'node', 'nodes');
  if (result instanceof AddTeamMemberSuccess || result instanceof RemoveTeamMemberSuccess) {
    return [team(result.team.id), user(result.user.id), ...root('users')];
  }
  if (result instanceof TransferUserSuccess) return [user(result.user.id), team(result.fromTeam.id), team(result.toTeam.id), ...root('users')];
  return [];
}

const written = new WeakMap<object, CacheEntity[]>();

/**
 * Notes what a mutation resolver's result makes stale, for the response cache to invalidate once the
 * operation has executed (before its response is sent), and returns the result. Every mutation
 * resolver passes its result through here: the entities a write touches are invalidated whatever
 * the client selected in the mutation's answer.
 */
export function noteWrite<T>(context: object, result: T): T {
  const stale = staleAfter(result);
  if (stale.length) {
    const list = written.get(context);
    if (list) list.push(...stale);
    else written.set(context, stale);
  }
  return result;
}

/** What the request's writes made stale so far (and forgets it). */
export function takeWrites(context: object): CacheEntity[] {
  const list = written.get(context) ?? [];
  written.delete(context);
  return list;
}
