import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../src/shutdown.js';

/**
 * Requests node:http cannot read (headers over its 16 KiB limit, a malformed request line, a request
 * not received within REQUEST_TIMEOUT_MS) never reach the app; node answers them itself, by default
 * with no body. They get the JSON refusal every other refusal has, and the connection is closed.
 */

// Answers once the whole body is read, as the app does.
const server = createHttpServer((req, res) => req.resume().on('end', () => res.end('ok')), { requestTimeoutMs: 500 });
let port = 0;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Writes `raw` on a new connection; everything received until the server closes it. */
function exchange(raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(raw));
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(received));
    setTimeout(() => reject(new Error(`no close within 10 s; received ${JSON.stringify(received)}`)), 10_000).unref();
  });
}

function parse(answer: string) {
  const end = answer.indexOf('\r\n\r\n');
  const body = answer.slice(end + 4);
  const [statusLine = '', ...lines] = answer.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

describe('requests node:http cannot read', () => {
  it.each([
    ['headers over 16 KiB', `GET /graphql HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'BAD_REQUEST'],
    ['a malformed request line', 'GET /graphql HTTP/9\r\n\r\n', 400, 'BAD_REQUEST'],
    ['a header with a control character', 'GET /graphql HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n', 400, 'BAD_REQUEST'],
    ['a body not received within REQUEST_TIMEOUT_MS', 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{', 408, 'REQUEST_TIMEOUT'],
  ])('%s: its status with a JSON body and a code, connection closed', async (_name, raw, status, code) => {
    const answer = parse(await exchange(raw));
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.headers.connection).toBe('close');
    expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
    const body = JSON.parse(answer.body) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe(code);
    expect(answer.body).not.toMatch(/HPE_|stack|at /);
  });

  it('still serves a good request', async () => {
    const answer = parse(await exchange('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('ok');
  });
});
