// The "profile service down" rows: our server with PROFILE_SERVICE_URL pointing at a local downstream on
// 127.0.0.1 that hangs (accepts, never answers) or refuses (nothing listens), queried with and without
// `profile`. Once the breaker is open, requests that select `profile` must stay fast: the open breaker
// sheds the calls instead of letting every request wait for PROFILE_TIMEOUT_MS.
import { createServer } from 'node:http';
import { freePort } from './servers.mjs';

const PAGE_FIELDS = 'totalCount edges { node { id email name } }';
const WITH_PROFILE = 'totalCount edges { node { id email name profile { avatarUrl bio locale updatedAt } } }';
const query = (fields) => JSON.stringify({ query: `query ProfilesPage { users(first: 20) { ${fields} } }` });

/** The two bodies: a page of 20 users, without and with their profiles. */
export const PROFILE_SCENARIOS = {
  withoutProfile: { body: () => query(PAGE_FIELDS) },
  withProfile: { body: () => query(WITH_PROFILE) },
};

/**
 * A failed response: no page of users, or an error other than the expected DOWNSTREAM_UNAVAILABLE of
 * `profile` (what a request gets while the profile service is down).
 */
export function profileError(text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return true;
  }
  if (!body?.data?.users?.edges?.length) return true;
  return (body.errors ?? []).some((e) => e?.extensions?.code !== 'DOWNSTREAM_UNAVAILABLE' || e?.path?.at(-1) !== 'profile');
}

/**
 * A downstream on 127.0.0.1 that is down: `hang` accepts connections and requests and never answers
 * (each call runs into PROFILE_TIMEOUT_MS); `refuse` is a free port nobody listens on. Counts requests.
 */
export async function startDownstream(mode) {
  if (mode === 'refuse') {
    const port = await freePort();
    return { url: `http://127.0.0.1:${port}`, requests: () => 0, close: async () => undefined };
  }
  let requests = 0;
  const server = createServer(() => {
    requests++;
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests: () => requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The server's `downstream_circuit_state` for the profile service, from /metrics (NaN if absent). */
export async function circuitState(graphqlUrl) {
  const text = await (await fetch(graphqlUrl.replace(/\/graphql$/, '/metrics'))).text();
  const m = /^downstream_circuit_state\{dependency="profile-service"\} (\d+)/m.exec(text);
  return m ? Number(m[1]) : NaN;
}

/**
 * Sends requests selecting `profile` one after another until the breaker is open (state 2), at most
 * `timeoutMs`; resolves to the number of requests it took and how long.
 */
export async function tripBreaker(graphqlUrl, headers, timeoutMs = 60_000) {
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < timeoutMs) {
    if ((await circuitState(graphqlUrl)) === 2) return { requests: sent, ms: performance.now() - started };
    const res = await fetch(graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: PROFILE_SCENARIOS.withProfile.body(),
    });
    await res.text();
    sent++;
  }
  throw new Error(`the profile breaker did not open within ${timeoutMs} ms (${sent} requests)`);
}
