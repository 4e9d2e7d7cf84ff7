import type { CommandPublisher, Publication } from '../commands/issueCommand.js';
import type { EntryOf } from '../journal/entries.js';
import type { BulkItemResult, IndexerClient } from '../indexer/indexerClient.js';
import { COMMANDS_INDEX } from '../indexer/templates.js';
import { commandIssuedDocs } from '../pipelines/indexerActions.js';
import { describeItemError, isDone } from '../pipelines/indexerSink.js';

/** How long `POST /commands` waits, at most, for the commands index to take a command (cluster mode). */
export const PUBLISH_DEADLINE_MS = 5_000;
const RETRY_PAUSE_MS = 250;

const retryable = (r: BulkItemResult): boolean => r.status === 429 || r.status === 408 || r.status >= 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The commands index as the place an issued command must be before it is acknowledged (cluster
 * mode). `publish` writes one `create` per target (`<command>:<agent>`, state `pending`; a 409 is
 * our own earlier attempt) and retries what OpenSearch answers as retryable until the deadline;
 * any other refusal ends it at once. The indexer pipeline's later `create` of the same documents
 * finds them (409: done).
 */
export function createCommandPublisher(deps: { indexer: Pick<IndexerClient, 'bulk'>; deadlineMs?: number; now?: () => number }): CommandPublisher {
  const deadlineMs = deps.deadlineMs ?? PUBLISH_DEADLINE_MS;
  const now = deps.now ?? Date.now;

  async function publish(issued: EntryOf<'CommandIssued'>, time: number): Promise<Publication> {
    const until = now() + deadlineMs;
    let docs = commandIssuedDocs(issued.data, issued.actor, time);
    let last = 'no answer';
    for (;;) {
      const left = until - now();
      if (left <= 0) return { ok: false, reason: `not taken within ${deadlineMs} ms: ${last}` };
      const lines = docs.flatMap(({ id, doc }) => [JSON.stringify({ create: { _index: COMMANDS_INDEX, _id: id } }), JSON.stringify(doc)]);
      const r = await deps.indexer.bulk(lines, false, left);
      if (!r.ok) {
        if (!r.retryable) return { ok: false, reason: r.reason };
        last = r.reason;
      } else {
        const again: typeof docs = [];
        for (const [i, d] of docs.entries()) {
          const item = r.value[i] ?? { status: 500, error: { type: 'missing', reason: 'no answer for this item' } };
          if (isDone('create', item.status)) continue;
          if (!retryable(item)) return { ok: false, reason: describeItemError(item) };
          again.push(d);
          last = describeItemError(item);
        }
        if (again.length === 0) return { ok: true };
        docs = again;
      }
      await sleep(Math.min(RETRY_PAUSE_MS, Math.max(0, until - now())));
    }
  }

  async function retract(issued: EntryOf<'CommandIssued'>, reason: string): Promise<void> {
    const at = new Date(now()).toISOString();
    const lines = commandIssuedDocs(issued.data, issued.actor, issued.data.issuedAt).flatMap(({ id }) => [
      JSON.stringify({ update: { _index: COMMANDS_INDEX, _id: id, retry_on_conflict: 3 } }),
      JSON.stringify({ doc: { state: 'cancelled', actor: 'system', message: reason, updated_at: at } }),
    ]);
    await deps.indexer.bulk(lines, false, deadlineMs);
  }

  return { publish, retract };
}
