import type { TestApp } from './app.js';

/** What `graphql_sql_statements` holds for one operation name. */
export interface ObservedStatements {
  count: number;
  sum: number;
  /** Cumulative bucket counts by upper bound. */
  buckets: Map<number, number>;
}

/** What `graphql_sql_statements` holds for an operation name. */
export async function observedStatements(app: TestApp, operationName: string): Promise<ObservedStatements> {
  const metric = app.app.metrics.registry.getSingleMetric('graphql_sql_statements');
  // Histogram values carry the series name (_bucket, _sum, _count), which prom-client's type leaves out.
  const values = (await metric!.get()).values as { labels: Record<string, string | number>; value: number; metricName?: string }[];
  const mine = values.filter((v) => v.labels.operationName === operationName);
  const pick = (suffix: string) => mine.find((v) => v.metricName === `graphql_sql_statements_${suffix}`)?.value ?? 0;
  const buckets = new Map(mine.filter((v) => v.metricName?.endsWith('_bucket')).map((v) => [Number(v.labels.le), v.value]));
  return { count: pick('count'), sum: pick('sum'), buckets };
}
