import { randomUUID } from 'node:crypto';
import type { Db } from '../journal/database.js';
import type { EngineClient } from '../transport/engine/engineClient.js';
import { replayToEngine, type ReplaySummary } from './replayToEngine.js';
import type { ReplayRange } from './selectReplayRows.js';

export interface ReplayProgress {
  id: string;
  to: 'engine';
  state: 'running' | 'done' | 'failed' | 'cancelled';
  dry_run: boolean;
  total: number;
  sent: number;
  started_at: string;
  finished_at?: string;
  error?: string;
  summary?: ReplaySummary;
}

/** Replays started over HTTP: each runs in the background; progress is kept in memory. */
export function createReplays(deps: { db: Db; client: () => EngineClient; rate: number; keep?: number }) {
  const replays = new Map<string, ReplayProgress>();
  const abort = new AbortController();
  const running = new Set<Promise<unknown>>();
  const controllers = new Map<string, AbortController>();
  return {
    start(range: ReplayRange, dryRun: boolean): ReplayProgress {
      const p: ReplayProgress = {
        id: randomUUID(),
        to: 'engine',
        state: 'running',
        dry_run: dryRun,
        total: 0,
        sent: 0,
        started_at: new Date().toISOString(),
      };
      replays.set(p.id, p);
      const own = new AbortController();
      abort.signal.addEventListener('abort', () => own.abort(), { once: true });
      controllers.set(p.id, own);
      while (replays.size > (deps.keep ?? 100)) replays.delete(replays.keys().next().value as string);
      const run = replayToEngine({
        db: deps.db,
        client: deps.client(),
        range,
        dryRun,
        rate: deps.rate,
        signal: own.signal,
        onProgress: ({ total, sent }) => Object.assign(p, { total, sent }),
      }).then(
        (summary) => Object.assign(p, { state: 'done', summary, total: summary.total, sent: summary.sent }),
        (err: Error) =>
          own.signal.aborted && !abort.signal.aborted
            ? Object.assign(p, { state: 'cancelled', error: 'cancelled by an operator' })
            : Object.assign(p, { state: 'failed', error: err.message }),
      );
      const tracked = run.finally(() => {
        p.finished_at = new Date().toISOString();
        running.delete(tracked);
        controllers.delete(p.id);
      });
      running.add(tracked);
      return { ...p };
    },
    get: (id: string): ReplayProgress | undefined => replays.get(id),
    /** The replays kept (the last 100), newest first. */
    list: (): ReplayProgress[] => [...replays.values()].reverse(),
    /** Stops a running replay (what was sent stays sent); undefined for an unknown id. */
    cancel(id: string): ReplayProgress | undefined {
      controllers.get(id)?.abort();
      return replays.get(id);
    },
    /** Shutdown: cancels running replays and waits for them to stop. */
    async close(): Promise<void> {
      abort.abort();
      await Promise.allSettled([...running]);
    },
  };
}
export type Replays = ReturnType<typeof createReplays>;
