import { describe, expect, it, vi } from 'vitest';
import { toGlobalId } from '../src/ids.js';
import { useTestApp } from './helpers/app.js';
import { unique } from './helpers/fixtures.js';

/**
 * Every mutation is one SQL statement (issue 10): the row, its outbox event and the membership
 * counters written together, with no BEGIN/COMMIT round trips and no advisory lock. Counted through
 * the statements Prisma's driver adapter ran (Database.onQuery), on PostgreSQL and PGlite alike.
 */
const t = useTestApp();

/**
 * Runs one GraphQL operation and returns its result and the SQL statements it sent. Prisma may report
 * a statement (a COMMIT) after the response: a marker query sent afterwards and seen in the log means
 * everything before it has been reported.
 */
async function statementsOf(query: string, variables: Record<string, unknown>, as?: { token: string }) {
  t.resetStatements();
  const res = await t.gql(query, variables, as);
  expect(res.errors).toBeUndefined();
  await t.db.prisma.$queryRawUnsafe('SELECT 1 AS end_of_mutation');
  const end = await vi.waitFor(() => {
    const at = t.statements.findIndex((s) => s.includes('end_of_mutation'));
    expect(at).toBeGreaterThanOrEqual(0);
    return at;
  });
  const data = Object.values(res.data!)[0] as { __typename: string };
  return { data, statements: t.statements.slice(0, end).map((s) => s.replace(/\s+/g, ' ').trim()) };
}

async function user(tag = 'u') {
  const row = await t.db.prisma.user.create({ data: { email: `${unique(tag)}@example.com`, name: tag } });
  return { id: row.id, gid: toGlobalId('User', row.id) };
}
async function team(members: [{ id: string }, 'OWNER' | 'MEMBER'][] = []) {
  const row = await t.db.prisma.team.create({ data: { slug: unique('team'), name: 'Team' } });
  for (const [m, role] of members) await t.db.prisma.membership.create({ data: { userId: m.id, teamId: row.id, role } });
  return { id: row.id, gid: toGlobalId('Team', row.id) };
}

const M = {
  createUser: 'mutation ($i: CreateUserInput!) { createUser(input: $i) { __typename } }',
  updateUser: 'mutation ($i: UpdateUserInput!) { updateUser(input: $i) { __typename } }',
  deleteUser: 'mutation ($i: DeleteUserInput!) { deleteUser(input: $i) { __typename } }',
  createTeam: 'mutation ($i: CreateTeamInput!) { createTeam(input: $i) { __typename } }',
  addTeamMember: 'mutation ($i: AddTeamMemberInput!) { addTeamMember(input: $i) { __typename } }',
  removeTeamMember: 'mutation ($i: RemoveTeamMemberInput!) { removeTeamMember(input: $i) { __typename } }',
  transferUser: 'mutation ($i: TransferUserInput!) { transferUser(input: $i) { __typename } }',
};

/** The one statement of a successful mutation: it writes `table` and its outbox event, and nothing else. */
function expectOneStatement(statements: string[], writes: RegExp) {
  expect(statements).toHaveLength(1);
  const [sql] = statements as [string];
  expect(sql).toMatch(writes);
  expect(sql).toMatch(/INSERT INTO "OutboxEvent"/);
  expect(sql).not.toMatch(/BEGIN|COMMIT|pg_advisory/i);
}

describe('each mutation is one statement (as ADMIN)', () => {
  it('createUser: 1 statement (was 5: BEGIN, insert, advisory lock, outbox insert, COMMIT)', async () => {
    const { data, statements } = await statementsOf(M.createUser, { i: { email: `${unique('c')}@example.com`, name: 'C' } });
    expect(data.__typename).toBe('CreateUserSuccess');
    expectOneStatement(statements, /INSERT INTO "User"/);
  });

  it('updateUser: 1 statement, with and without expectedVersion', async () => {
    const u = await user();
    const first = await statementsOf(M.updateUser, { i: { id: u.gid, name: 'Renamed' } });
    expect(first.data.__typename).toBe('UpdateUserSuccess');
    expectOneStatement(first.statements, /UPDATE "User"/);
    const second = await statementsOf(M.updateUser, { i: { id: u.gid, name: 'Again', expectedVersion: 2 } });
    expect(second.data.__typename).toBe('UpdateUserSuccess');
    expectOneStatement(second.statements, /UPDATE "User"/);
  });

  it('deleteUser: 1 statement, memberships and counters included', async () => {
    const u = await user();
    const [a, b] = [await team([[u, 'MEMBER']]), await team([[u, 'OWNER']])];
    const { data, statements } = await statementsOf(M.deleteUser, { i: { id: u.gid } });
    expect(data.__typename).toBe('DeleteUserSuccess');
    expectOneStatement(statements, /DELETE FROM "User"/);
    // Its event names the teams whose memberships went with the user.
    const event = await t.db.prisma.outboxEvent.findFirstOrThrow({ where: { aggregateId: u.id, type: 'user.deleted' } });
    expect(event.payload).toEqual({ id: u.id, teamIds: [a.id, b.id].sort() });
  });

  it('createTeam: 1 statement', async () => {
    const { data, statements } = await statementsOf(M.createTeam, { i: { slug: unique('slug'), name: 'T' } });
    expect(data.__typename).toBe('CreateTeamSuccess');
    expectOneStatement(statements, /INSERT INTO "Team"/);
  });

  it('addTeamMember, removeTeamMember, transferUser: 1 statement each', async () => {
    const [u, owner] = [await user(), await user()];
    const [a, b] = [await team([[owner, 'OWNER']]), await team()];
    const added = await statementsOf(M.addTeamMember, { i: { teamId: a.gid, userId: u.gid } });
    expect(added.data.__typename).toBe('AddTeamMemberSuccess');
    expectOneStatement(added.statements, /INSERT INTO "Membership"/);
    const moved = await statementsOf(M.transferUser, { i: { userId: u.gid, fromTeamId: a.gid, toTeamId: b.gid } });
    expect(moved.data.__typename).toBe('TransferUserSuccess');
    expectOneStatement(moved.statements, /DELETE FROM "Membership"/);
    const removed = await statementsOf(M.removeTeamMember, { i: { teamId: b.gid, userId: u.gid } });
    expect(removed.data.__typename).toBe('RemoveTeamMemberSuccess');
    expectOneStatement(removed.statements, /DELETE FROM "Membership"/);
  });
});

describe('refusals are one statement too, and write nothing', () => {
  it.each([
    [
      'createUser: EmailTakenError',
      async () => {
        const email = `${unique('taken')}@example.com`;
        await t.db.prisma.user.create({ data: { email, name: 'T' } });
        return [M.createUser, { i: { email, name: 'Again' } }, 'EmailTakenError'] as const;
      },
    ],
    ['updateUser: VersionConflictError', async () => [M.updateUser, { i: { id: (await user()).gid, name: 'X', expectedVersion: 9 } }, 'VersionConflictError'] as const],
    ['updateUser: NotFoundError', async () => [M.updateUser, { i: { id: toGlobalId('User', '00000000-0000-4000-8000-000000000000'), name: 'X' } }, 'NotFoundError'] as const],
    ['deleteUser: NotFoundError', async () => [M.deleteUser, { i: { id: toGlobalId('User', '00000000-0000-4000-8000-000000000000') } }, 'NotFoundError'] as const],
    [
      'removeTeamMember: last OWNER',
      async () => {
        const o = await user();
        return [M.removeTeamMember, { i: { teamId: (await team([[o, 'OWNER']])).gid, userId: o.gid } }, 'MembershipError'] as const;
      },
    ],
    [
      'addTeamMember: already a member',
      async () => {
        const m = await user();
        return [M.addTeamMember, { i: { teamId: (await team([[m, 'MEMBER']])).gid, userId: m.gid } }, 'MembershipError'] as const;
      },
    ],
  ])('%s', async (_name, setup) => {
    const [query, variables, expected] = await setup();
    const outbox = await t.db.prisma.outboxEvent.count();
    const { data, statements } = await statementsOf(query, variables);
    expect(data.__typename).toBe(expected);
    expect(statements).toHaveLength(1);
    expect(await t.db.prisma.outboxEvent.count()).toBe(outbox);
  });
});

describe('as a team OWNER (not ADMIN)', () => {
  it('addTeamMember: the authorization pre-check, then the one statement that checks ownership again under its locks', async () => {
    const [owner, u] = [await user('owner'), await user()];
    const a = await team([[owner, 'OWNER']]);
    const token = await t.token({ role: 'USER', sub: owner.id });
    const { data, statements } = await statementsOf(M.addTeamMember, { i: { teamId: a.gid, userId: u.gid } }, { token });
    expect(data.__typename).toBe('AddTeamMemberSuccess');
    expect(statements).toHaveLength(2);
    expect(statements[1]).toMatch(/"role" = 'OWNER' FOR SHARE/);
  });
});
