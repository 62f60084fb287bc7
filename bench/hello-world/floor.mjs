// The stack's floor: the least a server on our stack (GraphQL Yoga on node:http, node-postgres, the same
// versions as the server) does to give our answers to node by id and createUser. Each request runs the
// one statement our server runs for it (its constant parameters written inline), as a named prepared
// statement (as ours are): node(id) reads the user's scalar columns by id, createUser inserts the user
// and its outbox event in one statement. Nothing else: no authentication, validation, limits (Yoga's
// body-size limit included), metrics, logging, error masking or DataLoader, no Pothos or Prisma. What our
// server spends above this floor is what our own code costs; what the floor spends is what any server on
// this stack pays. With FLOOR_EVENT=0, createUser inserts the user alone (as PostGraphile's does), to tell
// what the outbox event costs from what the stack costs.
// Environment: DATABASE_URL, PORT, HOST, DB_POOL_MAX (default 10), FLOOR_EVENT (default 1).
import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';
import pg from 'pg';

// Our server's statement texts (its user loader's, and createUser's with the user.created event).
const USER_BY_ID = 'SELECT "id", "email", "name", "role", "version", "createdAt", "updatedAt", "teamCount" FROM "User" WHERE "id" = $1::uuid';
const ISO = (column) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const CREATE_USER = `WITH created AS (
  INSERT INTO "User" ("email", "name", "role") VALUES ($1, $2, DEFAULT)
  ON CONFLICT ("email") DO NOTHING
  RETURNING *),
event AS (
  INSERT INTO "OutboxEvent" ("type", "schemaVersion", "aggregateId", "payload", "traceparent")
  SELECT 'user.created'::text, 1::int, "id", jsonb_build_object('id', "id", 'email', "email", 'name', "name", 'role', "role",
    'version', "version", 'createdAt', ${ISO('"createdAt"')}, 'updatedAt', ${ISO('"updatedAt"')}), NULL::varchar FROM created)
SELECT * FROM created`;
const CREATE_USER_WITHOUT_EVENT = 'INSERT INTO "User" ("email", "name", "role") VALUES ($1, $2, DEFAULT) ON CONFLICT ("email") DO NOTHING RETURNING *';
const WITH_EVENT = process.env.FLOOR_EVENT !== '0';

const typeDefs = /* GraphQL */ `
  scalar DateTime
  interface Node { id: ID! }
  type User implements Node { id: ID! email: String! name: String! role: String! version: Int! createdAt: DateTime! updatedAt: DateTime! }
  interface Error { message: String! }
  type EmailTakenError implements Error { message: String! }
  type CreateUserSuccess { user: User! }
  union CreateUserResult = CreateUserSuccess | EmailTakenError
  input CreateUserInput { email: String! name: String! }
  type Query { node(id: ID!): Node hello: String }
  type Mutation { createUser(input: CreateUserInput!): CreateUserResult! }
`;

/** Our Relay global IDs: base64 of `User:<uuid>`. */
function userIdOf(globalId) {
  const [type, id] = Buffer.from(globalId, 'base64').toString('utf8').split(':');
  return type === 'User' && id ? id : null;
}

const user = (row) => ({ ...row, __typename: 'User', id: Buffer.from(`User:${row.id}`).toString('base64') });

/** The floor's schema over `pool` (a pg.Pool), for createSchema. */
function floorSchema(pool) {
  const resolvers = {
    DateTime: { serialize: (value) => (value instanceof Date ? value.toISOString() : value) },
    Node: { __resolveType: (value) => value.__typename },
    Error: { __resolveType: (value) => value.__typename },
    CreateUserResult: { __resolveType: (value) => value.__typename },
    Query: {
      hello: () => 'world',
      node: async (_, { id }) => {
        const uuid = userIdOf(id);
        if (!uuid) return null;
        const { rows } = await pool.query({ name: 'floor-user-by-id', text: USER_BY_ID, values: [uuid] });
        return rows[0] ? user(rows[0]) : null;
      },
    },
    Mutation: {
      createUser: async (_, { input }) => {
        const text = WITH_EVENT ? CREATE_USER : CREATE_USER_WITHOUT_EVENT;
        const { rows } = await pool.query({ name: 'floor-create-user', text, values: [input.email, input.name] });
        return rows[0] ? { __typename: 'CreateUserSuccess', user: user(rows[0]) } : { __typename: 'EmailTakenError', message: `${input.email} is taken` };
      },
    },
  };
  return { typeDefs, resolvers };
}

const connectionString = process.env.DATABASE_URL;
if (!connectionString) {
  process.stderr.write('floor: DATABASE_URL is required\n');
  process.exit(1);
}
const pool = new pg.Pool({ connectionString, max: Number(process.env.DB_POOL_MAX ?? 10) });
// Yoga's own work that ours does not do, off here too: its body-size limit (ours reads bodies with its own
// bounded reader and sets maxRequestBodySize: false; Yoga's streams every body through a TransformStream
// pipeline, which also got every request in flight promoted to V8's old generation: one pair of 10 s runs
// of node by id, 3119 req/s and 349 µs of CPU per request with it, 4623 and 214 without) and CORS (ours
// has none without CORS_ORIGINS, as in the benchmark).
const server = createServer(
  createYoga({
    schema: createSchema(floorSchema(pool)),
    graphqlEndpoint: '/graphql',
    graphiql: false,
    landingPage: false,
    logging: 'warn',
    maxRequestBodySize: false,
    cors: false,
  }),
);
const port = Number(process.env.PORT ?? 5680);
const host = process.env.HOST ?? '127.0.0.1';
server.listen(port, host, () => process.stdout.write(`floor listening on http://${host}:${port}/graphql\n`));
const stop = () => {
  server.close(() => pool.end().then(() => process.exit(0)));
  server.closeIdleConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
