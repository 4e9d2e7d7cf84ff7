import type { Config } from '../config.js';
import type { JournalOptions } from '../journal/journal.js';
import { loadHeadKey, loadNodeId, type HeadKey } from '../security/headKey.js';

export interface Evidence {
  key: HeadKey;
  node: string;
}

/** The data folder's head key and node id; generated on first use when `create`. */
export function loadEvidence(cfg: Config, create = true): Evidence | null {
  const key = loadHeadKey(cfg.dataDir, cfg.headsKey, create);
  const node = loadNodeId(cfg.dataDir, cfg.nodeId, create);
  return key && node ? { key, node } : null;
}

/** The journal's signing options from the configuration (N entries, T seconds). */
export function headSigning(cfg: Config, ev: Evidence, onSigned?: NonNullable<JournalOptions['heads']>['onSigned']): NonNullable<JournalOptions['heads']> {
  return {
    key: ev.key,
    node: ev.node,
    everyEntries: cfg.headsEveryEntries,
    everyMs: cfg.headsEverySeconds * 1000,
    ...(onSigned ? { onSigned } : {}),
  };
}
