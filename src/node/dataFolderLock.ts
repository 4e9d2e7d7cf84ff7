import { closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const LOCK_FILE = 'serve.lock';

export interface LockInfo {
  pid: number;
  host: string;
  started_at: string;
  listener?: string;
  admin_socket?: string;
}

export class DataFolderInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockInfo,
  ) {
    const where = [holder.listener ? `listening on ${holder.listener}` : 'starting', holder.admin_socket ? `admin socket ${holder.admin_socket}` : null]
      .filter(Boolean)
      .join(', ');
    super(`data folder ${dataDir} is in use by comms-api pid ${holder.pid} on ${holder.host} (${where}, since ${holder.started_at}); stop it first`);
  }
}

function alive(info: LockInfo): boolean {
  if (info.host !== hostname()) return true; // another host (shared file system): cannot tell, assume it runs
  try {
    process.kill(info.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockInfo | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
  } catch {
    return null;
  }
}

/**
 * One server per data folder: `<data>/serve.lock` is created with O_EXCL and holds the pid,
 * host and listener. A lock whose process is gone (kill -9, crash) is taken over; one whose
 * process runs refuses the start with a message naming it.
 */
export function acquireDataFolderLock(dataDir: string) {
  const file = join(dataDir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), started_at: new Date().toISOString() };

  function create(): boolean {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    try {
      writeSync(fd, `${JSON.stringify(info)}\n`);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  for (let attempt = 0; ; attempt++) {
    if (create()) break;
    const holder = readLock(file);
    if (holder && (alive(holder) || attempt > 0)) throw new DataFolderInUseError(dataDir, holder);
    if (!holder && attempt > 0) throw new Error(`cannot lock ${file}: it exists but cannot be read`);
    rmSync(file, { force: true }); // the process that held it is gone
  }

  const ours = (): boolean => {
    const now = readLock(file);
    return now !== null && now.pid === info.pid && now.host === info.host && now.started_at === info.started_at;
  };
  return {
    file,
    /** Adds the listener and admin socket to the lock file (what a second `serve` is told). */
    describe(listener: string, adminSocket: string): void {
      Object.assign(info, { listener, admin_socket: adminSocket });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(info)}\n`, { mode: 0o600 });
      renameSync(tmp, file);
    },
    /** null while held; else why not. A removed lock file is created again when nobody else took it. */
    check(): string | null {
      if (ours()) return null;
      if (readLock(file) === null && create()) return null;
      const holder = readLock(file);
      return holder ? `lock lost: ${file} now names pid ${holder.pid}` : `lock lost: ${file} is gone`;
    },
    release(): void {
      if (ours()) rmSync(file, { force: true });
    },
  };
}
export type DataFolderLock = ReturnType<typeof acquireDataFolderLock>;
