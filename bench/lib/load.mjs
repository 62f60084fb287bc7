// One autocannon run against a GraphQL endpoint, with exact latency percentiles (autocannon's own
// histogram keeps whole milliseconds; ours keeps every response time) and error counting that includes
// GraphQL-level failures in 200 responses.
import autocannon from 'autocannon';

/** The q-quantile (0..1) of a sorted array, linear between neighbours. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Drives `url` with POST requests (extra `headers` on each) whose bodies come from `body(i)` (i counts up from `startIndex`) over
 * `connections` connections for `seconds`. `isError(body)` flags a failed 200 response (GraphQL `errors`, or a mutation that did not succeed). Resolves to
 * { requests, seconds, rps, p50, p99, mean, max, errors: { non2xx, graphql, socket, timeouts }, errorCount, errorSamples, nextIndex }.
 */
export function load({ url, body, isError, connections, seconds, headers = {}, startIndex = 0, timeoutSeconds = 10 }) {
  let i = startIndex;
  let non2xx = 0;
  let graphql = 0;
  const firstBad = [];
  const latencies = [];
  const instance = autocannon({
    url,
    connections,
    duration: seconds,
    timeout: timeoutSeconds,
    requests: [
      {
        method: 'POST',
        path: new URL(url).pathname,
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        setupRequest: (req) => ({ ...req, body: body(i++) }),
        onResponse: (status, text) => {
          const httpError = status < 200 || status > 299;
          if (httpError) non2xx++;
          else if (isError(text)) graphql++;
          else return;
          if (firstBad.length < 3) firstBad.push(`${status} ${String(text).slice(0, 300)}`);
        },
      },
    ],
  });
  instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  // A socket error or timeout is counted by autocannon; its first few are kept to say which it was.
  instance.on('reqError', (error) => {
    if (firstBad.length < 3) firstBad.push(`request error: ${error?.code ?? error?.message ?? String(error)}`);
  });
  return new Promise((resolve, reject) => {
    instance.once('done', (result) => {
      latencies.sort((a, b) => a - b);
      const requests = latencies.length;
      const secondsRun = result.duration;
      const errors = { non2xx, graphql, socket: result.errors, timeouts: result.timeouts };
      resolve({
        requests,
        seconds: secondsRun,
        rps: requests / secondsRun,
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        mean: requests ? latencies.reduce((a, b) => a + b, 0) / requests : NaN,
        max: latencies[requests - 1] ?? NaN,
        errors,
        errorCount: non2xx + graphql + result.errors + result.timeouts,
        errorSamples: firstBad,
        nextIndex: i,
      });
    });
    instance.once('error', reject);
  });
}
