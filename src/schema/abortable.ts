import { type GraphQLFieldResolver, type GraphQLSchema, getNamedType, isAbstractType, isLeafType, isObjectType } from 'graphql';

/** A response path link, as graphql-js (`typename` included) or graphql-jit (without it) make them. */
interface PathLink extends Parent {
  readonly key: string | number;
  prev: PathLink | undefined;
  readonly typename?: string | undefined;
}

/** Where a canonical link (or, for the root fields, the request's context) keeps its children's. */
const CHILDREN = Symbol('path children');
type Links = Map<string | number, PathLink>;
type Parent = { [CHILDREN]?: Links };

/**
 * The request's one link object for `path`. graphql-js makes each path link once and shares it (a
 * field's `info.path.prev` is its parent field's `info.path`); graphql-jit makes a new chain of links
 * for every resolver call. plugin-prisma finds what a parent field loaded for its children by the
 * parent's link object (a WeakMap), so under graphql-jit it found nothing and loaded the children
 * again, one statement per level. Links are made canonical per request: the first link seen for a
 * key under a canonical parent is kept, its `prev` pointed at that parent. The children of a link
 * are kept on it (a symbol-keyed property), not in a WeakMap: thousands of weak entries per request
 * tripled the garbage collector's work.
 */
function canonicalPath(root: Parent, path: PathLink): PathLink {
  const parent: Parent = path.prev ? canonicalPath(root, path.prev) : root;
  const byKey = (parent[CHILDREN] ??= new Map<string | number, PathLink>());
  const known = byKey.get(path.key);
  if (known) return known;
  // graphql-jit's links are fresh objects of this call alone: safe to adopt.
  if (path.prev) path.prev = parent as PathLink;
  byKey.set(path.key, path);
  return path;
}

/**
 * graphql 17's variable values (what its `getArgumentValues` reads), made once per compiled execution
 * and kept on the coerced values themselves (not enumerable): a WeakMap keyed by them, whose value
 * holds its key, would keep both until a full collection (see use-context-cache.ts).
 */
const VALUES = Symbol('graphql 17 variable values');
type Graphql17Variables = { sources: Record<string, never>; coerced: Record<string, unknown> };

/**
 * graphql-jit gives resolvers the coerced variables as a plain object; graphql 17 (and so Pothos, which
 * reads field arguments with its `getArgumentValues`) expects `{ sources, coerced }`. The sources (raw
 * values and their definitions) serve only to word errors about variables, which compiled queries
 * leave to the executor (useCompiledQueries), so they stay empty.
 */
function graphql17Variables(coerced: Record<string, unknown>): Graphql17Variables {
  const known = (coerced as { [VALUES]?: Graphql17Variables })[VALUES];
  if (known) return known;
  const values = { sources: {}, coerced };
  Object.defineProperty(coerced, VALUES, { value: values });
  return values;
}

type Context = { signal?: { aborted: boolean; reason: unknown } } | undefined;

/**
 * Every resolver first checks the request's signal (its deadline, or the client gone) and throws its
 * reason instead of starting. graphql-tools' executor checks it before each field itself; compiled
 * queries (useCompiledQueries) read no signal, so without this a query compiled by graphql-jit would
 * go on starting resolvers, and their statements, after the deadline. Not the subscription fields:
 * a subscription outlives the request deadline by design, and is never compiled.
 *
 * Under a compiled query (its path links carry no `typename`), the resolver of a field that returns
 * objects also gets what graphql-js would give it and graphql-jit does not: the request's canonical
 * path links (`canonicalPath`) and graphql 17's variable values (`graphql17Variables`). plugin-prisma
 * reads both only in the fields that load rows (the root fields, relations, connections), never in a
 * leaf (a scalar or an enum), so the leaves, most of the fields in a page, skip both.
 */
export function abortableResolvers(schema: GraphQLSchema): GraphQLSchema {
  const subscription = schema.getSubscriptionType();
  for (const type of Object.values(schema.getTypeMap())) {
    // graphql-jit calls a union's or interface's resolveType without its fourth argument, the abstract
    // type, which graphql-js passes and Pothos' resolveType hands on to graphql's default type resolver
    // (`schema.getPossibleTypes(type)`): every union (the mutations' results) failed with a TypeError.
    if (isAbstractType(type) && type.resolveType) {
      const resolveType = type.resolveType;
      type.resolveType = (value, context, info, abstractType = type) => resolveType(value, context, info, abstractType);
    }
    if (!isObjectType(type) || type === subscription || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve: GraphQLFieldResolver<unknown, Context> | undefined = field.resolve;
      if (!resolve) continue;
      const loads = !isLeafType(getNamedType(field.type));
      const wrapped: GraphQLFieldResolver<unknown, Context> = (parent, args, context, info) => {
        if (context?.signal?.aborted) throw context.signal.reason;
        const path = info.path as PathLink;
        if (loads && context && !('typename' in path)) {
          const jit = info as { path: unknown; variableValues: unknown };
          jit.path = canonicalPath(context as Parent, path);
          jit.variableValues = graphql17Variables(info.variableValues as unknown as Record<string, unknown>);
        }
        return resolve(parent, args, context, info);
      };
      field.resolve = wrapped;
    }
  }
  return schema;
}
