import type { Config } from '../config.js';
import { DEVELOPMENT_ADMIN } from '../dev-admin.js';
import { graphiqlSignsIn } from '../graphiql.js';
import type { Logger } from '../logger.js';

/** The address to type into a browser for a listening host (a wildcard means this machine). */
function browsable(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

/** What a person needs once the server listens: where GraphiQL is, and how to get a token. */
export function announce(config: Config, port: number, logger: Logger): void {
  const url = `http://${browsable(config.http.host)}:${port}/graphql`;
  if (config.graphiql) {
    const how = graphiqlSignsIn(config) ? `signed in as the development admin ${DEVELOPMENT_ADMIN.email}` : 'put "Authorization": "Bearer <token>" in its Headers tab';
    logger.info({ url }, `GraphiQL: open ${url} in a browser (${how})`);
  } else {
    logger.info({ url }, `GraphQL endpoint: ${url}`);
  }
  if (config.auth.secret) {
    logger.info('Bearer token for curl and scripts: npm run token (--help for the options)');
  }
}
