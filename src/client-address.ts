import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';

/** Longest address kept as a budget key (IPv6 text is at most 45 characters). */
const MAX_ADDRESS_CHARS = 64;

export type ClientAddress = (serverContext: Record<string, unknown>) => string;

/**
 * The client's address, for budgets of callers without a verified token: the TCP peer, or with
 * `trustedProxyHops = n` the address n hops back along `X-Forwarded-For` (proxy-addr, as Express's
 * `trust proxy = n`): the header's last entry for one proxy (the ingress), the one before it for two.
 * Entries further left are written by the client and never read. Requests that came without a socket
 * (in-process `yoga.fetch`) all count as "unknown".
 */
export function createClientAddress(trustedProxyHops: number): ClientAddress {
  const trust = (_address: string, hop: number) => hop < trustedProxyHops;
  return (serverContext) => {
    const req = serverContext.req as IncomingMessage | undefined;
    const address = !req?.socket ? undefined : trustedProxyHops === 0 ? req.socket.remoteAddress : proxyAddr(req, trust);
    return address ? address.slice(0, MAX_ADDRESS_CHARS) : 'unknown';
  };
}
