import { readFileSync } from 'node:fs';
import type { Config } from '../config.js';
import type { Journal } from '../journal/journal.js';
import { createIndexerClient } from '../indexer/indexerClient.js';
import { indexerConnection } from '../indexer/indexerConnection.js';
import { loadEvidence } from './evidence.js';
import { publicHeadKey, type HeadKey } from '../security/headKey.js';
import { readIndexedHeads } from './headsIndex.js';
import { checkReceipt, ReceiptInput, withReceipt } from './receipt.js';
import { verifyJournal, type ExternalHead } from './verifyJournal.js';

export interface VerifyOptions {
  receipt?: string | undefined;
  publicKey?: string | undefined;
  againstIndexer?: boolean | undefined;
  node?: string | undefined;
}

function readReceipt(file: string) {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read receipt ${file}: ${(err as Error).message}`);
  }
  try {
    return ReceiptInput.parse(JSON.parse(text));
  } catch {
    throw new Error(`${file} is not a receipt: save the output of \`comms-api journal verify\` (or its signed_head)`);
  }
}

/** The trusted key: an auditor's copy of the public key, else the data folder's (or configured) one. */
function trustedKey(cfg: Config, publicKeyFile: string | undefined): HeadKey {
  if (publicKeyFile) return publicHeadKey(readFileSync(publicKeyFile, 'utf8'));
  const ev = loadEvidence(cfg, false);
  if (!ev) throw new Error(`no journal head key in ${cfg.dataDir}/keys (nor COMMS_API_HEADS_KEY): pass --public-key PEM`);
  return ev.key;
}

async function indexedHeads(cfg: Config, node: string): Promise<ExternalHead[] | string> {
  const connection = indexerConnection(cfg);
  if (!connection) return '--against-indexer needs COMMS_API_INDEXER_URL';
  const client = createIndexerClient({ ...connection, requestTimeoutMs: 30_000 });
  try {
    const r = await readIndexedHeads(client, node);
    if (!r.ok) return `the heads index cannot be read: ${r.reason}`;
    if (r.heads.length === 0) return `the indexer holds no signed head of node ${node}: this is not that node's journal, or its heads never reached the indexer`;
    return r.heads.map((head) => ({ source: 'indexer', head }));
  } finally {
    await client.close().catch(() => {});
  }
}

/** `comms-api journal verify`: the verdict (with the signed head to keep as a receipt); the caller exits 1 unless ok. */
export async function journalVerdict(cfg: Config, journal: Journal, o: VerifyOptions): Promise<{ ok: boolean; [k: string]: unknown }> {
  const key = trustedKey(cfg, o.publicKey);
  const node = o.node ?? loadEvidence(cfg, false)?.node ?? null;
  let external: ExternalHead[] = [];
  let indexerProblem: string | null = null;
  if (o.againstIndexer) {
    if (!node) indexerProblem = '--against-indexer needs the node id (--node ID)';
    else {
      const r = await indexedHeads(cfg, node);
      if (typeof r === 'string') indexerProblem = r;
      else external = r;
    }
  }
  const tty = process.stderr.isTTY;
  const progress = (n: number) => tty && process.stderr.write(`\rverified ${n} entries`);
  let verdict: { ok: boolean; first_untrusted_seq?: number; reason?: string; [k: string]: unknown } = {
    ...verifyJournal(journal.db, { key, node, external, onProgress: progress }),
  };
  if (tty) process.stderr.write('\r');
  if (o.againstIndexer) {
    verdict = { ...verdict, indexer: indexerProblem ? { ok: false, reason: indexerProblem } : { ok: true, heads: external.length } };
    if (indexerProblem) verdict = { ...verdict, ok: false, reason: verdict.reason ?? indexerProblem };
  }
  if (o.receipt) verdict = withReceipt(verdict, checkReceipt(journal.db, readReceipt(o.receipt), key));
  return verdict;
}
