import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of PostgreSQL or RabbitMQ, so a test can take the network away
 * and bring it back, in two ways:
 * - `cut()`: every open connection is destroyed; new ones are accepted but never answered (like an
 *   unreachable host). `restore()` destroys those and forwards again.
 * - `blackhole()`: sockets stay open and every byte, either way, is silently dropped, and so is a
 *   close; new connections are accepted but never answered. Nothing tells either end. `restore()`
 *   forwards again on the old connections (what was dropped stays lost: a query sent meanwhile is
 *   never answered), delivers the closes that were held back, and destroys the connections that were
 *   never answered.
 */
export interface TcpProxy {
  readonly port: number;
  cut(): void;
  blackhole(): void;
  restore(): void;
  close(): Promise<void>;
}

type Mode = 'forward' | 'cut' | 'blackhole';

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  /** Client sockets accepted while the network was away, never connected upstream. */
  const hanging = new Set<net.Socket>();
  /** Sockets whose other end closed during a blackhole: they learn it when the network returns. */
  const orphans = new Set<net.Socket>();
  let mode: Mode = 'forward';
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      hanging.delete(socket);
    });
    socket.on('error', () => socket.destroy());
  };
  /** Forwards `from` to `to` while the proxy forwards; drops the bytes while blackholed. */
  const relay = (from: net.Socket, to: net.Socket) =>
    from.on('data', (chunk: Buffer) => {
      if (mode === 'forward' && !to.destroyed) to.write(chunk);
    });
  const server = net.createServer((client) => {
    track(client);
    if (mode !== 'forward') {
      hanging.add(client); // hang: the client's connect timeout decides
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    track(upstream);
    relay(client, upstream);
    relay(upstream, client);
    const closeOther = (other: net.Socket) => () => {
      if (mode === 'blackhole') orphans.add(other);
      else other.destroy();
    };
    client.on('close', closeOther(upstream));
    upstream.on('close', closeOther(client));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  const destroy = (set: Set<net.Socket>) => {
    for (const socket of set) socket.destroy();
  };
  return {
    port: address.port,
    cut() {
      mode = 'cut';
      destroy(sockets);
    },
    blackhole() {
      mode = 'blackhole';
    },
    restore() {
      if (mode === 'cut') destroy(sockets);
      destroy(hanging);
      destroy(orphans);
      orphans.clear();
      mode = 'forward';
    },
    close() {
      destroy(sockets);
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
