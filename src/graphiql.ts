import type { GraphiQLOptions } from 'graphql-yoga';
import { signToken } from './auth.js';
import type { Config } from './config.js';
import { DEVELOPMENT_ADMIN } from './dev-admin.js';
import { ROUTES } from './routes.js';

/** Where useGraphiQLAssets serves GraphiQL's code, styles, editor workers and icon. */
const GRAPHIQL_ASSETS_PATH = ROUTES.graphiqlAssets;

/** Lifetime of the token a development GraphiQL page carries: reloading the page makes a new one. */
const GRAPHIQL_TOKEN_TTL = '1h';

const TITLE = 'User API gateway';

/**
 * Whether GraphiQL opens signed in as the development admin: in development, and only while tokens are
 * signed with the built-in development secret. That secret is public (it is in this repository), so the
 * page hands out nothing a visitor could not sign for themselves; with a real JWT_SECRET, with JWKS, or
 * in production it never does.
 */
export function graphiqlSignsIn(config: Config): boolean {
  return config.env === 'development' && config.auth.usingDevelopmentSecret && config.auth.secret !== undefined;
}

/**
 * Yoga's `graphiql` option. When `graphiqlSignsIn`, each page is rendered with a new short-lived ADMIN
 * token for the development admin: shown in the Headers tab, and sent with every request (introspection
 * included, so the docs load at once) as an additional header, which also survives reloads and new
 * tabs. An `Authorization` header typed into the Headers tab takes precedence.
 */
export function graphiqlOptions(config: Config): false | GraphiQLOptions | (() => Promise<GraphiQLOptions>) {
  if (!config.graphiql) return false;
  const base: GraphiQLOptions = { title: TITLE, endpoint: ROUTES.graphql, favicon: `${GRAPHIQL_ASSETS_PATH}favicon.ico` };
  if (!graphiqlSignsIn(config)) return base;
  return async () => {
    const token = await signToken(config.auth, { sub: DEVELOPMENT_ADMIN.id, role: 'ADMIN' }, GRAPHIQL_TOKEN_TTL);
    const authorization = `Bearer ${token}`;
    return {
      ...base,
      headers: JSON.stringify({ Authorization: authorization }, null, 2),
      additionalHeaders: { Authorization: authorization },
      defaultQuery: DEFAULT_QUERY,
    };
  };
}

const DEFAULT_QUERY = `# Signed in as the development admin (${DEVELOPMENT_ADMIN.email}); press the run button.
# The Docs button lists every query and mutation.
{
  me { email role }
  users(first: 5) { totalCount edges { node { name email teams { edges { role node { slug } } } } } }
}
`;

/** JSON inside a `<script type="application/json">` block: `<` escaped so no `</script>` can end it. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Yoga's `renderGraphiQL`: a small page whose code, styles and workers all come from this server
 * (@graphql-yoga/render-graphiql, served by useGraphiQLAssets), so it works offline and under a CSP of
 * 'self'. It holds no inline script: the options travel in a JSON data block that app.js reads.
 */
export function renderGraphiQL(options: GraphiQLOptions): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(options.title ?? TITLE)}</title>
    <link rel="icon" href="${GRAPHIQL_ASSETS_PATH}favicon.ico" />
    <link rel="stylesheet" href="${GRAPHIQL_ASSETS_PATH}graphiql.css" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run GraphiQL.</noscript>
    <div id="root"></div>
    <script type="application/json" id="graphiql-options">${scriptJson(options)}</script>
    <script src="${GRAPHIQL_ASSETS_PATH}app.js"></script>
  </body>
</html>
`;
}
