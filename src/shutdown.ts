import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import net from 'node:net';
import { clientErrorResponse } from './errors/index.js';
import { Slots } from './lib/slots.js';
import type { Logger } from './logger.js';

export interface HttpServerOptions {
  /**
   * Longest time to receive a whole request, headers and body (node:http `requestTimeout` and
   * `headersTimeout`): a slower client gets 408 and its connection closed, during a drain too.
   */
  readonly requestTimeoutMs: number;
}

interface DrainState {
  draining: boolean;
  /** Responses not yet finished (in slots, not a Set: see Slots). */
  readonly inFlight: Slots<ServerResponse>;
}

const drains = new WeakMap<Server, DrainState>();

/** An HTTP server with read deadlines, that `drainServer` can drain without resetting a request. */
export function createHttpServer(handler: RequestListener, { requestTimeoutMs }: HttpServerOptions): Server {
  const server = createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: requestTimeoutMs,
      // How often node:http enforces those deadlines; its default, 30 s, would let them run far over.
      connectionsCheckingInterval: Math.min(1_000, requestTimeoutMs),
    },
    handler,
  );
  const state: DrainState = { draining: false, inFlight: new Slots() };
  // Before the handler, so the header is set before anything is written.
  server.prependListener('request', (_req, res) => {
    if (state.draining) res.setHeader('connection', 'close');
    const slot = state.inFlight.add(res);
    res.once('close', () => state.inFlight.delete(slot, res));
  });
  // A request node:http cannot read gets a JSON refusal like any other (node's own has no body),
  // unless part of a response was already written on the connection (then it is only closed).
  server.on('clientError', (error: NodeJS.ErrnoException, socket: net.Socket) => {
    const inFlight = (socket as net.Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (error.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) socket.write(clientErrorResponse(error.code));
    socket.destroy();
  });
  drains.set(server, state);
  return server;
}

/**
 * Stops a server without resetting a request: no new connections; every request already received,
 * or arriving on a connection still open, is served, its response carrying `Connection: close` (so
 * the connection closes after it and clients stop reusing it). Idle connections are not closed at
 * once (a client may be sending on one at that moment, and would get a reset); they close through the
 * keep-alive timeout clients were told. Request bodies keep their read deadline. Resolves true when
 * every connection closed in time; at `timeoutMs` closes the rest and resolves false if that cut a
 * request in progress.
 */
export function drainServer(server: Server, timeoutMs: number, logger: Logger, name = 'graphql'): Promise<boolean> {
  const state = drains.get(server);
  if (!state) throw new Error('drainServer: the server was not made by createHttpServer');
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve(true);
      return;
    }
    state.draining = true;
    for (const res of state.inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    let done = false;
    const finish = (clean: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      resolve(clean);
    };
    const deadline = setTimeout(() => {
      const cut = state.inFlight.size;
      if (cut > 0) logger.warn({ server: name, timeoutMs, cut }, 'drain deadline reached; cutting the requests in progress');
      else logger.info({ server: name, timeoutMs }, 'drain deadline reached; closing idle connections');
      server.closeAllConnections();
      finish(cut === 0);
    }, timeoutMs);
    // net.Server's close, not http.Server's: that one also closes idle keep-alive connections at once
    // (resetting a request the client is sending on one) and stops enforcing the read deadlines.
    net.Server.prototype.close.call(server, () => {
      logger.info({ server: name }, 'drain: every connection closed');
      finish(true);
    });
    server.getConnections((_error, open) => {
      if (!done) logger.info({ server: name, open, inFlight: state.inFlight.size }, 'drain: listener closed; open connections close after their next response');
    });
  });
}
