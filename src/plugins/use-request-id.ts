import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Plugin } from 'graphql-yoga';

const WELL_FORMED = /^[\w.:-]{1,128}$/;

interface RequestInfo {
  id: string;
  path: string;
  start: number;
}

const infos = new WeakMap<Request, RequestInfo>();

/** What every later plugin wants to know about a request, taken once (made on first use if need be). */
function infoOf(request: Request, pathname?: string): RequestInfo {
  let info = infos.get(request);
  if (!info) {
    const incoming = request.headers.get('x-request-id');
    info = {
      id: incoming && WELL_FORMED.test(incoming) ? incoming : randomUUID(),
      path: pathname ?? new URL(request.url).pathname,
      start: performance.now(),
    };
    infos.set(request, info);
  }
  return info;
}

/** The request id `useRequestId` gave this request. */
export function requestIdOf(request: Request): string {
  return infoOf(request).id;
}

/** The request's path, parsed once (logs, metrics and limits all ask for it). */
export function requestPathOf(request: Request): string {
  return infoOf(request).path;
}

/** Milliseconds since `useRequestId` first saw the request. */
export function requestElapsedMs(request: Request): number {
  return performance.now() - infoOf(request).start;
}

/**
 * Keeps a well-formed incoming `x-request-id` (word characters, `.`, `:`, `-`, at most 128), else makes
 * one, and echoes it on the response so a client report can be matched with the log lines. It runs
 * first, so it also notes the path and the start time the logging and metrics plugins use.
 */
export function useRequestId(): Plugin {
  return {
    onRequest({ request, url }) {
      infoOf(request, url.pathname);
    },
    onResponse({ request, response }) {
      response.headers.set('x-request-id', requestIdOf(request));
    },
  };
}
