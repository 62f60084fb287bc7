import { type ASTVisitor, type FragmentDefinitionNode, GraphQLError, Kind, type OperationDefinitionNode, type SelectionSetNode, type ValidationContext } from 'graphql';

/**
 * Counts the directives an operation would evaluate: on the operation, on every field, inline
 * fragment and fragment spread, and in a fragment's definition each time it is spread. Ours rather
 * than graphql-armor's max-directives, whose per-fragment memo returns the fragment's count in place
 * of the spread's, so from the second spread of a fragment on, the spread's own directives were not
 * counted (`...F @include(if: $a) ...F @include(if: $b) …` counted one). Fragment counts are memoised
 * per operation, so fan-out costs linear time; cycles are another rule's error, counted as 0 here.
 */
export function maxDirectivesRule(max: number, report: (context: ValidationContext, error: GraphQLError) => void) {
  return (context: ValidationContext): ASTVisitor => {
    const fragmentCounts = new Map<string, number>();

    const countFragment = (name: string): number => {
      const known = fragmentCounts.get(name);
      if (known !== undefined) return known;
      fragmentCounts.set(name, 0);
      const fragment: FragmentDefinitionNode | null | undefined = context.getFragment(name);
      const count = fragment ? (fragment.directives?.length ?? 0) + countSelections(fragment.selectionSet) : 0;
      fragmentCounts.set(name, count);
      return count;
    };

    const countSelections = (selectionSet: SelectionSetNode | undefined): number => {
      let count = 0;
      for (const selection of selectionSet?.selections ?? []) {
        count += selection.directives?.length ?? 0;
        count += selection.kind === Kind.FRAGMENT_SPREAD ? countFragment(selection.name.value) : countSelections(selection.selectionSet);
      }
      return count;
    };

    return {
      OperationDefinition(operation: OperationDefinitionNode) {
        const count = (operation.directives?.length ?? 0) + countSelections(operation.selectionSet);
        if (count > max) report(context, new GraphQLError(`Directives limit of ${max} exceeded, found ${count}.`));
      },
    };
  };
}
