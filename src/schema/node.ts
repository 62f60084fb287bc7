import type { Context } from '../context.js';
import { type NodeType, parseGlobalId } from '../ids.js';
import { MAX_LENGTH, MAX_LIST_ITEMS } from '../resolvers/validation.js';
import { builder } from './builder.js';
import { TeamRef } from './team.js';
import { UserRef } from './user.js';

/**
 * `node` and `nodes` through the request's DataLoaders: any mix of IDs costs one statement per type.
 * A malformed ID or an ID of an unknown type resolves to null, never an error.
 */
const loadNode: Record<NodeType, (ctx: Context, id: string) => Promise<object | null>> = {
  User: async (ctx, id) => {
    const user = await ctx.loaders.userById.load(id);
    return user && UserRef.addBrand(user);
  },
  Team: async (ctx, id) => {
    const team = await ctx.loaders.teamById.load(id);
    return team && TeamRef.addBrand(team);
  },
};

function resolveNode(ctx: Context, globalId: string): Promise<object | null> | null {
  const parsed = parseGlobalId(globalId);
  return parsed ? loadNode[parsed.type](ctx, parsed.id) : null;
}

builder.queryFields((t) => ({
  node: t.field({
    type: builder.nodeInterfaceRef(),
    nullable: true,
    description: 'Any entity by its global ID; null when there is none.',
    args: { id: t.arg.id({ required: true, description: `A global ID, at most ${MAX_LENGTH.id} characters.`, extensions: { maxLength: MAX_LENGTH.id } }) },
    resolve: (_root, args, ctx) => resolveNode(ctx, args.id),
  }),
  nodes: t.field({
    type: [builder.nodeInterfaceRef()],
    nullable: { list: false, items: true },
    description: 'Entities by global ID, in the order asked; null for each ID with no entity.',
    args: {
      ids: t.arg.idList({
        required: true,
        description: `Global IDs: at most ${MAX_LIST_ITEMS}, each at most ${MAX_LENGTH.id} characters.`,
        extensions: { maxLength: MAX_LENGTH.id },
      }),
    },
    resolve: (_root, args, ctx) => Promise.all(args.ids.map(async (id) => resolveNode(ctx, id))),
  }),
}));
