import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';

const WELL_FORMED = /^[\w.:-]{1,128}$/;
const ids = new WeakMap<Request, string>();

/** The request id `useRequestId` gave this request (made on first call if the plugin has not run). */
export function requestIdOf(request: Request): string {
  let id = ids.get(request);
  if (!id) {
    const incoming = request.headers.get('x-request-id');
    id = incoming && WELL_FORMED.test(incoming) ? incoming : randomUUID();
    ids.set(request, id);
  }
  return id;
}

/**
 * Keeps a well-formed incoming `x-request-id` (word characters, `.`, `:`, `-`, at most 128), else makes
 * one, and echoes it on the response so a client report can be matched with the log lines.
 */
export function useRequestId(): Plugin {
  return {
    onRequest({ request }) {
      requestIdOf(request);
    },
    onResponse({ request, response }) {
      response.headers.set('x-request-id', requestIdOf(request));
    },
  };
}
