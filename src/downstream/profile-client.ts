import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { z } from 'zod';
import type { ProfileServiceConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { injectTraceHeaders } from '../tracing/index.js';
import { type CallOutcome, type CircuitName, createPolicy, DownstreamFailure, isShed, RETRYABLE_STATUSES } from './policy.js';

/** What `User.profile` shows; owned by the profile service. */
export interface UserProfile {
  readonly avatarUrl: string | null;
  readonly bio: string | null;
  readonly locale: string | null;
  readonly updatedAt: Date;
}

/** The dependency's name in metrics, logs and /ready. */
export const PROFILE_DEPENDENCY = 'profile-service';

/** Most ids in one batch call: a page's worth, and a URL far below common 8 KB limits. */
export const MAX_PROFILE_BATCH = 100;

/** A downstream answer larger than this is refused (a broken or hostile service cannot fill our memory). */
const MAX_RESPONSE_BYTES = 1_000_000;

// The downstream's JSON is checked, not trusted: a bad shape is a failed call, never a crash or a
// malformed GraphQL response. Unknown fields are ignored, so the service can grow.
const nullableText = (max: number) =>
  z
    .string()
    .max(max)
    .nullish()
    .transform((v) => v ?? null);
const profileSchema = z.object({
  avatarUrl: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .nullish()
    .transform((v) => v ?? null),
  bio: nullableText(10_000),
  locale: nullableText(35),
  updatedAt: z.iso.datetime({ offset: true }).transform((v) => new Date(v)),
});
const batchSchema = z.array(profileSchema.extend({ id: z.string().max(100) })).max(MAX_PROFILE_BATCH * 2);

export interface ProfileClientHooks {
  logger: Logger;
  onCall?: (outcome: CallOutcome, seconds: number) => void;
  onStateChange?: (state: CircuitName) => void;
}

export interface ProfileClient {
  /**
   * The profiles of these users, in order: null where the service has none, an Error where the call for
   * it failed (DataLoader's per-key contract). Batch mode makes one call; otherwise one per id.
   */
  load(ids: readonly string[], options: { signal: AbortSignal; logger: Logger }): Promise<(UserProfile | null | Error)[]>;
  /** The breaker's state. */
  readonly state: CircuitName;
  readonly queueLength: number;
}

export function createProfileClient(config: ProfileServiceConfig & { url: string }, hooks: ProfileClientHooks): ProfileClient {
  const policy = createPolicy({
    ...config,
    onCall: hooks.onCall,
    onStateChange: (state) => {
      // One line per change; the reason is the kind of the last failures, never the downstream's text.
      const entry = { dependency: PROFILE_DEPENDENCY, state };
      if (state === 'open') hooks.logger.warn(entry, `${PROFILE_DEPENDENCY}: circuit breaker open, calls are shed`);
      else hooks.logger.info(entry, `${PROFILE_DEPENDENCY}: circuit breaker ${state === 'halfOpen' ? 'half-open, probing' : 'closed'}`);
      hooks.onStateChange?.(state);
    },
  });

  // One CLIENT span per attempt, in the request's trace, whose traceparent the call carries. With
  // tracing off the API's no-op tracer and propagator make both free.
  const tracer = trace.getTracer('user-api-gateway');
  const getJson = (url: string, signal: AbortSignal, notFoundIsNull: boolean): Promise<unknown> =>
    tracer.startActiveSpan(
      `GET ${PROFILE_DEPENDENCY}`,
      { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'GET', 'peer.service': PROFILE_DEPENDENCY } },
      async (span) => {
        try {
          return await getJsonUntraced(url, signal, notFoundIsNull);
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof DownstreamFailure ? error.kind : 'aborted' });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  const getJsonUntraced = async (url: string, signal: AbortSignal, notFoundIsNull: boolean): Promise<unknown> => {
    let response: Response;
    try {
      response = await fetch(url, { signal, headers: injectTraceHeaders({ accept: 'application/json' }), redirect: 'error' });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new DownstreamFailure('network', true);
    }
    if (response.status === 404 && notFoundIsNull) {
      await response.body?.cancel().catch(() => undefined);
      return null;
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new DownstreamFailure('http', RETRYABLE_STATUSES.has(response.status), response.status);
    }
    let text: string;
    try {
      text = await readCapped(response, MAX_RESPONSE_BYTES);
    } catch (error) {
      if (signal.aborted || error instanceof DownstreamFailure) throw error;
      throw new DownstreamFailure('network', true);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new DownstreamFailure('invalid_response', false);
    }
  };

  const one = (id: string, signal: AbortSignal) =>
    policy.execute(
      async (attemptSignal) => {
        const json = await getJson(`${config.url}/users/${encodeURIComponent(id)}`, attemptSignal, true);
        if (json === null) return null;
        const parsed = profileSchema.safeParse(json);
        if (!parsed.success) throw new DownstreamFailure('invalid_response', false);
        return parsed.data satisfies UserProfile;
      },
      { idempotent: true, signal },
    );

  const many = (ids: readonly string[], signal: AbortSignal) =>
    policy.execute(
      async (attemptSignal) => {
        const json = await getJson(`${config.url}/users?ids=${ids.map(encodeURIComponent).join(',')}`, attemptSignal, false);
        const parsed = batchSchema.safeParse(json);
        if (!parsed.success) throw new DownstreamFailure('invalid_response', false);
        const byId = new Map(parsed.data.map(({ id, ...profile }) => [id, profile satisfies UserProfile]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { idempotent: true, signal },
    );

  /** Logged with the request's id; shed calls at debug (while the breaker is open that is every call). */
  const report = (logger: Logger, error: unknown, ids: number) => {
    const entry = {
      dependency: PROFILE_DEPENDENCY,
      ids,
      reason: error instanceof DownstreamFailure ? error.kind : error instanceof Error ? error.name : 'unknown',
      status: error instanceof DownstreamFailure ? error.status : undefined,
    };
    if (isShed(error) || (error instanceof Error && error.name === 'CallerAbortedError')) logger.debug(entry, `${PROFILE_DEPENDENCY}: call not made or abandoned`);
    else logger.warn(entry, `${PROFILE_DEPENDENCY}: call failed`);
  };

  return {
    async load(ids, { signal, logger }) {
      if (config.batch) {
        try {
          return await many(ids, signal);
        } catch (error) {
          report(logger, error, ids.length);
          const failure = asError(error);
          return ids.map(() => failure);
        }
      }
      return Promise.all(
        ids.map((id) =>
          one(id, signal).catch((error: unknown) => {
            report(logger, error, 1);
            return asError(error);
          }),
        ),
      );
    },
    get state() {
      return policy.state;
    },
    get queueLength() {
      return policy.queueLength;
    },
  };
}

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/** The body as text, refusing one larger than `max` bytes without reading the rest. */
async function readCapped(response: Response, max: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > max) {
    await response.body?.cancel().catch(() => undefined);
    throw new DownstreamFailure('invalid_response', false);
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > max) throw new DownstreamFailure('invalid_response', false);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
