// The framework's ceiling: plain GraphQL Yoga (the same graphql-yoga and graphql versions as the server,
// pinned in this folder's package.json) answering `{ hello }` on node:http. Environment: PORT, HOST.
import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';

const yoga = createYoga({
  schema: createSchema({ typeDefs: 'type Query { hello: String }', resolvers: { Query: { hello: () => 'world' } } }),
  graphqlEndpoint: '/graphql',
  graphiql: false,
  landingPage: false,
  logging: 'warn',
});
const server = createServer(yoga);
const port = Number(process.env.PORT ?? 5679);
const host = process.env.HOST ?? '127.0.0.1';
server.listen(port, host, () => process.stdout.write(`hello-world listening on http://${host}:${port}/graphql\n`));

const stop = () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
