import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { readBoundedText, type BodyRefusals } from '../src/request-body.js';
import { useTestApp } from './helpers/app.js';
import { rawRequest, type RawResponse, useListeningApp } from './helpers/http.js';

/**
 * Request bodies are read within MAX_BODY_BYTES by our own reader (src/request-body.ts), not by Yoga's
 * stream-based limit: over a real socket, a declared Content-Length and a chunked body are both held to
 * it, and a body that lies about its length is still caught.
 */

const t = useTestApp();
const server = useListeningApp(t);

const refusals: BodyRefusals = {
  tooLarge: () => new Error('too large'),
  invalidLength: () => new Error('invalid length'),
  invalidJson: () => new Error('invalid json'),
  tooDeep: () => new Error('too deep'),
};

async function headers() {
  return { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${await t.token({ role: 'ADMIN' })}` };
}

/** A POST whose body goes out in `chunks` with Transfer-Encoding: chunked (no Content-Length). */
function chunkedPost(port: number, head: Record<string, string>, chunks: string[]): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/graphql', headers: head }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (data += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: data }));
    });
    // The server may answer 413 and close before the rest is written.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('GraphQL POST bodies over a real socket', () => {
  const max = () => t.config.limits.maxBodyBytes;

  it('serves a body within the limit sent with Content-Length', async () => {
    const body = JSON.stringify({ query: `# ${'é'.repeat(100)}\n{ __typename }` });
    const res = await rawRequest(server.port(), 'POST', '/graphql', { ...(await headers()), 'content-length': String(Buffer.byteLength(body)) }, body);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ data: { __typename: 'Query' } });
  });

  it('serves a chunked body within the limit', async () => {
    const body = JSON.stringify({ query: '{ __typename }' });
    const res = await chunkedPost(server.port(), await headers(), [body.slice(0, 5), body.slice(5)]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ data: { __typename: 'Query' } });
  });

  it('refuses a declared Content-Length over MAX_BODY_BYTES with 413', async () => {
    const body = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(max()) } });
    const res = await rawRequest(server.port(), 'POST', '/graphql', { ...(await headers()), 'content-length': String(Buffer.byteLength(body)) }, body);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).errors[0].extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');
  });

  it('refuses a chunked body once it passes MAX_BODY_BYTES with 413', async () => {
    const piece = 'x'.repeat(64 * 1024);
    const chunks = [`{"query":"{ __typename }","variables":{"pad":"`, ...Array.from({ length: Math.ceil(max() / piece.length) + 1 }, () => piece), '"}}'];
    const res = await chunkedPost(server.port(), await headers(), chunks);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).errors[0].extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');
  });
});

describe('readBoundedText', () => {
  const post = (body: BodyInit, headers: Record<string, string> = {}) => new Request('http://localhost/graphql', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);

  it('reads a body within the limit, with or without Content-Length', async () => {
    await expect(readBoundedText(post('{"a":"é"}', { 'content-length': '10' }), 10, refusals)).resolves.toBe('{"a":"é"}');
    await expect(readBoundedText(post('{"a":"é"}'), 10, refusals)).resolves.toBe('{"a":"é"}');
  });

  it('refuses a declared length over the limit without reading the body', async () => {
    const req = post('x'.repeat(100), { 'content-length': '100' });
    await expect(readBoundedText(req, 10, refusals)).rejects.toThrow('too large');
    expect(req.bodyUsed).toBe(false);
  });

  it('refuses a body longer than its limit even when its Content-Length says less', async () => {
    await expect(readBoundedText(post('x'.repeat(100), { 'content-length': '5' }), 10, refusals)).rejects.toThrow('too large');
  });

  it('counts a body without Content-Length (UTF-8 bytes, not characters) and refuses it past the limit', async () => {
    await expect(readBoundedText(post('é'.repeat(6)), 11, refusals)).rejects.toThrow('too large');
    await expect(readBoundedText(post('é'.repeat(6)), 12, refusals)).resolves.toBe('é'.repeat(6));
  });

  it('refuses a Content-Length that is not one non-negative integer', async () => {
    await expect(readBoundedText(post('x', { 'content-length': '1, 1' }), 10, refusals)).rejects.toThrow('invalid length');
    await expect(readBoundedText(post('x', { 'content-length': '-1' }), 10, refusals)).rejects.toThrow('invalid length');
  });
});
