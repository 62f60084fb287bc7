import { type GraphQLResolveInfo, Kind, type SelectionSetNode } from 'graphql';
import type { Context } from '../context.js';
import { type Page, UnsupportedQuery } from '../resolvers/page-sql.js';

/**
 * The root connections' one-statement pages (resolvers/page-sql.ts) meet plugin-prisma here: the
 * connection's `resolve` runs the page with its totalCount when the selection asks for it, and the
 * connection's `totalCount` callback, which plugin-prisma calls later with the same `info`, reads
 * that count instead of sending a COUNT of its own.
 */
const counts = new WeakMap<GraphQLResolveInfo, number>();

function selects(selectionSet: SelectionSetNode | undefined, name: string, info: GraphQLResolveInfo): boolean {
  return (selectionSet?.selections ?? []).some((s) => {
    if (s.kind === Kind.FIELD) return s.name.value === name;
    if (s.kind === Kind.INLINE_FRAGMENT) return selects(s.selectionSet, name, info);
    return selects(info.fragments[s.name.value]?.selectionSet, name, info);
  });
}

/** Whether the connection this `info` resolves asks for its totalCount. */
function selectsTotalCount(info: GraphQLResolveInfo): boolean {
  return info.fieldNodes.some((node) => selects(node.selectionSet, 'totalCount', info));
}

/**
 * The rows of `load`'s one statement (with the count when asked), or of `fallback` (Prisma's own
 * query) when the planned query is outside what page-sql compiles.
 */
export async function onePage<T>(
  info: GraphQLResolveInfo,
  ctx: Context,
  load: (withCount: boolean) => Promise<Page<T>>,
  fallback: () => Promise<T[]>,
): Promise<T[]> {
  let page: Page<T>;
  try {
    page = await load(selectsTotalCount(info));
  } catch (error) {
    if (!(error instanceof UnsupportedQuery)) throw error;
    ctx.logger.debug({ reason: error.message }, 'connection page planned by Prisma (two statements with a totalCount)');
    return fallback();
  }
  if (page.totalCount !== undefined) counts.set(info, page.totalCount);
  return page.rows;
}

/** The totalCount the page's statement computed, if it did. */
export function pageTotalCount(info: GraphQLResolveInfo): number | undefined {
  return counts.get(info);
}
