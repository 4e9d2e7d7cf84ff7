import tls from 'node:tls';
import { Client } from '@opensearch-project/opensearch';
import { z } from 'zod';
import { TEMPLATES } from './templates.js';

export type IndexerResult<T> = { ok: true; value: T } | { ok: false; retryable: boolean; status?: number; reason: string };

/** One bulk item's answer, as OpenSearch gives it (parsed at the edge). */
const BulkItemAnswer = z.object({
  _index: z.string().optional(),
  _id: z.string().nullish(),
  status: z.number(),
  result: z.string().optional(),
  error: z.object({ type: z.string(), reason: z.string().nullish() }).loose().optional(),
});
const BulkAnswer = z.object({
  errors: z.boolean(),
  items: z.array(z.record(z.string(), BulkItemAnswer)),
});
export interface BulkItemResult {
  status: number;
  result?: string;
  index?: string;
  error?: { type: string; reason: string };
}

export interface IndexerHealth {
  reachable: boolean;
  status?: 'green' | 'yellow' | 'red';
  reason?: string;
  checked_at: string;
}

export interface IndexerClientOptions {
  url: string;
  requestTimeoutMs?: number;
  /** PEM text: the CA that signed the indexer's certificate (added to Node's roots), a client pair. */
  tls?: { ca?: string; cert?: string; key?: string };
  auth?: { username: string; password: string };
  /** Told each request's operation, outcome and duration (the latency histogram). */
  observe?: (operation: string, ok: boolean, seconds: number) => void;
}

/** Errors thrown by the OpenSearch client become results: only bugs are thrown from here. */
export function failure(err: unknown): { ok: false; retryable: boolean; status?: number; reason: string } {
  const e = err as { name?: string; message?: string; meta?: { statusCode?: number; body?: unknown } };
  const status = e.meta?.statusCode;
  const body = e.meta?.body as { error?: { type?: string; reason?: string } } | undefined;
  const detail = body?.error?.reason ? `${body.error.type}: ${body.error.reason}` : (e.message ?? String(err));
  if (status === 401 || status === 403) {
    // the security plugin: wrong user name, password, API key or client certificate, or too few rights
    const what = status === 401 ? 'refused our credentials' : 'denied the configured user';
    return { ok: false, retryable: true, status, reason: `indexer ${what} (${status}): ${detail}` };
  }
  if (typeof status === 'number' && status > 0) {
    const retryable = status === 408 || status === 429 || status >= 500;
    return { ok: false, retryable, status, reason: `indexer answered ${status}: ${detail}` };
  }
  return { ok: false, retryable: true, reason: `indexer unreachable: ${e.name ?? 'Error'}: ${detail}` };
}

export function createIndexerClient(opts: IndexerClientOptions) {
  const client = new Client({
    node: opts.url,
    maxRetries: 0,
    requestTimeout: opts.requestTimeoutMs ?? 30_000,
    // certificates are always verified; a configured CA is trusted besides Node's own roots
    ssl: { rejectUnauthorized: true, ...(opts.tls?.ca ? { ca: [...tls.rootCertificates, opts.tls.ca] } : {}), ...(opts.tls?.cert ? { cert: opts.tls.cert, key: opts.tls.key } : {}) },
    ...(opts.auth ? { auth: opts.auth } : {}),
  });
  /** Runs one request, timing it for `observe`. */
  const timed = async <T extends { ok: boolean } | { reachable: boolean }>(operation: string, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const r = await run();
    opts.observe?.(operation, 'ok' in r ? r.ok : r.reachable, (performance.now() - started) / 1000);
    return r;
  };
  return {
    /** The underlying client, for queries (search, aggregations, stats). */
    client,
    /** Puts every index template (idempotent: a put replaces the template with the same body). */
    ensureTemplates: (): Promise<IndexerResult<string[]>> =>
      timed('templates', async () => {
        try {
          for (const t of TEMPLATES) await client.indices.putIndexTemplate({ name: t.name, body: t.body as never });
          return { ok: true, value: TEMPLATES.map((t) => t.name) } as IndexerResult<string[]>;
        } catch (err) {
          return failure(err);
        }
      }),
    health: (): Promise<IndexerHealth> => timed('health', health),
    bulk: (lines: readonly string[], refresh?: 'wait_for' | boolean, timeoutMs?: number): Promise<IndexerResult<BulkItemResult[]>> =>
      timed('bulk', () => bulk(lines, refresh, timeoutMs)),
    async close(): Promise<void> {
      await client.close();
    },
  };
  async function health(): Promise<IndexerHealth> {
    const checked_at = new Date().toISOString();
    try {
      const r = await client.cluster.health({ timeout: '2s' } as never, { requestTimeout: 3000 });
      const status = (r.body as { status?: string }).status as IndexerHealth['status'];
      return { reachable: true, ...(status ? { status } : {}), checked_at };
    } catch (err) {
      return { reachable: false, reason: failure(err).reason, checked_at };
    }
  }
  /**
   * One `_bulk` request of pre-serialised NDJSON lines; per-item results in request order.
   * `refresh: 'wait_for'` when the caller needs the documents searchable at once; `timeoutMs`
   * bounds this request (and how long the primary shard may be waited for) below the client's default.
   */
  async function bulk(lines: readonly string[], refresh?: 'wait_for' | boolean, timeoutMs?: number): Promise<IndexerResult<BulkItemResult[]>> {
    try {
      const params = { body: lines as string[], ...(refresh !== undefined ? { refresh } : {}), ...(timeoutMs !== undefined ? { timeout: `${Math.max(1, Math.floor(timeoutMs))}ms` } : {}) };
      const r = await client.bulk(params as never, timeoutMs !== undefined ? { requestTimeout: timeoutMs } : {});
      const answer = BulkAnswer.safeParse(r.body);
      if (!answer.success) return { ok: false, retryable: true, reason: 'indexer sent an unreadable bulk answer' };
      return {
        ok: true,
        value: answer.data.items.map((entry) => {
          const item = Object.values(entry)[0]!;
          return {
            status: item.status,
            ...(item.result ? { result: item.result } : {}),
            ...(item._index ? { index: item._index } : {}),
            ...(item.error ? { error: { type: item.error.type, reason: item.error.reason ?? '' } } : {}),
          };
        }),
      };
    } catch (err) {
      return failure(err);
    }
  }
}
export type IndexerClient = ReturnType<typeof createIndexerClient>;
