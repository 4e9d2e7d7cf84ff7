import { defer, from, map, merge, type Observable, retry, Subject, switchMap, takeUntil, timer } from 'rxjs';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Backlog } from '../queries/backlog.js';
import { pruneJournal, type PruneResult } from '../commands/pruneJournal.js';
import { retryDeadLetter } from './retryDeadLetter.js';
import type { Journal } from '../journal/journal.js';
import { createStatefulResultsWriter } from '../projections/statefulBatchesProjection.js';
import { createReplays } from './replays.js';
import type { EngineClient } from '../engine/engineClient.js';
import type { IndexerClient, IndexerHealth } from '../indexer/indexerClient.js';
import { createAckWaiters } from './ackWaiters.js';
import { backoffDelay } from './backoff.js';
import { createEngineSink } from './engineSink.js';
import { createIndexerSink } from './indexerSink.js';
import { createPullPipeline, type Pipeline, type PipelineDeps, type PipelineStatus, type Unit } from './pullPipeline.js';
import { createEngineResender, createIndexerResender, type Resender } from './sinkSenders.js';

/**
 * One log line per pipeline health change (down, retrying, recovered — with the last error and the
 * lag) and one per dead letter (sink, seq, reason).
 */
function pipelineLogs(logger: Logger) {
  return (pipeline: string): Pick<PipelineDeps<Unit>, 'onTransition' | 'onDeadLetter'> => {
    let since = Date.now();
    return {
      onTransition(from, to, s) {
        const fields = { pipeline, from, to, lag: s.lag, checkpoint: s.checkpoint, ...(s.last_error ? { last_error: s.last_error } : {}) };
        if (to === 'ok') logger.info({ ...fields, after_ms: Date.now() - since }, `${pipeline} pipeline recovered`);
        else logger.warn(fields, `${pipeline} pipeline ${to === 'down' ? 'down' : 'retrying'}`);
        since = Date.now();
      },
      onDeadLetter(sink, p) {
        logger.warn({ sink, seq: p.seq, reason: p.reason }, `${sink} dead letter`);
      },
    };
  };
}

export type PipelineReport = PipelineStatus | { state: 'off'; lag: 0 };

/**
 * The journal's way out: the engine pipeline, the indexer pipeline (when an indexer URL is
 * configured), stateful waiters, dead-letter retries, replays and the retention policy.
 * `run$` is cold; only main.ts subscribes to it.
 */
export function createDrain(deps: {
  journal: Journal;
  config: Config;
  logger: Logger;
  /** Built by the composition root (src/clients.ts), which closes them after `stop`. */
  clients: { engine: EngineClient; indexer: IndexerClient | null };
}) {
  const { journal, config, logger } = deps;
  const db = journal.db;
  const onError = (message: string, err?: unknown) => logger.error({ err }, message);
  const observe = pipelineLogs(logger);
  const engineClient = deps.clients.engine;
  // the checkpoint once per page: under ingest, a write (and fsync) per engine request competed with it
  const engine = createPullPipeline({ db, onCommitted: journal.onCommitted, sink: createEngineSink({ client: engineClient }), checkpointEvery: 'page', largeBodies: journal.largeBodies, onError, ...observe('engine') });

  const recordResults = createStatefulResultsWriter(db);
  const indexerClient = deps.clients.indexer;
  const indexer: Pipeline | null = indexerClient
    ? createPullPipeline({
        db,
        onCommitted: journal.onCommitted,
        sink: createIndexerSink({ client: indexerClient, recordResults }),
        concurrency: 3,
        onError,
        ...observe('indexer'),
      })
    : null;
  const waiters = createAckWaiters(() => indexer?.status().checkpoint ?? 0);
  indexer?.onAcknowledged((cp) => waiters.acknowledged(cp));

  let templates: { applied: boolean; error?: string } = { applied: false };
  let health: IndexerHealth | null = null;
  const stop$ = new Subject<void>();

  /** Templates first (retried until the indexer answers), then the indexer pipeline. */
  const indexer$: Observable<never> = indexer
    ? defer(() => from(indexerClient!.ensureTemplates())).pipe(
        map((r) => {
          if (!r.ok) {
            templates = { applied: false, error: r.reason };
            throw new Error(r.reason);
          }
          templates = { applied: true };
          logger.info({ templates: r.value }, 'indexer templates applied');
        }),
        retry({ delay: (_e, n) => timer(backoffDelay(n, { baseMs: 500, maxMs: 30_000 })) }),
        switchMap(() => indexer.run$),
      )
    : (from([]) as Observable<never>);

  const probe$: Observable<never> = indexerClient
    ? timer(0, 5000).pipe(
        switchMap(() => from(indexerClient.health())),
        map((h) => {
          // a change is logged once: bad credentials or an untrusted certificate show at start, not every 5 s
          if (!h.reachable && h.reason !== health?.reason) logger.error({ indexer: config.indexerUrl, reason: h.reason }, 'indexer unavailable');
          if (h.reachable && health && !health.reachable) logger.info({ indexer: config.indexerUrl }, 'indexer reachable again');
          health = h;
        }),
        switchMap(() => from([]) as Observable<never>),
      )
    : (from([]) as Observable<never>);

  const sinks = indexer ? ['engine', 'indexer'] : ['engine'];
  const prune = pruneJournal({ db, commit: journal.commit, sinks });
  const retention$: Observable<never> =
    config.retentionDays > 0 || config.retentionMaxBytes > 0
      ? timer(5_000, 3_600_000).pipe(
          switchMap(() =>
            from(
              prune(
                {
                  ...(config.retentionDays > 0 ? { olderThanDays: config.retentionDays } : {}),
                  ...(config.retentionMaxBytes > 0 ? { maxBytes: config.retentionMaxBytes } : {}),
                },
                'system',
              ).then(
                (r: PruneResult) => r.pruned && logger.info(r, 'journal pruned by the retention policy'),
                (err: unknown) => logger.warn({ err }, 'retention policy could not prune'),
              ),
            ),
          ),
          switchMap(() => from([]) as Observable<never>),
        )
      : (from([]) as Observable<never>);

  const resenders: Partial<Record<string, Resender>> = { engine: createEngineResender(engineClient) };
  if (indexerClient) resenders.indexer = createIndexerResender(indexerClient);
  const replays = createReplays({ db, client: () => engineClient, rate: config.replayRate });

  function indexerReport(): PipelineReport {
    if (!indexer) return { state: 'off', lag: 0 };
    const s = indexer.status();
    if (!templates.applied) return { ...s, state: 'down', ...(templates.error ? { last_error: templates.error } : {}) };
    return s;
  }

  return {
    run$: merge(engine.run$, indexer$, probe$, retention$).pipe(takeUntil(stop$)) as Observable<never>,
    indexerEnabled: indexer !== null,
    /** Each pipeline's state and lag (for /ready and /journal/stats). */
    pipelines: (): Record<string, PipelineReport> => ({ engine: engine.status(), indexer: indexerReport() }),
    indexerHealth: (): IndexerHealth | null => health,
    /** Each enabled pipeline's backlog (for the metrics). */
    backlogs: (): Record<string, Backlog> => ({ engine: engine.backlog(), ...(indexer ? { indexer: indexer.backlog() } : {}) }),
    /** Resolves true once the indexer acknowledged `seq`, false after `timeoutMs`. */
    waitIndexed: (seq: number, timeoutMs: number): Promise<boolean> =>
      indexer ? waiters.wait(seq, timeoutMs) : Promise.resolve(false),
    retryDeadLetter: retryDeadLetter({ db, commit: journal.commit, resenders, recordStatefulResults: recordResults }),
    prune,
    replays,
    /** Stops the pipelines (in-flight deliveries are abandoned: at least once) before the clients and the journal close. */
    async stop(): Promise<void> {
      stop$.next();
      engine.stop();
      indexer?.stop();
      waiters.close();
      await replays.close();
    },
  };
}
export type Drain = ReturnType<typeof createDrain>;
