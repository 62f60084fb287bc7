import { type GraphQLSchema, getNamedType, isObjectType, lexicographicSortSchema } from 'graphql';
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

/**
 * plugin-relay resolves a connection's `edges` and `pageInfo` and an edge's `node` with resolvers that
 * read the property of the same name (`(parent) => parent.edges`), which is what a field without a
 * resolver does. A compiled query (useCompiledQueries) reads a field without a resolver inline, and
 * calls a resolver through a resolve info, a response path and two closures made for each call: a
 * users page of 50 × 5 teams called these three 353 times, a teams page of 20 × 20 members 463 times.
 * Dropped where no plugin wrapped them (`pothosResolveWrapped`: no scopes, nothing else to run);
 * `test/schema.test.ts` checks that plugin-relay's resolvers still only read the property.
 */
export function plainConnectionFields(schema: GraphQLSchema): GraphQLSchema {
  const unwrapped = (field: { extensions: Record<string, unknown> }) => field.extensions.pothosResolveWrapped === false;
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type)) continue;
    const { edges, pageInfo } = type.getFields();
    if (!edges || !pageInfo || getNamedType(pageInfo.type).name !== 'PageInfo') continue;
    const edge = getNamedType(edges.type);
    const node = isObjectType(edge) ? edge.getFields().node : undefined;
    for (const field of [edges, pageInfo, node]) if (field && unwrapped(field)) field.resolve = undefined;
  }
  return schema;
}

/** The served schema, sorted so the printed `schema.graphql` diffs cleanly. */
export const schema: GraphQLSchema = abortableResolvers(plainConnectionFields(synchronousGlobalIds(lexicographicSortSchema(builder.toSchema()), ['User', 'Team'])));
