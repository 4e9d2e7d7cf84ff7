import http from 'node:http';

/** One raw HTTP request (headers sent exactly as given), timed from the first byte written to the last byte read. */
export function timedRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{ status: number; ms: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(url);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: opts.method ?? 'GET', headers: opts.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({ status: res.statusCode!, ms: performance.now() - started, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
};

/** The median time of `n` sequential runs of `f` (a normal request measured in the same run). */
export async function baselineMs(n: number, f: () => Promise<{ ms: number }>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push((await f()).ms);
  return median(times);
}

/**
 * "Bounded relative to a normal request": at most `factor` times the baseline plus a floor that
 * absorbs scheduling noise on a loaded machine. The hostile inputs this guards against take seconds.
 */
export const bound = (baseline: number, factor = 20, floorMs = 250): number => factor * baseline + floorMs;
