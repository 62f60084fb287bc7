import { type ExecutionArgs, getOperationAST } from 'graphql';
import { Histogram } from 'prom-client';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { type Database, StatementTally } from '../db.js';
import { MAX_LABEL_CHARS, type Metrics } from '../metrics.js';

export interface SqlBudgetOptions {
  db: Pick<Database, 'tally' | 'settle'>;
  /** Registry and the bounded operation labels of `useGraphQLMetrics`. */
  metrics: Metrics;
  /** Statements a query or mutation may send before it is reported (SQL_BUDGET_PER_REQUEST). */
  budget: number;
  /** Log a warning for each operation past the budget (development and test); else only count. */
  warn: boolean;
}

/** The log message of an over-budget operation (test/helpers/app.ts fails the test on it). */
export const SQL_BUDGET_EXCEEDED = 'SQL statement budget exceeded';

/**
 * The N+1 alarm. Each query or mutation runs inside a statement tally (`Database.tally`), so every
 * statement Prisma sends for it is counted, whatever the concurrency; the count is observed in
 * `graphql_sql_statements{operationName,operationType}` with the bounded labels of useGraphQLMetrics
 * (reached execution: passed authentication, validation and the limits). Past the budget, outside
 * production, a warning names the operation and its most repeated statement.
 *
 * Cost per statement: one increment, plus one array push of the text (a reference) when warnings are
 * on. The texts are grouped only for an operation over budget, and dropped once it is checked.
 * Subscriptions are not counted: a long-lived stream has no per-request total.
 *
 * The tally is also the execution's statement scope for the deadline: an execution its request's
 * signal ended is answered once the statements it had running were cancelled and ended
 * (`Database.settle`), and none starts after (see `observedFactory` in src/db.ts).
 */
export function useSqlBudget({ db, metrics, budget, warn }: SqlBudgetOptions): Plugin<Context> {
  const histogram = new Histogram({
    name: 'graphql_sql_statements',
    help: 'SQL statements sent per GraphQL query or mutation.',
    labelNames: ['operationName', 'operationType'],
    buckets: [0, 1, 2, 3, 5, 10, 20, 50, 100, 250],
    registers: [metrics.registry],
  });
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const { document, operationName } = args as ExecutionArgs;
      const operation = getOperationAST(document, operationName);
      if (!operation || operation.operation === 'subscription') return;
      const { signal } = args.contextValue as Context;
      const tally = new StatementTally(warn ? [] : undefined, signal);
      // An execution the deadline ended is answered only once its statements have: cancelled, or
      // finished first (see Database.settle). Otherwise the result is passed through untouched
      // (envelop types it as any).
      const settled = (): Promise<void> | undefined => (signal.aborted ? db.settle(tally) : undefined);
      setExecuteFn((a) => {
        const result: unknown = db.tally(tally, (): unknown => executeFn(a));
        // finally() waits for the promise settled() returns, then passes the result on as it was.
        return result instanceof Promise ? result.finally(settled) : result;
      });
      return {
        onExecuteDone() {
          const name = operation.name?.value;
          const type = operation.operation;
          histogram.observe({ operationName: metrics.operationLabel(name), operationType: type }, tally.count);
          const texts = tally.texts;
          // Later statements (work the operation left running) are counted nowhere.
          tally.texts = undefined;
          if (!texts || tally.count <= budget) return;
          const [statement, times] = mostRepeated(texts);
          (args.contextValue as Context).logger.warn(
            {
              operationName: name === undefined ? null : name.length > MAX_LABEL_CHARS ? `${name.slice(0, MAX_LABEL_CHARS)}…` : name,
              operationType: type,
              statements: tally.count,
              budget,
              repeatedStatement: statement,
              repeatedTimes: times,
            },
            SQL_BUDGET_EXCEEDED,
          );
        },
      };
    },
  };
}

/** The statement text sent most often, and how often (the first of equals). */
function mostRepeated(texts: readonly string[]): [string, number] {
  const counts = new Map<string, number>();
  let best: [string, number] = [texts[0] ?? '', 0];
  for (const text of texts) {
    const n = (counts.get(text) ?? 0) + 1;
    counts.set(text, n);
    if (n > best[1]) best = [text, n];
  }
  return best;
}
