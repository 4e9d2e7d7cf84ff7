// What the reference engine remembers of the traffic it saw.
//   memory  every accepted event (agent id, module, collector, exact data line), in arrival order
//   count   counters and a running sha256 of the data lines, so memory stays bounded (benchmarks)
//   none    counters only
// `data_hash` is sha256 over every accepted data line followed by "\n", in arrival order, so a
// test can compare it with the hash of the lines it expected without keeping them in the engine.
import { createHash, type Hash } from 'node:crypto';
import type { ParsedEvent } from './parseStatelessBody.js';

export type RecordMode = 'none' | 'memory' | 'count';

export interface Received {
  agentId: string;
  module: string;
  collector: string;
  data: string;
}

export interface EngineStats {
  /** Requests seen on the engine socket, whatever their outcome (stalled ones included). */
  requests: number;
  accepted_requests: number;
  accepted_events: number;
  /** Requests answered with an error status (4xx or 5xx, simulated ones included). */
  rejected: number;
  /** Body bytes of the accepted requests. */
  bytes: number;
  /** Connections opened to the engine socket (keep-alive reuse keeps this low). */
  connections: number;
  /** sha256 hex of the accepted data lines, each followed by "\n"; null when recording is `none`. */
  data_hash: string | null;
  record: RecordMode;
}

const HEX_EMPTY_SHA256 = createHash('sha256').digest('hex');
const NEWLINE = '\n';

export function createRecorder(record: RecordMode) {
  let events: Received[] = [];
  let hash: Hash = createHash('sha256');
  let hashed = 0;
  const counters = { requests: 0, accepted_requests: 0, accepted_events: 0, rejected: 0, bytes: 0, connections: 0 };

  function accept(agentId: string, parsed: readonly ParsedEvent[], bodyBytes: number): void {
    counters.accepted_requests += 1;
    counters.accepted_events += parsed.length;
    counters.bytes += bodyBytes;
    if (record === 'none') return;
    for (const e of parsed) {
      hash.update(e.data);
      hash.update(NEWLINE);
      if (record === 'memory') events.push({ agentId, module: e.module, collector: e.collector, data: e.data });
    }
    hashed += parsed.length;
  }

  function dataHash(): string | null {
    if (record === 'none') return null;
    return hashed === 0 ? HEX_EMPTY_SHA256 : hash.copy().digest('hex');
  }

  return {
    record,
    counters,
    accept,
    stats: (): EngineStats => ({ ...counters, data_hash: dataHash(), record }),
    /** Accepted events from index `from` (0-based), at most `limit`; undefined unless recording `memory`. */
    received(from = 0, limit = Number.MAX_SAFE_INTEGER): Received[] | undefined {
      return record === 'memory' ? events.slice(from, from + limit) : undefined;
    },
    reset(): void {
      events = [];
      hash = createHash('sha256');
      hashed = 0;
      for (const k of Object.keys(counters) as (keyof typeof counters)[]) counters[k] = 0;
    },
  };
}

export type Recorder = ReturnType<typeof createRecorder>;
