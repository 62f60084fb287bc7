import { createHash } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import { methodNotAllowed, notFound } from '../errors/index.js';
import { requestRouteOf } from '../request-info.js';
import { ROUTES } from '../routes.js';

interface Asset {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly type: string;
  readonly etag: string;
}

/** Labels Monaco asks workers for, and the asset serving each. */
const WORKERS = { editorWorkerService: 'editor.worker.js', json: 'json.worker.js', graphql: 'graphql.worker.js' };

/**
 * app.js: GraphiQL's bundle between a prelude that points Monaco at the worker assets (it must be set
 * before the bundle loads) and the start, which reads the page's options from its JSON data block.
 */
function appScript(bundle: string, prefix: string): string {
  const workers = Object.fromEntries(Object.entries(WORKERS).map(([label, file]) => [label, prefix + file]));
  return [
    `self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: function (_moduleId, label) { var w = ${JSON.stringify(workers)}; return w[label] || w.editorWorkerService; } };`,
    bundle,
    `YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), JSON.parse(document.getElementById('graphiql-options').textContent));`,
  ].join(';\n');
}

async function loadAssets(prefix: string): Promise<Map<string, Asset>> {
  // Loaded on the first request only: about 9 MB of strings a server without visitors never needs.
  const g = await import('@graphql-yoga/render-graphiql/graphiql');
  const js = 'text/javascript; charset=utf-8';
  const entries: [string, string | Buffer, string][] = [
    ['app.js', appScript(g.js, prefix), js],
    ['graphiql.css', g.css, 'text/css; charset=utf-8'],
    [WORKERS.editorWorkerService, g.editorWorkerService, js],
    [WORKERS.json, g.jsonWorker, js],
    [WORKERS.graphql, g.graphqlWorker, js],
    ['favicon.ico', Buffer.from(g.favicon.replace(/^data:[^,]*;base64,/, ''), 'base64'), 'image/x-icon'],
  ];
  return new Map(
    entries.map(([name, content, type]) => {
      const body = new Uint8Array(Buffer.from(content));
      return [name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` }];
    }),
  );
}

/**
 * Serves GraphiQL's code, styles, editor workers and icon from this server (the render-graphiql
 * package), so the page needs no CDN: it works offline and under a CSP that allows only 'self'.
 * Answers GET and HEAD under `prefix`, with an ETag (304 on a match) and revalidation on every load,
 * since the files change with the package version.
 */
export function useGraphiQLAssets(): Plugin {
  const prefix = ROUTES.graphiqlAssets;
  let assets: Promise<Map<string, Asset>> | undefined;
  return {
    onRequest({ request, url, fetchAPI, endResponse }) {
      if (requestRouteOf(request) !== 'graphiqlAssets') return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(methodNotAllowed(fetchAPI, ['GET', 'HEAD']));
        return;
      }
      assets ??= loadAssets(prefix);
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
