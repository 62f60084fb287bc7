import { type DocumentNode, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import type { Logger } from '../logger.js';
import { MAX_LABEL_CHARS } from '../metrics.js';
import { requestElapsedMs, requestInfoOf, requestRouteOf } from '../request-info.js';
import type { Route } from '../routes.js';

interface RequestRecord {
  operationName?: string;
  operationType?: string;
  userId?: string;
  errorCodes: Set<string>;
}

export interface RequestLoggingOptions {
  logger: Logger;
  /** Routes logged at debug instead of info (probes and scrapes). Default health, ready, metrics. */
  quietRoutes?: readonly Route[];
}

/** Longest request path a log line carries (Node lets a request line be up to 16 KB). */
const MAX_PATH_CHARS = 256;

/** A client-chosen string cut to `max` characters, marked when cut. */
const bounded = (value: string, max: number) => (value.length > max ? `${value.slice(0, max)}…` : value);

/**
 * One JSON line per request: request id, operation name and type, duration, status, error codes and
 * the caller's user id. Never tokens, variables or emails. The operation name is the executed
 * operation's (from the document, not the raw `operationName` parameter), cut to 64 characters.
 */
export function useRequestLogging({ logger, quietRoutes = ['health', 'ready', 'metrics'] }: RequestLoggingOptions): Plugin<Context> {
  // On the request, not in a WeakMap keyed by it (see request-info.ts): one symbol per plugin instance.
  const RECORD = Symbol('request log record');
  type Recorded = Request & { [RECORD]?: RequestRecord };
  const recordOf = (request: Request) => (request as Recorded)[RECORD];
  const quiet = new Set<Route | null>(quietRoutes);
  return {
    onRequest({ request }) {
      // A request whose line the level leaves out (LOG_LEVEL=warn) keeps no record: the hooks below skip it.
      if (!logger.isLevelEnabled(quiet.has(requestRouteOf(request)) ? 'debug' : 'info')) return;
      (request as Recorded)[RECORD] = { errorCodes: new Set() };
    },
    onExecute({ args }) {
      const ctx = args.contextValue as Context & { request: Request };
      const record = recordOf(ctx.request);
      if (!record) return;
      const operation = getOperationAST(args.document as DocumentNode, args.operationName as string | undefined);
      const name = operation?.name?.value;
      record.operationName = name === undefined ? undefined : bounded(name, MAX_LABEL_CHARS);
      record.operationType = operation?.operation;
      record.userId = ctx.viewer?.userId;
    },
    onResultProcess({ request, result }) {
      const record = recordOf(request);
      if (!record) return;
      const results = Array.isArray(result) ? result : [result];
      for (const r of results) {
        const errors = (r as { errors?: { extensions?: { code?: unknown } }[] } | undefined)?.errors ?? [];
        // A code is a string by convention; whatever else a plugin put there is still counted, never thrown on.
        // eslint-disable-next-line @typescript-eslint/no-base-to-string
        for (const e of errors) record.errorCodes.add(String(e.extensions?.code ?? 'UNKNOWN'));
      }
    },
    onResponse({ request, response }) {
      const record = recordOf(request);
      if (!record) return;
      const info = requestInfoOf(request);
      const line = {
        requestId: info.id,
        method: request.method,
        path: bounded(info.path, MAX_PATH_CHARS),
        status: response.status,
        durationMs: Math.round(requestElapsedMs(request) * 100) / 100,
        operationName: record.operationName,
        operationType: record.operationType,
        userId: record.userId,
        errorCodes: record.errorCodes.size ? [...record.errorCodes] : undefined,
      };
      if (quiet.has(info.route)) logger.debug(line, 'request');
      else logger.info(line, 'request');
    },
  };
}
