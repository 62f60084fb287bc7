import { type DocumentNode, type FragmentDefinitionNode, Kind, type SelectionSetNode, type ValueNode } from 'graphql';

export interface DocumentSize {
  /**
   * Selections (fields, fragment spreads, inline fragments) of the operations with each fragment
   * counted at every spread, or of all definitions as written when that is more: the first bounds
   * the walks over the operation (cost, execution), the second graphql's validation, whose
   * overlapping-fields rule compares selections pairwise.
   */
  readonly selections: number;
  /** The first literal list (argument or variable default) longer than the limit, if any. */
  readonly longList?: { readonly where: string; readonly items: number };
}

/**
 * Measures a parsed document in time linear in its size, before anything else looks at it: fragment
 * counts are memoised, so a fan-out of 10 spreads over 5 levels (31,111 selections from 150
 * tokens) costs 50 steps; a fragment cycle (another rule's error) counts as 0.
 */
export function measureDocument(document: DocumentNode, maxListItems: number): DocumentSize {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  let longList: DocumentSize['longList'];
  const checkList = (value: ValueNode, where: string): void => {
    if (longList) return;
    if (value.kind === Kind.LIST) {
      if (value.values.length > maxListItems) longList = { where, items: value.values.length };
      else for (const item of value.values) checkList(item, where);
    } else if (value.kind === Kind.OBJECT) {
      for (const field of value.fields) checkList(field.value, `${where}.${field.name.value}`);
    }
  };

  const written = (set: SelectionSetNode | undefined): number => {
    let count = 0;
    for (const selection of set?.selections ?? []) {
      count += 1;
      if (selection.kind === Kind.FIELD) {
        for (const argument of selection.arguments ?? []) checkList(argument.value, `${selection.name.value}(${argument.name.value})`);
      }
      if (selection.kind !== Kind.FRAGMENT_SPREAD) count += written(selection.selectionSet);
    }
    return count;
  };

  const fragmentCounts = new Map<string, number>();
  const spread = (name: string): number => {
    const known = fragmentCounts.get(name);
    if (known !== undefined) return known;
    fragmentCounts.set(name, 0);
    const count = expanded(fragments.get(name)?.selectionSet);
    fragmentCounts.set(name, count);
    return count;
  };
  const expanded = (set: SelectionSetNode | undefined): number => {
    let count = 0;
    for (const selection of set?.selections ?? []) {
      count += 1 + (selection.kind === Kind.FRAGMENT_SPREAD ? spread(selection.name.value) : expanded(selection.selectionSet));
    }
    return count;
  };

  let asWritten = 0;
  let asRun = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) {
      for (const variable of definition.variableDefinitions ?? []) {
        if (variable.defaultValue) checkList(variable.defaultValue, `Variable "$${variable.variable.name.value}"`);
      }
      asRun += expanded(definition.selectionSet);
    }
    if (definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) {
      asWritten += written(definition.selectionSet);
    }
  }
  return { selections: Math.max(asWritten, asRun), longList };
}
