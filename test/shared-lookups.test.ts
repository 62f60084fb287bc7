import { describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/ids.js';
import { createLoaders, SharedLookups } from '../src/loaders/index.js';
import { StatementTally } from '../src/statement-scope.js';
import { useTestApp } from './helpers/app.js';
import { observedStatements } from './helpers/metrics.js';

/**
 * Lookups by key (node, user, team, userByEmail, teamBySlug without nested relations) share their
 * statement with the other requests of the app that ask in the same turn of the event loop (see
 * SharedLookups in src/loaders/index.ts). Asserted by counting statements, as batching is.
 */
const t = useTestApp();

let counter = 0;
async function createUsers(n: number) {
  const tag = `${Date.now().toString(36)}-${++counter}`;
  return Promise.all(Array.from({ length: n }, (_, i) => t.db.prisma.user.create({ data: { email: `shared-${tag}-${i}@example.com`, name: `Shared ${i}` } })));
}

const NODE = 'query SharedNode($id: ID!) { node(id: $id) { id ... on User { email name } } }';

describe('lookups by key shared across requests', () => {
  it('concurrent requests for different users: one statement, each request gets its own user', async () => {
    const users = await createUsers(6);
    // A first request verifies the token (cached after), so the six below run without waiting on it.
    expect((await t.gql(NODE, { id: toGlobalId('User', users[0]!.id) })).errors).toBeUndefined();
    t.resetStatements();
    const answers = await Promise.all(users.map((u) => t.gql(NODE, { id: toGlobalId('User', u.id) })));
    answers.forEach((res, i) => {
      expect(res.errors).toBeUndefined();
      expect(res.data!.node).toEqual({ id: toGlobalId('User', users[i]!.id), email: users[i]!.email, name: users[i]!.name });
    });
    expect(t.statements).toHaveLength(1);
    expect(t.statements[0]).toMatch(/FROM "User" WHERE "id" = ANY\(/);
  });

  it('users and teams by id in concurrent requests: one statement per table', async () => {
    const users = await createUsers(3);
    const teams = await Promise.all(
      [0, 1, 2].map((i) => t.db.prisma.team.create({ data: { name: `Shared ${counter}-${i}`, slug: `shared-${Date.now().toString(36)}-${counter}-${i}` } })),
    );
    await t.gql(NODE, { id: toGlobalId('User', users[0]!.id) });
    t.resetStatements();
    const answers = await Promise.all([
      ...users.map((u) => t.gql(NODE, { id: toGlobalId('User', u.id) })),
      ...teams.map((team) => t.gql('query ($id: ID!) { node(id: $id) { id ... on Team { slug } } }', { id: toGlobalId('Team', team.id) })),
    ]);
    expect(answers.map((a) => a.errors)).toEqual(answers.map(() => undefined));
    expect(answers.slice(3).map((a) => a.data!.node.slug)).toEqual(teams.map((team) => team.slug));
    expect(t.statements.filter((s) => s.includes('FROM "User"'))).toHaveLength(1);
    expect(t.statements.filter((s) => s.includes('FROM "Team"'))).toHaveLength(1);
    expect(t.statements).toHaveLength(2);
  });

  it('shares the statement, never a row: a request after a change reads the changed row', async () => {
    const [user] = await createUsers(1);
    const id = toGlobalId('User', user!.id);
    expect((await t.gql(NODE, { id })).data!.node.name).toBe('Shared 0');
    await t.db.prisma.user.update({ where: { id: user!.id }, data: { name: 'Renamed' } });
    expect((await t.gql(NODE, { id })).data!.node.name).toBe('Renamed');
    // Two concurrent requests for the same user: one statement, both answered.
    t.resetStatements();
    const [a, b] = await Promise.all([t.gql(NODE, { id }), t.gql(NODE, { id })]);
    expect([a.data!.node.name, b.data!.node.name]).toEqual(['Renamed', 'Renamed']);
    expect(t.statements).toHaveLength(1);
  });

  it('each request is still charged the statement it would have sent (graphql_sql_statements)', async () => {
    const users = await createUsers(4);
    await t.gql(NODE, { id: toGlobalId('User', users[0]!.id) });
    const sum = async () => (await observedStatements(t, 'SharedNode')).sum;
    const before = await sum();
    t.resetStatements();
    await Promise.all(users.map((u) => t.gql(NODE, { id: toGlobalId('User', u.id) })));
    expect(t.statements).toHaveLength(1);
    expect((await sum()) - before).toBe(4);
  });

  it("a request whose signal aborted is refused its lookup without joining the others' statement", async () => {
    const [mine, theirs] = await createUsers(2);
    const lookups = new SharedLookups(t.db.prisma);
    const reason = new Error('deadline passed');
    const aborted = new StatementTally(undefined, { aborted: true, reason });
    const live = new StatementTally([]);
    t.resetStatements();
    const [refused, answered] = await Promise.allSettled([
      t.db.tally(aborted, () => createLoaders(t.db.prisma, undefined, undefined, undefined, lookups).userById.load(mine!.id)),
      t.db.tally(live, () => createLoaders(t.db.prisma, undefined, undefined, undefined, lookups).userById.load(theirs!.id)),
    ]);
    expect(refused).toEqual({ status: 'rejected', reason });
    expect(answered).toMatchObject({ status: 'fulfilled', value: { id: theirs!.id } });
    // The statement sent asked for the live request's key alone (`= $1`, not `= ANY`).
    expect(t.statements).toHaveLength(1);
    expect(t.statements[0]).toMatch(/WHERE "id" = \$1::uuid/);
    expect(live.count).toBe(1);
    expect(live.texts).toEqual([t.statements[0]]);
    expect(aborted.count).toBe(0);
  });

  it('the shared statement is no request’s own: it is not in the scope of the request that opened the batch', async () => {
    const users = await createUsers(3);
    const lookups = new SharedLookups(t.db.prisma);
    const scopes = users.map(() => new StatementTally());
    t.resetStatements();
    const rows = await Promise.all(users.map((u, i) => t.db.tally(scopes[i]!, () => createLoaders(t.db.prisma, undefined, undefined, undefined, lookups).userById.load(u.id))));
    expect(rows.map((r) => r?.id)).toEqual(users.map((u) => u.id));
    expect(t.statements).toHaveLength(1);
    // Each scope is charged one statement; the one whose load opened the batch is not counted it twice
    // (as it would be had the statement run in its scope).
    expect(scopes.map((s) => s.count)).toEqual(users.map(() => 1));
  });
});
