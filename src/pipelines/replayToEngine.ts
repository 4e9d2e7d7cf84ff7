import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../journal/database.js';
import { backoffDelay } from './backoff.js';
import { planEngineBatches } from './engineSink.js';
import { engineBody } from './engineFormat.js';
import type { EngineClient } from '../engine/engineClient.js';
import { createReplaySelection, type ReplayRange } from '../journal/selectReplayRange.js';

export interface ReplayOptions {
  db: Db;
  client: EngineClient;
  range: ReplayRange;
  dryRun?: boolean;
  /** Events per second at most; 0 = unlimited. */
  rate?: number;
  /** Retryable failures of one request before the replay gives up. */
  maxAttempts?: number;
  signal?: AbortSignal;
  onProgress?: (p: { total: number; sent: number }) => void;
}

export interface ReplaySummary {
  dry_run: boolean;
  /** Journal rows (stateless batches) and events in the range. */
  batches: number;
  total: number;
  sent: number;
  requests: number;
  rejected: number;
  first_seq: number | null;
  last_seq: number | null;
  duration_ms: number;
  errors: string[];
}

export class ReplayFailedError extends Error {}

/**
 * Sends exactly the selected range to the engine in journal order: one request in flight,
 * consecutive rows of one agent grouped, independent of the live pipeline's checkpoint.
 * A retryable failure is retried with back-off (then the replay fails); a 400 is counted and
 * reported, and the replay goes on.
 */
export async function replayToEngine(opts: ReplayOptions): Promise<ReplaySummary> {
  const started = Date.now();
  const sel = createReplaySelection(opts.db);
  const totals = sel.totals(opts.range);
  const summary: ReplaySummary = {
    dry_run: Boolean(opts.dryRun),
    batches: totals.rows,
    total: totals.events,
    sent: 0,
    requests: 0,
    rejected: 0,
    first_seq: totals.first_seq,
    last_seq: totals.last_seq,
    duration_ms: 0,
    errors: [],
  };
  opts.onProgress?.({ total: summary.total, sent: 0 });
  if (opts.dryRun || totals.rows === 0) return { ...summary, duration_ms: Date.now() - started };
  const lastSeq = totals.last_seq!;
  let from = totals.first_seq!;
  while (from <= lastSeq) {
    const rows = sel.page({ ...opts.range, toSeq: lastSeq }, from, 200);
    if (rows.length === 0) break;
    for (const unit of planEngineBatches(rows, { events: 5000, bytes: 4 * 1024 * 1024 })) {
      await sendWithRetry(opts, engineBody(unit.rows), unit.events, summary);
      await pace(opts.rate ?? 0, summary.sent, started, opts.signal);
      opts.onProgress?.({ total: summary.total, sent: summary.sent });
    }
    from = rows[rows.length - 1]!.seq + 1;
  }
  return { ...summary, duration_ms: Date.now() - started };
}

async function sendWithRetry(opts: ReplayOptions, parts: Buffer[], events: number, summary: ReplaySummary): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) throw new ReplayFailedError('replay cancelled');
    const r = await opts.client.send(parts);
    summary.requests += 1;
    if (r.ok) {
      summary.sent += events;
      return;
    }
    if (!r.retryable) {
      summary.rejected += events;
      if (summary.errors.length < 20) summary.errors.push(r.reason);
      return;
    }
    if (attempt >= (opts.maxAttempts ?? 8)) throw new ReplayFailedError(`engine unavailable: ${r.reason}`);
    await sleep(backoffDelay(attempt, { baseMs: 250, maxMs: 10_000 }), undefined, opts.signal ? { signal: opts.signal } : {}).catch(() => {});
  }
}

/** Rate limit: never ahead of `rate` events per second since the start. */
async function pace(rate: number, sent: number, started: number, signal?: AbortSignal): Promise<void> {
  if (rate <= 0) return;
  const ahead = (sent / rate) * 1000 - (Date.now() - started);
  if (ahead > 0) await sleep(ahead, undefined, signal ? { signal } : {}).catch(() => {});
}
