import type { Plugin } from 'graphql-yoga';
import { ROUTES } from '../routes.js';
import { type AssetEntry, useStaticAssets } from './static-assets.js';

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

async function loadAssets(prefix: string): Promise<AssetEntry[]> {
  // Loaded on the first request only: about 9 MB of strings a server without visitors never needs.
  const g = await import('@graphql-yoga/render-graphiql/graphiql');
  const js = 'text/javascript; charset=utf-8';
  return [
    ['app.js', appScript(g.js, prefix), js],
    ['graphiql.css', g.css, 'text/css; charset=utf-8'],
    [WORKERS.editorWorkerService, g.editorWorkerService, js],
    [WORKERS.json, g.jsonWorker, js],
    [WORKERS.graphql, g.graphqlWorker, js],
    ['favicon.ico', Buffer.from(g.favicon.replace(/^data:[^,]*;base64,/, ''), 'base64'), 'image/x-icon'],
  ];
}

/**
 * Serves GraphiQL's code, styles, editor workers and icon from this server (the render-graphiql
 * package), so the page needs no CDN: it works offline and under a CSP that allows only 'self'.
 * Answers GET and HEAD under `prefix`, with an ETag (304 on a match) and revalidation on every load,
 * since the files change with the package version.
 */
export function useGraphiQLAssets(): Plugin {
  const prefix = ROUTES.graphiqlAssets;
  return useStaticAssets('graphiqlAssets', prefix, () => loadAssets(prefix));
}
