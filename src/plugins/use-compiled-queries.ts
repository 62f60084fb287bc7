import { type ExecutionArgs, type ExecutionResult, getOperationAST, type OperationDefinitionNode } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';
import { perOperation } from '../lib/operation-memo.js';
import type { RequestSignal } from '../request-signal.js';

export interface CompiledQueriesOptions {
  /** Interpreted executions of a document's operation before it is compiled (0: on its first). Default 1. */
  readonly after?: number;
  /** Told once per operation compiled. */
  readonly onCompile?: (operationName: string | undefined) => void;
  /** Told once per operation graphql-jit cannot compile (it then stays interpreted). */
  readonly onCompileError?: (operationName: string | undefined, errors: readonly unknown[]) => void;
}

/** What is known of one operation of one document. */
interface Entry {
  readonly operation: OperationDefinitionNode | null;
  /** Interpreted executions so far, until it is compiled. */
  runs: number;
  /** The compiled operation; null when it is not compiled (a subscription, or graphql-jit refused it). */
  compiled: CompiledQuery | null | undefined;
}

/**
 * Runs repeated queries as code compiled for them (graphql-jit) instead of through graphql-tools'
 * general executor, which walks the document for every field of every object and allocates a path,
 * an argument map and a result object per field: 42 % of a users page's allocations and most of its
 * execution time (bench/RESULTS.md). Compiled code resolves the same fields, with the same resolvers
 * and errors, into plain objects.
 *
 * - Queries and mutations; subscriptions keep the executor. A mutation's root fields run one after
 *   the other, as the executor runs them, and each checks the request's deadline before it starts,
 *   i.e. before its side effect (`abortableResolvers`).
 * - Compiled after `after` interpreted executions of the same parsed document and operation (the
 *   parse cache keeps one document object per text): with the default 1, a text seen once (a probe,
 *   a hostile client's unique queries) is interpreted and never pays for compiling. Compiled queries
 *   live as long as their document in the parse cache (a WeakMap), so they are bounded by it.
 * - The deadline: graphql-jit reads no signal. A compiled query that is still running when the
 *   request's signal aborts is answered at once with the signal's reason, as the executor does; and
 *   `abortableResolvers` (schema/abortable.ts) makes every resolver check the signal before it starts.
 * - A request error (no `data`: variables that do not coerce) is answered by the executor instead,
 *   so it reads exactly as it does for an interpreted query; field errors are graphql-jit's, located
 *   and masked alike. graphql-jit answers without `data` only before it has run any resolver, so a
 *   mutation run again this way has had no effect yet.
 */
export function useCompiledQueries(options: CompiledQueriesOptions = {}): Plugin {
  const after = options.after ?? 1;
  // One entry per parsed document and operation name, as long as the parse cache keeps the document.
  const entryOf = perOperation<Entry>((document, operationName) => {
    const operation = getOperationAST(document, operationName);
    return { value: { operation: operation ?? null, runs: 0, compiled: operation && operation.operation !== 'subscription' ? undefined : null }, selected: operation != null };
  });

  /** The compiled query for this execution, or undefined while it is to be interpreted. */
  function compiled(args: ExecutionArgs): CompiledQuery | undefined {
    const entry = entryOf(args.document, args.operationName ?? undefined);
    if (entry.compiled !== undefined) return entry.compiled ?? undefined;
    if (entry.runs++ < after) return undefined;
    const { operation } = entry;
    const result = compileQuery(args.schema, args.document, args.operationName ?? undefined, { disablingCapturingStackErrors: true });
    if (isCompiledQuery(result)) {
      options.onCompile?.(operation?.name?.value);
      return (entry.compiled = result);
    }
    entry.compiled = null;
    options.onCompileError?.(operation?.name?.value, result.errors ?? []);
    return undefined;
  }

  return {
    onExecute({ executeFn, setExecuteFn }) {
      const interpret = executeFn as (args: ExecutionArgs) => ExecutionResult | Promise<ExecutionResult>;
      // Decided on the arguments the executor is finally called with: a plugin after this one may pass
      // another document (the response cache adds the fields it needs to every query it caches).
      setExecuteFn((execution: ExecutionArgs) => {
        const query = compiled(execution);
        if (!query) return interpret(execution);
        // A result without data is a request error (variables that do not coerce): the executor
        // answers it, so it reads (message, code, status) exactly as for an interpreted query.
        const settle = (result: ExecutionResult) => (result.data === undefined ? interpret(execution) : result);
        const result = runCompiled(query, execution);
        return result instanceof Promise ? result.then(settle) : settle(result);
      });
    },
  };
}

/** Runs a compiled query; rejects with the signal's reason as soon as the request's deadline passes. */
function runCompiled(query: CompiledQuery, args: ExecutionArgs): ExecutionResult | Promise<ExecutionResult> {
  const signal = (args.contextValue as { signal?: RequestSignal } | undefined)?.signal;
  signal?.throwIfAborted();
  const result = query.query(args.rootValue, args.contextValue, args.variableValues);
  if (!signal || !(result instanceof Promise)) return result;
  let onAbort = () => undefined as void;
  const aborted = new Promise<never>((_resolve, reject) => {
    // The executor rejects with the signal's reason as it is (the deadline's REQUEST_TIMEOUT error).
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort);
  });
  return Promise.race([result, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}
