import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StoredEntry } from './journal/entries.js';
import type { Backlog } from './queries/backlog.js';

/** What the composition root lets the metrics read at scrape time. */
export interface MetricSources {
  /** Each pipeline's state and its counters since start (the readiness report). */
  pipelines?: () => Record<string, { state: string; [k: string]: unknown }>;
  /** Each enabled pipeline's unsent entries, events and oldest entry time. */
  backlogs?: () => Record<string, Backlog>;
  /** Every checkpoint (pipelines and projections): its seq grows with what was delivered. */
  checkpoints?: () => Array<{ name: string; seq: number }>;
  headSeq?: () => number;
  journalBytes?: () => number;
  journalQuotaBytes?: () => number;
  openDeadLetters?: () => Record<string, number>;
  agents?: () => Record<string, number>;
  openStreams?: () => number;
  longPolls?: () => number;
}

export type LoginOutcome = 'ok' | 'bad_credentials' | 'throttled';
export const PIPELINE_STATES = ['running', 'caught-up', 'retrying', 'down', 'off'] as const;
/** Pipeline counters kept by pullPipeline.ts since start, exported as Prometheus counters. */
const PIPELINE_COUNTERS: Array<[field: string, name: string, help: string]> = [
  ['delivered_events', 'comms_api_pipeline_delivered_events_total', 'Events a pipeline delivered'],
  ['delivered_batches', 'comms_api_pipeline_delivered_batches_total', 'Requests (batches) a pipeline delivered'],
  ['dead_lettered', 'comms_api_pipeline_dead_lettered_total', 'Items a pipeline sent to the dead-letter table'],
  ['retries', 'comms_api_pipeline_retries_total', 'Delivery retries of a pipeline'],
];

const SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000];
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The server's Prometheus metrics, in a registry of its own (several servers can live in one
 * process, as in tests). Counters and histograms are fed by the HTTP middleware, the journal and
 * the sink clients; gauges read their `sources` when scraped. Rates are Prometheus' business
 * (`rate(comms_api_pipeline_delivered_events_total[5m])`), not the process's.
 */
export function createMetrics(opts: { defaultMetrics?: boolean; version?: string } = {}) {
  const registry = new Registry();
  const sources: MetricSources = {};
  const on = { registers: [registry] };
  if (opts.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: 'comms_api_' });
    // prom-client names three gauges `…_total`, which promtool refuses; `comms_api_nodejs_active_resources{type}` stays
    for (const name of ['active_handles', 'active_requests', 'active_resources']) registry.removeSingleMetric(`comms_api_nodejs_${name}_total`);
  }
  const gauge = (name: string, help: string, read: () => number | undefined) =>
    new Gauge({ name, help, ...on, collect() { this.set(read() ?? 0); } });
  const gaugeBy = <L extends string>(name: string, help: string, label: L, read: () => Record<string, number> | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: [label],
      ...on,
      collect() {
        this.reset();
        for (const [k, v] of Object.entries(read() ?? {})) this.set({ [label]: k } as Record<L, string>, v);
      },
    });

  const requests = new Counter({ name: 'comms_api_http_requests_total', help: 'HTTP requests, by method, matched route pattern and status', labelNames: ['method', 'route', 'status'] as const, ...on });
  const latency = new Histogram({ name: 'comms_api_http_request_duration_seconds', help: 'Time to answer an HTTP request (to the response headers for streams), by route', labelNames: ['method', 'route'] as const, buckets: LATENCY_BUCKETS, ...on });
  const appends = new Counter({ name: 'comms_api_journal_appends_total', help: 'Journal entries appended, by entry type', labelNames: ['type'] as const, ...on });
  const batchJobs = new Histogram({ name: 'comms_api_group_commit_jobs', help: 'Units of work sharing one group commit', buckets: SIZE_BUCKETS, ...on });
  const batchEntries = new Histogram({ name: 'comms_api_group_commit_entries', help: 'Journal entries written by one group commit', buckets: SIZE_BUCKETS, ...on });
  const fsync = new Histogram({ name: 'comms_api_group_commit_seconds', help: 'Duration of one group commit transaction, fsync included', buckets: LATENCY_BUCKETS, ...on });
  const logins = new Counter({ name: 'comms_api_logins_total', help: 'Logins (agents and users), by outcome: ok, bad_credentials, throttled', labelNames: ['outcome'] as const, ...on });
  const engineLatency = new Histogram({ name: 'comms_api_engine_request_duration_seconds', help: 'Requests to the engine, by outcome (ok, refused: 4xx, failed: 5xx, timeout or connection)', labelNames: ['outcome'] as const, buckets: LATENCY_BUCKETS, ...on });
  const indexerLatency = new Histogram({ name: 'comms_api_indexer_request_duration_seconds', help: 'Requests to the indexer, by operation (bulk, health, templates, search) and outcome (ok, failed)', labelNames: ['operation', 'outcome'] as const, buckets: LATENCY_BUCKETS, ...on });
  for (const l of ['ok', 'bad_credentials', 'throttled'] as const) logins.inc({ outcome: l }, 0);

  new Gauge({ name: 'comms_api_build_info', help: 'The running version (always 1)', labelNames: ['version'] as const, ...on }).set({ version: opts.version ?? '0.0.0' }, 1);
  new Gauge({
    name: 'comms_api_pipeline_state',
    help: 'A pipeline\'s state: 1 for the current one (running, caught-up, retrying, down, off), 0 for the others',
    labelNames: ['pipeline', 'state'] as const,
    ...on,
    collect() {
      this.reset();
      for (const [pipeline, p] of Object.entries(sources.pipelines?.() ?? {})) {
        for (const state of PIPELINE_STATES) this.set({ pipeline, state }, p.state === state ? 1 : 0);
      }
    },
  });
  for (const [field, name, help] of PIPELINE_COUNTERS) {
    const seen = new Map<string, number>();
    new Counter({
      name,
      help,
      labelNames: ['pipeline'] as const,
      ...on,
      collect() {
        for (const [pipeline, p] of Object.entries(sources.pipelines?.() ?? {})) {
          const v = p[field];
          if (typeof v !== 'number') continue;
          this.inc({ pipeline }, Math.max(0, v - (seen.get(pipeline) ?? 0)));
          seen.set(pipeline, Math.max(v, seen.get(pipeline) ?? 0));
        }
      },
    });
  }
  const backlog = (pick: (b: Backlog) => number) => () =>
    Object.fromEntries(Object.entries(sources.backlogs?.() ?? {}).map(([k, b]) => [k, pick(b)]));
  gaugeBy('comms_api_pipeline_lag_entries', 'Journal entries a pipeline has not delivered yet (of the types it reads)', 'pipeline', backlog((b) => b.entries));
  gaugeBy('comms_api_pipeline_lag_events', 'Events (stateless events, stateful items, other entries) a pipeline has not delivered yet', 'pipeline', backlog((b) => b.events));
  gaugeBy('comms_api_pipeline_lag_seconds', 'Age of the oldest entry a pipeline has not delivered yet (0 when caught up)', 'pipeline',
    backlog((b) => (b.oldestTime === null ? 0 : Math.max(0, (Date.now() - b.oldestTime) / 1000))));
  gaugeBy('comms_api_checkpoint_seq', 'Checkpoint of each pipeline and projection', 'name', () =>
    Object.fromEntries((sources.checkpoints?.() ?? []).map((c) => [c.name, c.seq])));
  gauge('comms_api_journal_head_seq', 'The last journal seq', () => sources.headSeq?.());
  gauge('comms_api_journal_size_bytes', 'Bytes used by the journal database', () => sources.journalBytes?.());
  gauge('comms_api_journal_quota_bytes', 'The journal quota (COMMS_API_JOURNAL_MAX_BYTES): writes get 503 beyond it', () => sources.journalQuotaBytes?.());
  gaugeBy('comms_api_dead_letters_open', 'Dead letters not resolved yet, by sink', 'sink', () => sources.openDeadLetters?.());
  gaugeBy('comms_api_agents', 'Registered agents by status (active, disconnected, never_connected)', 'status', () => sources.agents?.());
  gauge('comms_api_sse_open_streams', 'Agent command streams (SSE) open on this node', () => sources.openStreams?.());
  gauge('comms_api_long_polls_waiting', 'Agent long-poll requests waiting on this node', () => sources.longPolls?.());

  return {
    registry,
    contentType: registry.contentType,
    /** Sets (or adds) the callbacks read at scrape time. */
    setSources(s: MetricSources): void {
      Object.assign(sources, s);
    },
    observeRequest(method: string, route: string, status: number, seconds: number): void {
      requests.inc({ method, route, status: String(status) });
      latency.observe({ method, route }, seconds);
    },
    observeLogin(outcome: LoginOutcome): void {
      logins.inc({ outcome });
    },
    observeEngine(outcome: 'ok' | 'refused' | 'failed', seconds: number): void {
      engineLatency.observe({ outcome }, seconds);
    },
    observeIndexer(operation: string, ok: boolean, seconds: number): void {
      indexerLatency.observe({ operation, outcome: ok ? 'ok' : 'failed' }, seconds);
    },
    /** For `journal.onCommitted`. */
    observeCommitted(entries: readonly StoredEntry[]): void {
      for (const e of entries) appends.inc({ type: e.type });
    },
    /** For `openJournal({ onFlushed })`. */
    observeFlush(jobs: number, entries: number, ms: number): void {
      batchJobs.observe(jobs);
      batchEntries.observe(entries);
      fsync.observe(ms / 1000);
    },
    text: (): Promise<string> => registry.metrics(),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
export type SinkObserver = Pick<Metrics, 'observeEngine' | 'observeIndexer'>;
