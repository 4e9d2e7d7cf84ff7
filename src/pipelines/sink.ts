import type { JournalRow } from '../journal/readEntries.js';
import type { Poison } from '../journal/deadLetters.js';

/** A piece of work for a sink: covers journal rows firstSeq..lastSeq. */
export interface Unit {
  firstSeq: number;
  lastSeq: number;
  /** Events (or documents) in it, for the delivered counters. */
  events: number;
}

/**
 * What a sink says about one delivery attempt. `ok: false` is a retryable failure: `rest` is
 * what is still to deliver (the whole unit, or the items that failed retryably).
 */
export type Delivery<U> =
  | { ok: true; poison?: Poison[] }
  | { ok: false; reason: string; rest: U; poison?: Poison[] };

export interface Sink<U extends Unit> {
  /** The checkpoint is `sink:<name>`; dead letters carry `<name>`. */
  readonly name: string;
  /** The journal entry types this sink reads; other rows are passed over. */
  readonly types: readonly string[];
  /** Turns a page of rows into units, in journal order. */
  plan(rows: JournalRow[]): U[];
  deliver(unit: U): Promise<Delivery<U>>;
  /** Runs inside the checkpoint's transaction once `unit` is acknowledged (read models). */
  acknowledged?(unit: U, poison: readonly Poison[]): void;
}

export type PipelineState = 'running' | 'caught-up' | 'retrying' | 'down' | 'off';

export type PipelineStatus = {
  state: PipelineState;
  checkpoint: number;
  lag: number;
  delivered_events: number;
  delivered_batches: number;
  dead_lettered: number;
  retries: number;
  /** Events per second over the last 10 s. */
  throughput: number;
  last_error?: string;
};
