import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Plugin } from 'graphql-yoga';
import { methodNotAllowed, notFound } from '../errors/index.js';
import { requestRouteOf } from '../request-info.js';
import { ROUTES } from '../routes.js';

interface Asset {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly type: string;
  readonly etag: string;
}

const prefix = ROUTES.apiDocs;

/** The page: no inline script (the CSP allows scripts from this server only), Swagger UI from the package. */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>User API gateway: REST API</title>
<link rel="stylesheet" href="${prefix}swagger-ui.css">
<link rel="icon" type="image/png" href="${prefix}favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${prefix}swagger-ui-bundle.js"></script>
<script src="${prefix}start.js"></script>
</body>
</html>
`;

// validatorUrl null: Swagger UI would otherwise send the document to an online validator.
const START = `window.ui = SwaggerUIBundle({ url: ${JSON.stringify(ROUTES.openapi)}, dom_id: '#swagger-ui', validatorUrl: null, deepLinking: false });\n`;

async function loadAssets(): Promise<Map<string, Asset>> {
  // Loaded on the first request only; the package's files as published (swagger-ui-dist, pinned).
  const dir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const js = 'text/javascript; charset=utf-8';
  const entries: [string, string | Buffer, string][] = [
    ['', PAGE, 'text/html; charset=utf-8'],
    ['start.js', START, js],
    ['swagger-ui-bundle.js', await readFile(path.join(dir, 'swagger-ui-bundle.js')), js],
    ['swagger-ui.css', await readFile(path.join(dir, 'swagger-ui.css')), 'text/css; charset=utf-8'],
    // Linked from the page, so the browser does not ask for /favicon.ico (a 404).
    ['favicon-32x32.png', await readFile(path.join(dir, 'favicon-32x32.png')), 'image/png'],
  ];
  return new Map(
    entries.map(([name, content, type]) => {
      const body = new Uint8Array(Buffer.from(content));
      return [name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` }];
    }),
  );
}

/**
 * The REST API's documentation page at `/api/v1/docs/`: Swagger UI served from this server (the
 * swagger-ui-dist package, no CDN) over /api/v1/openapi.json, under the same CSP as GraphiQL's page.
 * Public like the document itself; GET and HEAD, with an ETag (304 on a match).
 */
export function useApiDocs(): Plugin {
  let assets: Promise<Map<string, Asset>> | undefined;
  return {
    onRequest({ request, url, fetchAPI, endResponse }) {
      if (requestRouteOf(request) !== 'apiDocs') return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(methodNotAllowed(fetchAPI, ['GET', 'HEAD']));
        return;
      }
      assets ??= loadAssets();
      return assets.then((all) => {
        const asset = all.get(url.pathname.slice(prefix.length));
        if (!asset) {
          endResponse(notFound(fetchAPI));
          return;
        }
        const headers = { 'content-type': asset.type, etag: asset.etag, 'cache-control': 'no-cache' };
        if (request.headers.get('if-none-match') === asset.etag) {
          endResponse(new fetchAPI.Response(null, { status: 304, headers }));
          return;
        }
        endResponse(new fetchAPI.Response(request.method === 'HEAD' ? null : asset.body, { headers }));
      });
    },
  };
}
