import type { EngineClient } from '../engine/engineClient.js';
import type { IndexerClient } from '../indexer/indexerClient.js';
import { engineItemBody, type EngineItem } from './engineFormat.js';
import { describeItemError, isDone, type IndexerItem } from './indexerSink.js';

/** Sending one dead-lettered item again, outside the pipeline. */
export type ResendResult =
  | { ok: true; status?: number; result?: string }
  | { ok: false; retryable: boolean; reason: string; status?: number };

export type Resender = (item: string) => Promise<ResendResult>;

export function createEngineResender(client: EngineClient): Resender {
  return async (item) => {
    const r = await client.send(engineItemBody(JSON.parse(item) as EngineItem));
    if (r.ok) return { ok: true };
    return { ok: false, retryable: r.retryable, reason: r.reason, ...(r.status !== undefined ? { status: r.status } : {}) };
  };
}

export function createIndexerResender(client: IndexerClient): Resender {
  return async (item) => {
    const it = JSON.parse(item) as IndexerItem;
    const r = await client.bulk(it.lines);
    if (!r.ok) return { ok: false, retryable: r.retryable, reason: r.reason };
    const answer = r.value[0];
    if (!answer) return { ok: false, retryable: true, reason: 'indexer sent no item answer' };
    if (isDone(it.op, answer.status)) {
      return { ok: true, status: answer.status, result: answer.result ?? 'ok' };
    }
    const retryable = answer.status === 429 || answer.status >= 500;
    return { ok: false, retryable, status: answer.status, reason: describeItemError(answer) };
  };
}
