import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { checkpointName, createCheckpoints } from '../journal/checkpoints.js';
import { createPrunePrefix } from '../journal/prunePrefix.js';

/** What to prune: entries matching ANY of the criteria, within what every sink acknowledged. */
export interface PruneRequest {
  /** Entries with seq < beforeSeq. */
  beforeSeq?: number | undefined;
  /** Entries older than this many days. */
  olderThanDays?: number | undefined;
  /** Oldest entries until the journal's rows take at most this many bytes. */
  maxBytes?: number | undefined;
}

export interface PruneResult {
  pruned: boolean;
  through_seq: number;
  removed: number;
  /** The most the request asked for, and the limit every sink's checkpoint set. */
  requested_through_seq: number;
  safe_through_seq: number;
  reason?: string;
}

export interface PruneFacts {
  firstSeq: number;
  /** seq the request reaches: everything ≤ it matches a criterion. */
  requested: number;
  /** min over the enabled sinks' checkpoints. */
  safe: number;
}

/**
 * Pure decision: prune the prefix up to min(requested, safe); the chain's anchor moves to the
 * last removed entry (its hash) so verification starts there.
 */
export function decidePrune(facts: PruneFacts, removed: number, anchorHash: string, actor: string): Entry[] {
  const through = Math.min(facts.requested, facts.safe);
  if (through < facts.firstSeq || removed === 0) return [];
  return [{ type: 'JournalPruned', stream: 'journal', actor, data: { throughSeq: through, removed, anchorHash } }];
}

export function pruneJournal(deps: { db: Db; commit: GroupCommit; sinks: readonly string[]; now?: () => number }) {
  const prefix = createPrunePrefix(deps.db);
  const checkpoints = createCheckpoints(deps.db);

  function requestedThrough(req: PruneRequest, now: number): number {
    let through = 0;
    if (req.beforeSeq !== undefined) through = Math.max(through, req.beforeSeq - 1);
    if (req.olderThanDays !== undefined) through = Math.max(through, prefix.lastSeqBefore(now - req.olderThanDays * 86_400_000));
    if (req.maxBytes !== undefined) through = Math.max(through, prefix.throughForBytes(req.maxBytes));
    return through;
  }

  return (req: PruneRequest, actor: string): Promise<PruneResult> =>
    deps.commit.run((tx) => {
      const facts: PruneFacts = {
        firstSeq: prefix.firstSeq(),
        requested: requestedThrough(req, (deps.now ?? Date.now)()),
        safe: Math.min(...deps.sinks.map((s) => checkpoints.get(checkpointName(s)))),
      };
      const last = prefix.lastRowThrough(Math.min(facts.requested, facts.safe));
      const through = last?.seq ?? 0;
      const base = { through_seq: 0, removed: 0, requested_through_seq: facts.requested, safe_through_seq: facts.safe };
      const n = through >= facts.firstSeq ? prefix.countThrough(through) : 0;
      if (n === 0) {
        const reason = facts.requested < facts.firstSeq ? 'nothing matches' : 'the sinks have not acknowledged those entries yet';
        return { pruned: false, ...base, reason };
      }
      const hash = last!.hash;
      const entries = decidePrune({ ...facts, requested: through }, n, hash.toString('hex'), actor);
      prefix.removeThrough(through, hash);
      entries.forEach(tx.append);
      return { pruned: true, ...base, through_seq: through, removed: n };
    });
}
