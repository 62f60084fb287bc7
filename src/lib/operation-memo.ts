import type { DocumentNode } from 'graphql';

/** What `compute` found for one document and operation name, and whether the name selected an operation. */
export interface OperationFinding<T> {
  readonly value: T;
  readonly selected: boolean;
}

/**
 * Memoizes `compute` per parsed document (the parse cache hands the same object to every request with
 * the same query text) and `operationName`. Bounded: a document has few operations, and names that
 * select none, which a client can vary at will, are kept for at most 16 per document.
 */
export function perOperation<T>(compute: (document: DocumentNode, operationName: string | undefined) => OperationFinding<T>) {
  const memo = new WeakMap<DocumentNode, Map<string | undefined, T>>();
  return (document: DocumentNode, operationName: string | undefined): T => {
    let byName = memo.get(document);
    if (!byName) memo.set(document, (byName = new Map<string | undefined, T>()));
    if (byName.has(operationName)) return byName.get(operationName) as T;
    const { value, selected } = compute(document, operationName);
    if (selected || byName.size < 16) byName.set(operationName, value);
    return value;
  };
}
