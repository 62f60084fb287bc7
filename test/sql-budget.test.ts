import { describe, expect, it, vi } from 'vitest';
import { toGlobalId } from '../src/ids.js';
import { SQL_BUDGET_EXCEEDED } from '../src/plugins/use-sql-budget.js';
import { type TestApp, useTestApp } from './helpers/app.js';
import { observedStatements } from './helpers/metrics.js';

/**
 * The N+1 alarm (issue 14, point 4): every query and mutation counts the SQL statements it sends, into
 * `graphql_sql_statements` per operation; past SQL_BUDGET_PER_REQUEST a warning names the operation and
 * its most repeated statement (development and test), which fails the test that sent it.
 *
 * Mutation fields run one after another, so `n` aliased createUser fields send the same INSERT `n`
 * times: an operation with a known count and a known repeated statement.
 */
const t = useTestApp({ SQL_BUDGET_PER_REQUEST: '2' });
const prod = useTestApp({ NODE_ENV: 'production', JWT_SECRET: 'a-production-test-secret-of-at-least-32-bytes', SQL_BUDGET_PER_REQUEST: '2' });

let counter = 0;
const email = () => `budget-${Date.now().toString(36)}-${++counter}@example.com`;

/** A mutation named `name` creating `n` users: `n` statements, the same INSERT each time. */
function createUsers(app: TestApp, name: string, n: number) {
  const fields = Array.from({ length: n }, (_, i) => `u${i}: createUser(input: { email: "${email()}", name: "B" }) { __typename }`);
  return app.gql(`mutation ${name} { ${fields.join(' ')} }`);
}

/** The statements one run of `query` sends, alone (as the driver adapter ran them, up to a marker statement). */
async function soloStatements(query: string): Promise<number> {
  t.resetStatements();
  const res = await t.gql(query);
  expect(res.errors).toBeUndefined();
  await t.db.prisma.$queryRawUnsafe('SELECT 1 AS end_of_operation');
  return vi.waitFor(() => {
    const at = t.statements.findIndex((s) => s.includes('end_of_operation'));
    expect(at).toBeGreaterThanOrEqual(0);
    return at;
  });
}

describe('graphql_sql_statements', () => {
  it('observes each operation’s statement count under its name, in /metrics', async () => {
    for (let i = 0; i < 2; i++) expect((await createUsers(t, 'BudgetTwo', 2)).errors).toBeUndefined();
    const seen = await observedStatements(t, 'BudgetTwo');
    expect(seen).toMatchObject({ count: 2, sum: 4 });
    expect(seen.buckets.get(1)).toBe(0);
    expect(seen.buckets.get(2)).toBe(2);
    const text = await (await t.fetch('/metrics')).text();
    expect(text).toMatch(/graphql_sql_statements_sum\{operationName="BudgetTwo",operationType="mutation"\} 4\n/);
  });

  it('counts the statements of DataLoader batches, as the operation sent them', async () => {
    const ids = await Promise.all([0, 1, 2].map(async () => toGlobalId('User', (await t.db.prisma.user.create({ data: { email: email(), name: 'N' } })).id)));
    const query = `query BudgetNodes { nodes(ids: ${JSON.stringify(ids)}) { id ... on User { email teams(first: 5) { totalCount } } } }`;
    const solo = await soloStatements(query);
    expect(solo).toBeGreaterThan(0);
    expect(solo).toBeLessThanOrEqual(2);
    expect(await observedStatements(t, 'BudgetNodes')).toMatchObject({ count: 1, sum: solo });
  });

  it('counts per operation under concurrency: concurrent operations do not mix their counts', async () => {
    const nodes = await Promise.all([0, 1].map(async () => toGlobalId('User', (await t.db.prisma.user.create({ data: { email: email(), name: 'C' } })).id)));
    // Through the request's DataLoader only: Prisma merges the findUnique calls of one tick into one
    // statement even across requests (plugin-prisma's relation fallback, as `teams` above), and such a
    // statement counts once, for the request that opened the tick (README, "SQL statement budget").
    const query = `query BudgetConcurrentRead { nodes(ids: ${JSON.stringify(nodes)}) { id ... on User { email name } } }`;
    const readSolo = await soloStatements(query);
    const before = await observedStatements(t, 'BudgetConcurrentRead');
    const N = 10;
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) => [createUsers(t, 'BudgetConcurrentOne', 1), i % 2 ? t.gql(query) : createUsers(t, 'BudgetConcurrentTwo', 2)]).flat(),
    );
    for (const r of results) expect(r.errors).toBeUndefined();
    // Each observation is exactly its operation's own count: every one in the bucket of that count.
    const one = await observedStatements(t, 'BudgetConcurrentOne');
    expect(one).toMatchObject({ count: N, sum: N });
    expect(one.buckets.get(0)).toBe(0);
    const two = await observedStatements(t, 'BudgetConcurrentTwo');
    expect(two).toMatchObject({ count: N / 2, sum: N });
    expect(two.buckets.get(1)).toBe(0);
    const read = await observedStatements(t, 'BudgetConcurrentRead');
    expect(read.count - before.count).toBe(N / 2);
    expect(read.sum - before.sum).toBe((N / 2) * readSolo);
  });

  it('production counts without warning', async () => {
    expect((await createUsers(prod, 'BudgetProd', 3)).errors).toBeUndefined();
    expect(await observedStatements(prod, 'BudgetProd')).toMatchObject({ count: 1, sum: 3 });
    expect(prod.logs.some((l) => l.msg === SQL_BUDGET_EXCEEDED)).toBe(false);
  });
});

describe('over the budget (SQL_BUDGET_PER_REQUEST=2)', () => {
  it('development and test: a warning names the operation and the repeated statement', async () => {
    t.allowSqlOverBudget();
    const before = t.logs.length;
    expect((await createUsers(t, 'BudgetThree', 3)).errors).toBeUndefined();
    const warnings = t.logs.slice(before).filter((l) => l.msg === SQL_BUDGET_EXCEEDED);
    expect(warnings).toHaveLength(1);
    const [w] = warnings;
    expect(w).toMatchObject({ level: 40, operationName: 'BudgetThree', operationType: 'mutation', statements: 3, budget: 2, repeatedTimes: 3 });
    expect(w!.repeatedStatement).toMatch(/INSERT INTO "public"\."User"|INSERT INTO "User"/);
    expect(typeof w!.requestId).toBe('string');
  });

  it('at the budget: no warning', async () => {
    const before = t.logs.length;
    expect((await createUsers(t, 'BudgetAtTwo', 2)).errors).toBeUndefined();
    expect(t.logs.slice(before).some((l) => l.msg === SQL_BUDGET_EXCEEDED)).toBe(false);
  });

  // The test helper's afterEach turns the warning into this test's failure: `it.fails` passes only
  // if the test failed.
  it.fails('in tests, an operation past the budget fails the test that sent it', async () => {
    expect((await createUsers(t, 'BudgetFails', 3)).errors).toBeUndefined();
  });
});
