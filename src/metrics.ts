import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StoredEntry } from './journal/entries.js';

/** What the composition root lets the metrics read at scrape time. */
export interface MetricSources {
  /** Each pipeline's state and lag (the readiness report). */
  pipelines?: () => Record<string, { state: string; lag: number; [k: string]: unknown }>;
  /** Every checkpoint (pipelines and projections): its seq grows with what was delivered. */
  checkpoints?: () => Array<{ name: string; seq: number }>;
  headSeq?: () => number;
  journalBytes?: () => number;
  openStreams?: () => number;
}

const SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000];
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The server's Prometheus metrics, in a registry of its own (several servers can live in one
 * process, as in tests). Counters and histograms are fed by the HTTP middleware and the journal;
 * gauges read their `sources` when scraped.
 */
export function createMetrics(opts: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'comms_api_' });
  const sources: MetricSources = {};
  const on = { registers: [registry] };

  const requests = new Counter({
    name: 'comms_api_http_requests_total',
    help: 'HTTP requests, by method, matched route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    ...on,
  });
  const latency = new Histogram({
    name: 'comms_api_http_request_duration_seconds',
    help: 'Time to answer an HTTP request (to the response headers for streams), by route',
    labelNames: ['method', 'route'] as const,
    buckets: LATENCY_BUCKETS,
    ...on,
  });
  const appends = new Counter({
    name: 'comms_api_journal_appends_total',
    help: 'Journal entries appended, by entry type',
    labelNames: ['type'] as const,
    ...on,
  });
  const batchJobs = new Histogram({
    name: 'comms_api_group_commit_jobs',
    help: 'Units of work sharing one group commit',
    buckets: SIZE_BUCKETS,
    ...on,
  });
  const batchEntries = new Histogram({
    name: 'comms_api_group_commit_entries',
    help: 'Journal entries written by one group commit',
    buckets: SIZE_BUCKETS,
    ...on,
  });
  const fsync = new Histogram({
    name: 'comms_api_group_commit_seconds',
    help: 'Duration of one group commit transaction, fsync included',
    buckets: LATENCY_BUCKETS,
    ...on,
  });
  new Gauge({
    name: 'comms_api_pipeline_lag',
    help: 'Journal entries a pipeline has not delivered yet (head seq - checkpoint)',
    labelNames: ['pipeline', 'state'] as const,
    ...on,
    collect() {
      this.reset();
      for (const [name, p] of Object.entries(sources.pipelines?.() ?? {})) this.set({ pipeline: name, state: p.state }, p.lag);
    },
  });
  const pipelineFigures: Array<[string, string, string]> = [
    ['throughput', 'comms_api_pipeline_throughput_events_per_second', 'Events a pipeline delivered per second (last 10 s)'],
    ['delivered_events', 'comms_api_pipeline_delivered_events', 'Events a pipeline delivered since start'],
    ['delivered_batches', 'comms_api_pipeline_delivered_batches', 'Batches a pipeline delivered since start'],
    ['dead_lettered', 'comms_api_pipeline_dead_lettered', 'Items a pipeline sent to the dead-letter table since start'],
    ['retries', 'comms_api_pipeline_retries', 'Delivery retries of a pipeline since start'],
  ];
  for (const [field, name, help] of pipelineFigures) {
    new Gauge({
      name,
      help,
      labelNames: ['pipeline'] as const,
      ...on,
      collect() {
        this.reset();
        for (const [pipeline, p] of Object.entries(sources.pipelines?.() ?? {})) {
          const v = p[field];
          if (typeof v === 'number') this.set({ pipeline }, v);
        }
      },
    });
  }
  new Gauge({
    name: 'comms_api_checkpoint_seq',
    help: 'Checkpoint of each pipeline and projection; its rate is the throughput in entries per second',
    labelNames: ['name'] as const,
    ...on,
    collect() {
      this.reset();
      for (const c of sources.checkpoints?.() ?? []) this.set({ name: c.name }, c.seq);
    },
  });
  new Gauge({
    name: 'comms_api_journal_head_seq',
    help: 'The last journal seq',
    ...on,
    collect() {
      this.set(sources.headSeq?.() ?? 0);
    },
  });
  new Gauge({
    name: 'comms_api_journal_size_bytes',
    help: 'Bytes used by the journal database',
    ...on,
    collect() {
      this.set(sources.journalBytes?.() ?? 0);
    },
  });
  new Gauge({
    name: 'comms_api_sse_open_streams',
    help: 'Agent command streams (SSE) open on this node',
    ...on,
    collect() {
      this.set(sources.openStreams?.() ?? 0);
    },
  });

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
