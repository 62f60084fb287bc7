import { type DocumentNode, visit } from 'graphql';
import type { ComplexityEstimator } from 'graphql-query-complexity';

/**
 * The cost of a field is 1 plus the cost of its selection, except that a list whose size the client
 * chooses multiplies its selection: a connection (a field with `first`/`last` arguments) by
 * min(first ?? last ?? defaultPageSize, maxPageSize), and `nodes(ids:)` by the number of ids.
 * So `users(first: 100) { edges { node { teams(first: 100) { … } } } }` costs 100 × 100 × …, which
 * is how many rows it can really fetch, while a wide but flat query stays cheap.
 */
export function connectionCostEstimator({ defaultPageSize = 20, maxPageSize = 100 } = {}): ComplexityEstimator {
  return ({ field, args, childComplexity }) => {
    let size = 1;
    if (field.args.some((a) => a.name === 'first' || a.name === 'last')) {
      const asked = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : defaultPageSize;
      size = Math.min(Math.max(asked, 0), maxPageSize);
    } else if (Array.isArray(args.ids)) {
      size = args.ids.length;
    }
    return 1 + size * childComplexity;
  };
}

/**
 * The document with every `@skip`/`@include` removed, so the cost counts each branch as taken.
 * graphql-query-complexity evaluates those directives with the request's variables and has no option
 * to ignore them, and a skipped selection prices at 0: `nodes(ids: [490000 ids]) { ... on User
 * @skip(if: true) { id } }` cost 1 while its resolver still ran 490000 times. Made once per parsed
 * document (documents are cached per query string: useOperationLimits).
 */
const withEveryBranch = new WeakMap<DocumentNode, DocumentNode>();
export function everyBranchTaken(document: DocumentNode): DocumentNode {
  let priced = withEveryBranch.get(document);
  if (!priced) {
    // Only selections carry these directives: argument values (a list of thousands) are not walked.
    priced = visit(document, {
      Argument: () => false,
      VariableDefinition: () => false,
      Directive: (node) => (node.name.value === 'skip' || node.name.value === 'include' ? null : false),
    });
    withEveryBranch.set(document, priced);
  }
  return priced;
}
