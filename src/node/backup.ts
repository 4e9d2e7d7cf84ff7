import Database from 'better-sqlite3';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { loadEvidence } from '../evidence/evidence.js';
import { createSignedHeads, showHead } from '../journal/signedHeads.js';
import { DataFolderError, requireDataFolder } from './dataFolder.js';

/**
 * `comms-api backup FILE`: SQLite's online backup of the data folder's database (journal, read
 * models, signed heads), consistent while a server writes to it; the head key's public half is
 * written beside it (`FILE.heads.pub.pem`) so the copy can be verified on its own. Private keys
 * are not copied: keep `<data>/keys/` safe separately (restore takes it with --keys).
 */
export async function backupCommand(cfg: Config, args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new DataFolderError('backup takes exactly one FILE');
  const dest = resolve(positionals[0]!);
  if (existsSync(dest)) throw new DataFolderError(`${dest} exists: backup writes a new file`);
  const source = new Database(requireDataFolder(cfg.dataDir), { fileMustExist: true });
  try {
    source.pragma('busy_timeout = 10000');
    const started = Date.now();
    await source.backup(dest, { progress: () => 1000 });
    chmodSync(dest, 0o600);
    const copy = new Database(dest, { readonly: true });
    const head = createSignedHeadsReadOnly(copy);
    copy.close();
    const ev = loadEvidence(cfg, false);
    if (ev) writeFileSync(`${dest}.heads.pub.pem`, ev.key.publicKeyPem, { mode: 0o644 });
    process.stdout.write(
      `${JSON.stringify({
        file: dest,
        head_seq: head.headSeq,
        signed_head: head.signed,
        public_key: ev ? `${dest}.heads.pub.pem` : null,
        key_id: ev?.key.keyId ?? null,
        ms: Date.now() - started,
      })}\n`,
    );
    return 0;
  } finally {
    source.close();
  }
}

function createSignedHeadsReadOnly(db: Database.Database) {
  const headSeq = (db.prepare('SELECT max(seq) FROM journal').pluck().get() as number | null) ?? 0;
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'signed_heads'").get();
  const latest = has ? (db.prepare('SELECT * FROM signed_heads ORDER BY n DESC LIMIT 1').get() as Parameters<typeof showHead>[0] | undefined) : undefined;
  return { headSeq, signed: latest ? showHead(latest) : null };
}

/**
 * `comms-api restore FILE --keys DIR`: a backup into a new data folder (refused if it holds a
 * journal already). The keys folder of the node that made it is needed to go on signing with the
 * same head key (and to keep its tokens valid); unless COMMS_API_HEADS_KEY names that key, it is required.
 */
export function restoreCommand(cfg: Config, args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { keys: { type: 'string' } } });
  if (positionals.length !== 1) throw new DataFolderError('restore takes exactly one FILE');
  const backup = resolve(positionals[0]!);
  if (!existsSync(backup)) throw new DataFolderError(`no backup at ${backup}`);
  if (existsSync(join(cfg.dataDir, 'comms.db'))) throw new DataFolderError(`${cfg.dataDir} holds a journal already: restore into a new data folder`);
  if (!values.keys && !cfg.headsKey) {
    throw new DataFolderError('restore needs --keys DIR (the <data>/keys folder of the node that made the backup): its head key signed the journal');
  }
  const probe = new Database(backup, { readonly: true, fileMustExist: true });
  const ok = probe.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'journal'").get();
  probe.close();
  if (!ok) throw new DataFolderError(`${backup} is not a comms-api backup (no journal table)`);
  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  if (values.keys) {
    if (!existsSync(values.keys) || readdirSync(values.keys).length === 0) throw new DataFolderError(`no keys in ${values.keys}`);
    cpSync(values.keys, join(cfg.dataDir, 'keys'), { recursive: true });
    chmodSync(join(cfg.dataDir, 'keys'), 0o700);
  }
  const file = join(cfg.dataDir, 'comms.db');
  copyFileSync(backup, file);
  chmodSync(file, 0o600);
  for (const side of ['-wal', '-shm']) rmSync(`${file}${side}`, { force: true });
  const db = new Database(file, { fileMustExist: true });
  const latest = createSignedHeads(db).latest();
  db.close();
  process.stdout.write(`${JSON.stringify({ restored: file, signed_head: latest ? showHead(latest) : null })}\n`);
  return 0;
}
