import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import type { Journal } from '../journal/journal.js';
import { createIndexerClient } from '../transport/indexer/indexerClient.js';
import { loadEvidence } from './evidence.js';
import { publicHeadKey, type HeadKey } from './headKey.js';
import { readIndexedHeads } from './headsIndex.js';
import { checkReceipt, ReceiptInput, withReceipt } from './receipt.js';
import { verifyJournal, type ExternalHead } from './verifyJournal.js';

export const VERIFY_USAGE = `journal verify [--receipt FILE] [--public-key PEM] [--against-indexer] [--node ID]`;

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
  if (!cfg.indexerUrl) return '--against-indexer needs COMMS_API_INDEXER_URL';
  const client = createIndexerClient({ url: cfg.indexerUrl, requestTimeoutMs: 30_000 });
  try {
    const r = await readIndexedHeads(client, node);
    if (!r.ok) return `the heads index cannot be read: ${r.reason}`;
    if (r.heads.length === 0) return `the indexer holds no signed head of node ${node}: this is not that node's journal, or its heads never reached the indexer`;
    return r.heads.map((head) => ({ source: 'indexer', head }));
  } finally {
    await client.close().catch(() => {});
  }
}

/** `comms-api journal verify`: prints the verdict (with the signed head to keep as a receipt); exit 1 unless ok. */
export async function verifyCommand(cfg: Config, journal: Journal, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { receipt: { type: 'string' }, 'public-key': { type: 'string' }, 'against-indexer': { type: 'boolean' }, node: { type: 'string' } },
  });
  const key = trustedKey(cfg, values['public-key']);
  const node = values.node ?? loadEvidence(cfg, false)?.node ?? null;
  let external: ExternalHead[] = [];
  let indexerProblem: string | null = null;
  if (values['against-indexer']) {
    if (!node) indexerProblem = '--against-indexer needs the node id (--node ID)';
    else {
      const r = await indexedHeads(cfg, node);
      if (typeof r === 'string') indexerProblem = r;
      else external = r;
    }
  }
  const progress = (n: number) => process.stderr.write(`\rverified ${n} entries`);
  let verdict: { ok: boolean; first_untrusted_seq?: number; reason?: string; [k: string]: unknown } = { ...verifyJournal(journal.db, {
    key,
    node,
    external,
    onProgress: progress,
  }) };
  process.stderr.write('\r');
  if (values['against-indexer']) {
    verdict = { ...verdict, indexer: indexerProblem ? { ok: false, reason: indexerProblem } : { ok: true, heads: external.length } };
    if (indexerProblem) verdict = { ...verdict, ok: false, reason: verdict.reason ?? indexerProblem };
  }
  if (values.receipt) verdict = withReceipt(verdict, checkReceipt(journal.db, readReceipt(values.receipt), key));
  process.stdout.write(`${JSON.stringify(verdict)}\n`);
  return verdict.ok ? 0 : 1;
}
