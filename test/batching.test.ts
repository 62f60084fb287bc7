import { beforeAll, describe, expect, it } from 'vitest';
import { seedBenchmark } from '../prisma/seed.js';
import { useTestApp } from './helpers/app.js';

const t = useTestApp();

beforeAll(async () => {
  await seedBenchmark(t.db.prisma, { users: 120, teams: 30, membershipsPerUser: 5 });
});

const NESTED_PAGE = /* GraphQL */ `
  query ($n: Int!) {
    users(first: $n) {
      totalCount
      edges { node {
        email
        teams(first: 5) { totalCount edges { role joinedAt node {
          name
          members(first: 3) { totalCount edges { role node { email } } }
        } } }
      } }
    }
  }
`;

async function statementsFor(query: string, variables: Record<string, unknown>) {
  t.resetStatements();
  const res = await t.gql(query, variables);
  expect(res.errors).toBeUndefined();
  return { data: res.data!, statements: [...t.statements] };
}

describe('nested reads cost a fixed number of SQL statements', () => {
  it('users → teams → members costs the same for N = 5 and N = 50, at most 12', async () => {
    const five = await statementsFor(NESTED_PAGE, { n: 5 });
    const fifty = await statementsFor(NESTED_PAGE, { n: 50 });
    process.stdout.write(`N=5: ${five.statements.length} statements\n${five.statements.join('\n---\n')}\n`);
    expect(five.data.users.edges).toHaveLength(5);
    expect(fifty.data.users.edges).toHaveLength(50);
    expect(fifty.statements.length).toBe(five.statements.length);
    expect(fifty.statements.length).toBeLessThanOrEqual(12);
  });
});
