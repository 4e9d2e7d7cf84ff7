import http from 'node:http';

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/**
 * The metrics-only listener (`COMMS_API_METRICS_PORT`, on `COMMS_API_METRICS_HOST`, loopback by
 * default): plain HTTP, `GET /metrics` without credentials and nothing else, so a Prometheus on
 * the same host (or a private network, when bound there) scrapes without a token while the
 * agent-facing listener keeps asking for one. A reverse proxy forwards the agent-facing port
 * only, so this one is never reachable through it by accident.
 */
export async function openMetricsListener(
  opts: { host: string; port: number },
  metrics: { text(): Promise<string>; contentType: string },
): Promise<MetricsListener> {
  const server = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') return problem(res, 404, 'Not Found', 'this listener serves GET /metrics only');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return problem(res, 405, 'Method Not Allowed', 'GET /metrics only');
    }
    metrics.text().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => problem(res, 500, 'Internal Server Error', 'the metrics could not be collected'),
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function problem(res: http.ServerResponse, status: number, title: string, detail: string): void {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ type: 'about:blank', title, status, detail }));
}
