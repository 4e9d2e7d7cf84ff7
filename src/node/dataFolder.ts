import Database from 'better-sqlite3';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { headSigning, loadEvidence } from '../evidence/evidence.js';
import { loadHeadKey } from '../security/headKey.js';
import { openJournal, type Journal } from '../journal/journal.js';
import { createProjections } from '../projections/index.js';
import { createSignedHeads } from '../journal/signedHeads.js';
import { secureDataDir } from '../security/dataDir.js';

export class DataFolderError extends Error {}

/** Refuses a data folder that does not exist or holds no journal, naming the path (only `serve` creates one). */
export function requireDataFolder(dataDir: string): string {
  const file = join(dataDir, 'comms.db');
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) {
    throw new DataFolderError(`no data folder at ${dataDir} (set COMMS_API_DATA_DIR or dataDir; \`comms-api serve\` creates one)`);
  }
  if (!existsSync(file)) throw new DataFolderError(`${dataDir} holds no journal (no comms.db): not a comms-api data folder`);
  let probe: Database.Database | null = null;
  try {
    probe = new Database(file, { readonly: true, fileMustExist: true });
    const has = probe.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'journal'").get();
    if (!has) throw new DataFolderError(`${file} holds no journal table: not a comms-api data folder`);
  } catch (err) {
    if (err instanceof DataFolderError) throw err;
    throw new DataFolderError(`${file} cannot be read as a journal: ${(err as Error).message}`);
  } finally {
    probe?.close();
  }
  return file;
}

/**
 * The CLI's way into a data folder: it must exist and hold a journal. Entries the CLI appends
 * are signed when it closes, with the data folder's head key — unless that is not the key that
 * signed the journal so far (a key configured for the server only): then the server signs them.
 */
export function openExistingDataFolder(cfg: Config, warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Journal {
  requireDataFolder(cfg.dataDir);
  // made private before anything writes to it (`serve` does it itself, and logs why)
  for (const warning of secureDataDir(cfg.dataDir)) warn(`comms-api: warning: ${warning}`);
  const existing = loadHeadKey(cfg.dataDir, cfg.headsKey, false);
  const probe = openJournal({ projections: createProjections, dataDir: cfg.dataDir, quotaBytes: cfg.journalMaxBytes });
  const latest = createSignedHeads(probe.db).latest();
  const foreign = latest !== undefined && existing !== null && existing.keyId !== latest.key_id;
  if (foreign || (latest !== undefined && existing === null)) {
    warn(`comms-api: the head key here is not the one that signed this journal (${latest.key_id}); entries are signed by the server (set COMMS_API_HEADS_KEY as it has it)`);
    return probe;
  }
  probe.db.close();
  const ev = loadEvidence(cfg, true)!;
  return openJournal({ projections: createProjections, dataDir: cfg.dataDir, quotaBytes: cfg.journalMaxBytes, heads: headSigning(cfg, ev) });
}

/** `comms-api init`: creates the data folder (0700), its journal and its head key; a folder that holds one is left as it is. */
export async function initDataFolder(cfg: Config): Promise<number> {
  const existed = existsSync(join(cfg.dataDir, 'comms.db'));
  if (existed) requireDataFolder(cfg.dataDir);
  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const ev = loadEvidence(cfg, true)!;
  const journal = openJournal({ projections: createProjections, dataDir: cfg.dataDir, quotaBytes: cfg.journalMaxBytes, heads: headSigning(cfg, ev) });
  await journal.close();
  process.stdout.write(`${JSON.stringify({ data_dir: cfg.dataDir, created: !existed, node: ev.node, key_id: ev.key.keyId })}\n`);
  return 0;
}
