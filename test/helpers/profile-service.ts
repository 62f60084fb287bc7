import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real profile service for tests: node:http on 127.0.0.1, port 0. It answers from `profiles`, and on
 * command slows down, fails with a status, answers a bad shape, or hangs until released.
 */
export type Behaviour = { kind: 'ok' } | { kind: 'slow'; ms: number } | { kind: 'fail'; status: number } | { kind: 'bad' } | { kind: 'hang' };

export interface ProfileServiceCall {
  /** The path and query as received. */
  url: string;
  /** The ids asked for (one for `/users/{id}`, several for `/users?ids=`). */
  ids: string[];
  /** The W3C trace context the call carried, if any. */
  traceparent?: string;
}

/** Text a failing answer carries, which must never reach a client. */
export const DOWNSTREAM_SECRET_TEXT = 'internal-detail: db-7.corp.example stack trace at profile.go:42';

export interface FakeProfileService {
  readonly url: string;
  readonly port: number;
  readonly calls: ProfileServiceCall[];
  /** Requests being answered now, and the most there ever were at once. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Requests whose client closed the connection before the answer. */
  readonly abandoned: number;
  profiles: Map<string, Record<string, unknown>>;
  /** How the next requests are answered; `times` limits it to that many, then back to `ok`. */
  behave(behaviour: Behaviour, times?: number): void;
  /** Answers every hanging request (as `ok`). */
  release(): void;
  reset(): void;
  close(): Promise<void>;
}

export function profileOf(id: string, bio = `bio of ${id}`) {
  return { id, avatarUrl: `https://avatars.example.com/${id}.png`, bio, locale: 'en-GB', updatedAt: '2026-01-02T03:04:05.000Z' };
}

export async function startProfileService(): Promise<FakeProfileService> {
  let behaviour: Behaviour = { kind: 'ok' };
  let remaining = Infinity;
  let inFlight = 0;
  let maxInFlight = 0;
  let abandoned = 0;
  const calls: ProfileServiceCall[] = [];
  const hanging = new Set<() => void>();
  const service = { profiles: new Map<string, Record<string, unknown>>() } as FakeProfileService;

  const answer = (req: IncomingMessage, res: ServerResponse, ids: string[], single: boolean) => {
    if (single) {
      const profile = service.profiles.get(ids[0]!);
      if (!profile) return res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: DOWNSTREAM_SECRET_TEXT }));
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(profile));
    }
    const found = ids.flatMap((id) => (service.profiles.has(id) ? [service.profiles.get(id)] : []));
    return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(found));
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const single = /^\/users\/[^/]+$/.test(url.pathname);
    const ids = single ? [decodeURIComponent(url.pathname.slice('/users/'.length))] : (url.searchParams.get('ids') ?? '').split(',').filter(Boolean);
    calls.push({ url: req.url ?? '', ids, traceparent: req.headers.traceparent as string | undefined });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      inFlight--;
    };
    res.on('finish', finish);
    res.on('close', () => {
      if (!res.writableFinished) abandoned++;
      finish();
    });
    const current = behaviour;
    if (--remaining <= 0) {
      behaviour = { kind: 'ok' };
      remaining = Infinity;
    }
    switch (current.kind) {
      case 'ok':
        return answer(req, res, ids, single);
      case 'slow': {
        const timer = setTimeout(() => answer(req, res, ids, single), current.ms);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case 'fail':
        return res.writeHead(current.status, { 'content-type': 'text/plain' }).end(`${DOWNSTREAM_SECRET_TEXT} (${current.status})`);
      case 'bad':
        return res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify(single ? { bio: 42, updatedAt: 'yesterday', note: DOWNSTREAM_SECRET_TEXT } : { oops: DOWNSTREAM_SECRET_TEXT }));
      case 'hang': {
        const release = () => {
          hanging.delete(release);
          if (!res.destroyed) answer(req, res, ids, single);
        };
        hanging.add(release);
        res.on('close', () => hanging.delete(release));
        return;
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  // defineProperties, not Object.assign: that would copy the getters' values once.
  return Object.defineProperties(
    service,
    Object.getOwnPropertyDescriptors({
      url: `http://127.0.0.1:${port}`,
      port,
      calls,
      get inFlight() {
        return inFlight;
      },
      get maxInFlight() {
        return maxInFlight;
      },
      get abandoned() {
        return abandoned;
      },
      behave(next: Behaviour, times = Infinity) {
        behaviour = next;
        remaining = times;
      },
      release() {
        for (const release of [...hanging]) release();
      },
      reset() {
        behaviour = { kind: 'ok' };
        remaining = Infinity;
        calls.splice(0);
        maxInFlight = inFlight;
        abandoned = 0;
      },
      close() {
        server.closeAllConnections();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      },
    }),
  );
}
