// A counting TCP proxy between a server and PostgreSQL. It forwards bytes untouched both ways and parses
// the frontend (client → server) half of the PostgreSQL wire protocol to count the statements a server
// runs: each simple-protocol Query ('Q') and each extended-protocol Execute ('E') is one statement. The
// first message of a connection has no type byte (StartupMessage, or SSLRequest / GSSENCRequest, which are
// answered before the real startup message): those are skipped. Statement text comes from Query, or from
// Parse ('P') → Bind ('B') → Execute ('E') through the statement and portal names, so transaction control
// (BEGIN / COMMIT / ROLLBACK / SAVEPOINT ...) can be counted separately.
import net from 'node:net';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const TX_CONTROL = /^\s*(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE|PREPARE\s+TRANSACTION)\b/i;

export class StatementCounts {
  statements = 0;
  /** Of `statements`, how many were BEGIN/COMMIT/ROLLBACK/SAVEPOINT... */
  txControl = 0;
  connections = 0;
  /** Statement texts (first 200 characters) → count, for the statements seen while `recordTexts` is on. */
  texts = new Map();
  recordTexts = false;

  /** Local ports of the proxy's open connections to PostgreSQL (pg_stat_activity.client_port). */
  upstreamPorts = new Set();

  snapshot() {
    const { statements, txControl, connections } = this;
    return { statements, txControl, connections, upstreamPorts: [...this.upstreamPorts] };
  }
}

/** Decodes a NUL-terminated string at `offset`; returns [string, offset after the NUL]. */
function cstring(buf, offset) {
  const end = buf.indexOf(0, offset);
  if (end < 0) return ['', buf.length];
  return [buf.toString('utf8', offset, end), end + 1];
}

/** Parses one connection's frontend stream, chunk by chunk, reporting statements to `counts`. */
export class FrontendParser {
  #buffer = Buffer.alloc(0);
  #startup = true;
  #statements = new Map(); // prepared statement name ('' = unnamed) → text
  #portals = new Map(); // portal name → text

  constructor(counts) {
    this.counts = counts;
  }

  push(chunk) {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    for (;;) {
      if (this.#startup) {
        if (this.#buffer.length < 8) return;
        const length = this.#buffer.readInt32BE(0);
        if (this.#buffer.length < length) return;
        const code = this.#buffer.readInt32BE(4);
        this.#buffer = this.#buffer.subarray(length);
        // SSL/GSS requests are followed by the real startup message; anything else starts the typed stream.
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST && code !== CANCEL_REQUEST) this.#startup = false;
        continue;
      }
      if (this.#buffer.length < 5) return;
      const type = this.#buffer[0];
      const length = this.#buffer.readInt32BE(1);
      if (this.#buffer.length < 1 + length) return;
      const body = this.#buffer.subarray(5, 1 + length);
      this.#buffer = this.#buffer.subarray(1 + length);
      this.#message(type, body);
    }
  }

  #message(type, body) {
    switch (type) {
      case 0x51: // 'Q' Query: the text may hold several statements; count it as one round trip.
        this.#statement(cstring(body, 0)[0]);
        break;
      case 0x50: {
        // 'P' Parse: name, text, ...
        const [name, next] = cstring(body, 0);
        this.#statements.set(name, cstring(body, next)[0]);
        break;
      }
      case 0x42: {
        // 'B' Bind: portal, statement, ...
        const [portal, next] = cstring(body, 0);
        const [statement] = cstring(body, next);
        this.#portals.set(portal, this.#statements.get(statement) ?? '');
        break;
      }
      case 0x45: // 'E' Execute: portal, max rows
        this.#statement(this.#portals.get(cstring(body, 0)[0]) ?? '');
        break;
      case 0x43: {
        // 'C' Close: 'S' statement or 'P' portal, name
        const [name] = cstring(body, 1);
        (body[0] === 0x53 ? this.#statements : this.#portals).delete(name);
        break;
      }
      default:
        break;
    }
  }

  #statement(text) {
    const c = this.counts;
    c.statements++;
    if (TX_CONTROL.test(text)) c.txControl++;
    if (c.recordTexts) {
      const key = text.replace(/\s+/g, ' ').trim().slice(0, 200);
      c.texts.set(key, (c.texts.get(key) ?? 0) + 1);
    }
  }
}

/**
 * Listens on 127.0.0.1 (a free port unless given) and forwards to `target` ({ host, port }). Resolves to
 * { port, counts, close() }.
 */
export async function startProxy(target, { port = 0 } = {}) {
  const counts = new StatementCounts();
  const sockets = new Set();
  const server = net.createServer((client) => {
    counts.connections++;
    const upstream = net.connect(target.port, target.host);
    let localPort;
    upstream.once('connect', () => {
      localPort = upstream.localPort;
      counts.upstreamPorts.add(localPort);
    });
    const parser = new FrontendParser(counts);
    sockets.add(client);
    sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk) => {
      parser.push(chunk);
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk) => {
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    const end = () => {
      counts.upstreamPorts.delete(localPort);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    counts,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
