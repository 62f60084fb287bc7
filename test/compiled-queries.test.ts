import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { benchTeamId, benchUserId, seedBenchmark } from '../prisma/seed.js';
import { type App, createApp } from '../src/app.js';
import { toGlobalId } from '../src/ids.js';
import { useCompiledQueries } from '../src/plugins/use-compiled-queries.js';
import { requestSignal, type RequestSignal, useRequestDeadline } from '../src/plugins/use-request-deadline.js';
import { abortableResolvers } from '../src/schema/abortable.js';
import { postGraphQL, useTestApp } from './helpers/app.js';

/** The plugin on a tiny schema; `compiled` lists the operations graphql-jit compiled, in order. */
function tinyApp({ after = 1, timeoutMs = 10_000, slowMs = 0 } = {}) {
  const seen = { compiled: [] as string[], slowDone: false, startedAfterSlow: 0, sideEffects: 0 };
  const schema = abortableResolvers(
    createSchema<{ signal: RequestSignal }>({
      typeDefs: /* GraphQL */ `
        type Query { hello(name: String): String  slow: Slow  list: [Item!]!  result(ok: Boolean!): Result! }
        type Slow { after: String }
        type Item { n: Int! }
        type Ok { ok: Boolean! }
        type Bad { reason: String! }
        union Result = Ok | Bad
        type Mutation { touch: Int  slowTouch: Int }
      `,
      resolvers: {
        Query: {
          hello: (_root, { name }: { name?: string }) => `hello ${name ?? 'world'}`,
          slow: async () => {
            await new Promise((r) => setTimeout(r, slowMs));
            seen.slowDone = true;
            return {};
          },
          list: () => [{ n: 1 }, { n: 2 }],
          result: (_root, { ok }: { ok: boolean }) => (ok ? { kind: 'Ok', ok } : { kind: 'Bad', reason: 'no' }),
        },
        Result: {
          // Names the type through its fourth argument, the abstract type, as Pothos' resolveType does.
          __resolveType: (value: { kind: string }, _context: unknown, _info: unknown, abstractType?: { name: string }) =>
            abstractType?.name === 'Result' ? value.kind : undefined,
        },
        Slow: {
          after: () => {
            seen.startedAfterSlow++;
            return 'late';
          },
        },
        Mutation: {
          touch: () => ++seen.sideEffects,
          slowTouch: async () => {
            await new Promise((r) => setTimeout(r, slowMs));
            return ++seen.sideEffects;
          },
        },
      },
    }),
  );
  const yoga = createYoga({
    schema,
    context: ({ request }) => ({ signal: requestSignal(request, timeoutMs) }),
    plugins: [useCompiledQueries({ after, onCompile: (name) => seen.compiled.push(name ?? '(anonymous)') }) as Plugin, useRequestDeadline() as Plugin],
    logging: false,
  });
  const run = async (query: string, variables?: Record<string, unknown>) => {
    const response = await yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };
  };
  return { run, seen };
}

/** Runs `query` (named `name`) on `app`: it was compiled, and answered REQUEST_TIMEOUT at its deadline. */
async function answeredAtDeadline(app: ReturnType<typeof tinyApp>, query: string, name: string) {
  const body = await app.run(query);
  expect(app.seen.compiled).toEqual([name]);
  expect(body.errors?.[0]?.extensions?.code).toBe('REQUEST_TIMEOUT');
}

describe('useCompiledQueries', () => {
  it('compiles a query once it has run `after` times interpreted, once, with the same answers', async () => {
    const app = tinyApp({ after: 1 });
    const query = 'query Hi($name: String) { hello(name: $name) list { n } }';
    const answers = [];
    for (const name of ['a', 'b', 'c']) {
      answers.push(await app.run(query, { name }));
      answers.push(await app.run(query, { name }));
    }
    expect(app.seen.compiled).toEqual(['Hi']);
    expect(answers.map((a) => a.data?.hello)).toEqual(['hello a', 'hello a', 'hello b', 'hello b', 'hello c', 'hello c']);
    expect(answers.every((a) => JSON.stringify(a.data?.list) === '[{"n":1},{"n":2}]' && a.errors === undefined)).toBe(true);
    // Variables are coerced by the compiled query as by the executor.
    const wrong = await app.run(query, { name: 5 });
    expect(wrong.data ?? null).toBeNull();
    expect(wrong.errors?.[0]?.message).toMatch(/\$name/);
  });

  it('never compiles a text seen once: unique queries (a probe, a hostile client) stay interpreted', async () => {
    const app = tinyApp({ after: 1 });
    for (let i = 0; i < 30; i++) expect((await app.run(`{ a${i}: hello }`)).data).toEqual({ [`a${i}`]: 'hello world' });
    expect(app.seen.compiled).toEqual([]);
  });

  it('compiles mutations, and runs their root fields one after the other', async () => {
    const app = tinyApp({ after: 0, slowMs: 50 });
    // Started at once, touch would answer 1 while slowTouch waits.
    expect((await app.run('mutation Order { first: slowTouch second: touch }')).data).toEqual({ first: 1, second: 2 });
    expect(app.seen.compiled).toEqual(['Order']);
  });

  it('starts no mutation field after the deadline, so no side effect follows it', async () => {
    const app = tinyApp({ after: 0, timeoutMs: 100, slowMs: 300 });
    await answeredAtDeadline(app, 'mutation Late { first: slowTouch second: touch }', 'Late');
    await new Promise((r) => setTimeout(r, 400));
    // slowTouch finished after the deadline; touch, due after it, never started.
    expect(app.seen.sideEffects).toBe(1);
  });

  it('resolves unions and interfaces with the abstract type given to resolveType, as the executor does', async () => {
    const app = tinyApp({ after: 0 });
    const query = 'query R($ok: Boolean!) { result(ok: $ok) { __typename ... on Ok { ok } ... on Bad { reason } } }';
    expect((await app.run(query, { ok: true })).data).toEqual({ result: { __typename: 'Ok', ok: true } });
    expect((await app.run(query, { ok: false })).data).toEqual({ result: { __typename: 'Bad', reason: 'no' } });
    expect(app.seen.compiled).toEqual(['R']);
  });

  it('answers a compiled query at its deadline, and starts no resolver after it', async () => {
    const app = tinyApp({ after: 0, timeoutMs: 100, slowMs: 400 });
    await answeredAtDeadline(app, 'query Slow { slow { after } }', 'Slow');
    // The answer came before the slow resolver was done...
    expect(app.seen.slowDone).toBe(false);
    await new Promise((r) => setTimeout(r, 600));
    // ...and the field under it never started once it was.
    expect(app.seen.slowDone).toBe(true);
    expect(app.seen.startedAfterSlow).toBe(0);
  });
});

describe('compiled queries on the served schema', () => {
  // Compiled whatever TEST_COMPILE_QUERIES says for the rest of the suite.
  const t = useTestApp({ COMPILE_QUERIES: 'true' });
  let interpreted: App;
  let adminToken: string;

  beforeAll(async () => {
    await seedBenchmark(t.db.prisma, { users: 60, teams: 25, membershipsPerUser: 5 });
    // The same database and configuration, every operation interpreted.
    interpreted = createApp({ ...t.config, compiledQueries: undefined }, t.db, pino({ level: 'silent' }));
    adminToken = await t.token({ role: 'ADMIN' });
  });
  const queries: [string, string, Record<string, unknown>?][] = [
    [
      'users page',
      'query UsersPage { users(first: 50) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id email name role version createdAt teams(first: 5) { totalCount edges { role joinedAt node { id name slug } } } } } } }',
    ],
    ['teams page', 'query TeamsPage { teams(first: 20) { totalCount edges { node { id name members(first: 20) { totalCount edges { role node { id email } } } } } } }'],
    ['node by id', 'query Node($id: ID!) { node(id: $id) { id ... on User { email name role version createdAt updatedAt } } }', { id: toGlobalId('User', benchUserId(7)) }],
    ['a node that does not exist', 'query Node($id: ID!) { node(id: $id) { id } }', { id: toGlobalId('User', '00000000-0000-4000-8000-000000000000') }],
    [
      'team by id, nested',
      'query Team($id: ID!) { team(id: $id) { id slug members(first: 3) { totalCount edges { node { email teams(first: 2) { totalCount } } } } } }',
      { id: toGlobalId('Team', benchTeamId(3)) },
    ],
    ['a malformed id (a field error)', 'query Node($id: ID!) { node(id: $id) { id } }', { id: 'not-a-global-id' }],
  ];

  it.each(queries)('%s: the same answer and the same statements as the executor', async (_name, query, variables) => {
    const ask = (app: App) => postGraphQL((path, init) => Promise.resolve(app.yoga.fetch(new Request(`http://localhost${path}`, init))), adminToken, query, variables);
    const expected = await ask(interpreted);
    t.resetStatements();
    const first = await ask(t.app);
    const statements = t.statements.length;
    t.resetStatements();
    const again = await ask(t.app);
    expect(first).toEqual(expected);
    expect(again).toEqual(expected);
    expect(t.statements.length).toBe(statements);
    // It ran compiled: graphql-jit compiled it, and refused nothing.
    const operationName = /^query (\w+)/.exec(query)![1];
    expect(t.logs.filter((l) => l.msg === 'query compiled').map((l) => l.operationName)).toContain(operationName);
    expect(t.logs.filter((l) => l.msg === 'query not compiled; it runs interpreted')).toEqual([]);
    // The test app compiles every query from its first execution (test/helpers/app.ts).
    expect(t.config.compiledQueries).toEqual({ after: 0 });
  });
});
