import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Plugin } from 'graphql-yoga';
import { ROUTES } from '../routes.js';
import { type AssetEntry, useStaticAssets } from './static-assets.js';

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

async function loadAssets(): Promise<AssetEntry[]> {
  // Loaded on the first request only; the package's files as published (swagger-ui-dist, pinned).
  const dir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const js = 'text/javascript; charset=utf-8';
  return [
    ['', PAGE, 'text/html; charset=utf-8'],
    ['start.js', START, js],
    ['swagger-ui-bundle.js', await readFile(path.join(dir, 'swagger-ui-bundle.js')), js],
    ['swagger-ui.css', await readFile(path.join(dir, 'swagger-ui.css')), 'text/css; charset=utf-8'],
    // Linked from the page, so the browser does not ask for /favicon.ico (a 404).
    ['favicon-32x32.png', await readFile(path.join(dir, 'favicon-32x32.png')), 'image/png'],
  ];
}

/**
 * The REST API's documentation page at `/api/v1/docs/`: Swagger UI served from this server (the
 * swagger-ui-dist package, no CDN) over /api/v1/openapi.json, under the same CSP as GraphiQL's page.
 * Public like the document itself; GET and HEAD, with an ETag (304 on a match).
 */
export function useApiDocs(): Plugin {
  return useStaticAssets('apiDocs', prefix, loadAssets);
}
