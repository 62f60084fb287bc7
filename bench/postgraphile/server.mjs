// Reference server: PostGraphile v5 (Amber preset) over the same database, on node:http through grafserv's
// node adapter. Production-ish: no GraphiQL, no watch mode, no plan explain. Environment: DATABASE_URL,
// PORT, HOST (default 127.0.0.1), DB_POOL_MAX (default 10, the same pool size as our server).
import { createServer } from 'node:http';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';

const connectionString = process.env.DATABASE_URL;
if (!connectionString) {
  process.stderr.write('postgraphile: DATABASE_URL is required\n');
  process.exit(1);
}
const port = Number(process.env.PORT ?? 5678);
const host = process.env.HOST ?? '127.0.0.1';
const poolMax = Number(process.env.DB_POOL_MAX ?? 10);

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString, schemas: ['public'], poolConfig: { max: poolMax } })],
  grafserv: { port, host, graphqlPath: '/graphql', graphiql: false, watch: false, websockets: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on('error', (error) => {
  process.stderr.write(`postgraphile: ${error.message}\n`);
  process.exit(1);
});
await serv.addTo(server);
await pgl.getSchema(); // build the schema before accepting requests, so the first request is not a cold one
server.listen(port, host, () => process.stdout.write(`postgraphile listening on http://${host}:${port}/graphql\n`));

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.close(() => {
    Promise.resolve(pgl.release()).then(
      () => process.exit(0),
      () => process.exit(0),
    );
  });
  server.closeIdleConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
