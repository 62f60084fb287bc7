import { type DocumentNode, getNamedType, type GraphQLResolveInfo, Kind, type OperationDefinitionNode, type SelectionSetNode, TypeInfo, visit, visitWithTypeInfo } from 'graphql';
import type { Context } from '../context.js';
import { type ColumnChoice, type Page, UnsupportedQuery } from '../resolvers/page-sql.js';

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
export async function onePage<T>(info: GraphQLResolveInfo, ctx: Context, load: (withCount: boolean) => Promise<Page<T>>, fallback: () => Promise<T[]>): Promise<T[]> {
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

/** Both of membership.ts' edges: a Membership row (MembershipEdge), its cursor made of its key. */
const MEMBERSHIP_EDGE = { model: 'Membership', fields: { __typename: [], cursor: ['userId', 'teamId'], node: [], role: ['role'], joinedAt: ['joinedAt'] } };

/**
 * The columns each field of User, Team and a membership edge reads from its row, by GraphQL type and
 * the model whose rows it resolves from. A page's JSON carries only the columns of the fields the
 * operation asks for anywhere on that model (plus its key), which halves what the database builds and
 * the server parses for a typical page. A field missing here (a field another module adds, or one
 * whose resolver reads other columns) makes the model's whole rows come, as before: add a field here
 * only when its resolver reads exactly these columns. A relation reads no column of its own (its rows
 * come in the statement beside the columns).
 */
const COLUMNS_OF_FIELD: Record<string, { readonly model: string; readonly fields: Record<string, readonly string[]> }> = {
  User: {
    model: 'User',
    fields: {
      __typename: [],
      id: ['id'],
      email: ['email'],
      name: ['name'],
      role: ['role'],
      version: ['version'],
      createdAt: ['createdAt'],
      updatedAt: ['updatedAt'],
      teams: ['teamCount'],
    },
  },
  Team: { model: 'Team', fields: { __typename: [], id: ['id'], slug: ['slug'], name: ['name'], createdAt: ['createdAt'], members: ['memberCount'] } },
  UserTeamsEdge: MEMBERSHIP_EDGE,
  TeamMembersEdge: MEMBERSHIP_EDGE,
};

/** Every model's key, which plugin-prisma and the membership pages read whatever the selection. */
const KEY_COLUMNS: Record<string, readonly string[]> = { User: ['id'], Team: ['id'], Membership: ['userId', 'teamId'] };

/** Per parsed operation (documents are cached per query text by useOperationLimits, so a repeated query walks its document once). */
const columnChoices = new WeakMap<OperationDefinitionNode, ColumnChoice>();

/** The columns of User, Team and Membership rows this operation can read; a model missing from the result needs whole rows. */
export function columnsFor(info: GraphQLResolveInfo): ColumnChoice {
  const known = columnChoices.get(info.operation);
  if (known) return known;
  const needed: Record<string, Set<string> | null> = Object.fromEntries(Object.entries(KEY_COLUMNS).map(([model, key]) => [model, new Set(key)]));
  const typeInfo = new TypeInfo(info.schema);
  const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [info.operation, ...Object.values(info.fragments)] };
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        const type = parent && COLUMNS_OF_FIELD[getNamedType(parent).name];
        if (!type) return;
        const columns = type.fields[node.name.value];
        const set = needed[type.model];
        if (!set) return;
        if (columns) for (const column of columns) set.add(column);
        else needed[type.model] = null;
      },
    }),
  );
  const choice: ColumnChoice = Object.fromEntries(Object.entries(needed).filter(([, set]) => set !== null)) as ColumnChoice;
  columnChoices.set(info.operation, choice);
  return choice;
}
