import { createHash } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import { methodNotAllowed, notFound } from '../errors/index.js';
import { requestRouteOf } from '../request-info.js';
import type { Route } from '../routes.js';

/** One file to serve: its name under the route's prefix, its content and its media type. */
export type AssetEntry = readonly [name: string, content: string | Buffer, type: string];

interface Asset {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly type: string;
  readonly etag: string;
}

/**
 * Serves the files `load` gives under `prefix` on `route`: GET and HEAD only, 404 for other names, an
 * ETag (304 on a match) and revalidation on every load, since the files change with their package's
 * version. `load` runs on the first request only, so a server nobody browses never holds the files.
 */
export function useStaticAssets(route: Route, prefix: string, load: () => Promise<AssetEntry[]>): Plugin {
  let assets: Promise<Map<string, Asset>> | undefined;
  return {
    onRequest({ request, url, fetchAPI, endResponse }) {
      if (requestRouteOf(request) !== route) return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(methodNotAllowed(fetchAPI, ['GET', 'HEAD']));
        return;
      }
      assets ??= load().then(toAssets);
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

function toAssets(entries: AssetEntry[]): Map<string, Asset> {
  return new Map(
    entries.map(([name, content, type]) => {
      const body = new Uint8Array(Buffer.from(content));
      return [name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` }];
    }),
  );
}
