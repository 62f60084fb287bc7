import { type GraphQLSchema, isObjectType, lexicographicSortSchema } from 'graphql';
import { type NodeType, toGlobalId } from '../ids.js';
import { abortableResolvers } from './abortable.js';
import { builder } from './builder.js';
import './errors.js';
import './user.js';
import './profile.js';
import './team.js';
import './membership.js';
import './node.js';
import './events.js';

/**
 * plugin-relay resolves every node's global `id` with an `async` function, so each User or Team in a
 * page is a promise to the executor: with the ids, a users page of 50 × 5 teams made 300 promises,
 * an object promise (promiseForObject) around each, and their microtasks and garbage (a quarter of the
 * page's CPU in the benchmark). The id is a pure function of the row's `id`, which plugin-prisma
 * always selects for a node: resolved here without a promise, with the same encoding. No other
 * wrapper applies to these fields (no scopes on them or their types), so nothing else is bypassed;
 * `test/batching.test.ts` checks the ids and that pages resolve without a promise below their root.
 */
function synchronousGlobalIds(schema: GraphQLSchema, types: readonly NodeType[]): GraphQLSchema {
  for (const name of types) {
    const type = schema.getType(name);
    const field = isObjectType(type) ? type.getFields().id : undefined;
    if (!field) throw new Error(`synchronousGlobalIds: ${name} has no id field`);
    field.resolve = (parent: { id: string }) => toGlobalId(name, parent.id);
  }
  return schema;
}

/** The served schema, sorted so the printed `schema.graphql` diffs cleanly. */
export const schema: GraphQLSchema = abortableResolvers(synchronousGlobalIds(lexicographicSortSchema(builder.toSchema()), ['User', 'Team']));
