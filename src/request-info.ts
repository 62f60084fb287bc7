import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Viewer } from './auth.js';
import { type Route, routeOf } from './routes.js';

/**
 * What the plugins want to know about a request, taken once by the first plugin (`useRouting`) and
 * completed by `useAuth`; the others read it here instead of parsing the URL or asking each other.
 */
export interface RequestInfo {
  /** The client's well-formed `x-request-id`, or a new UUID. */
  readonly id: string;
  /** The route of the path, or null when it is none of ROUTES. */
  readonly route: Route | null;
  /** The URL pathname as received (for logs, which bound it). */
  readonly path: string;
  /** `performance.now()` when the request was first seen. */
  readonly start: number;
  /** The caller whose bearer token `useAuth` verified; null without one. */
  viewer: Viewer | null;
  /** True when a token was presented and refused (as opposed to no token at all). */
  tokenRefused: boolean;
}

const WELL_FORMED_ID = /^[\w.:-]{1,128}$/;
/**
 * Where a request keeps its info: a property of its own, not a WeakMap keyed by the request. V8's
 * young-generation collector keeps a WeakMap's values (and what they reach) alive whatever becomes
 * of their keys, so every request's entry waited for a full collection (see use-context-cache.ts).
 */
const INFO = Symbol('request info');
type Noted = Request & { [INFO]?: RequestInfo };

/** Notes a request; `pathname` is the one the server adapter already parsed (made here otherwise). */
export function noteRequest(request: Request, pathname?: string): RequestInfo {
  let info = (request as Noted)[INFO];
  if (!info) {
    const incoming = request.headers.get('x-request-id');
    const path = pathname ?? new URL(request.url, 'http://localhost').pathname;
    info = {
      id: incoming && WELL_FORMED_ID.test(incoming) ? incoming : randomUUID(),
      route: routeOf(path),
      path,
      start: performance.now(),
      viewer: null,
      tokenRefused: false,
    };
    (request as Noted)[INFO] = info;
  }
  return info;
}

/** The request's info (noted on first use when a hook of Yoga's own answered before `useRouting` ran). */
export const requestInfoOf = (request: Request): RequestInfo => (request as Noted)[INFO] ?? noteRequest(request);

/** The request id, echoed as `x-request-id` and carried by logs and masked errors. */
export const requestIdOf = (request: Request): string => requestInfoOf(request).id;

/** The route of the request, or null when its path is none of ROUTES. */
export const requestRouteOf = (request: Request): Route | null => requestInfoOf(request).route;

/** The caller `useAuth` verified for this request, or null. */
export const viewerOf = (request: Request): Viewer | null => requestInfoOf(request).viewer;

/** Milliseconds since the request was first seen. */
export const requestElapsedMs = (request: Request): number => performance.now() - requestInfoOf(request).start;
