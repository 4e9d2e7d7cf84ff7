import { StatusError } from '../errors.js';
import type { Logger } from 'pino';

/** Writes are refused for a reason other than the journal's quota (lock lost): 503 with `Retry-After`. */
export class WritesRefusedError extends StatusError {
  readonly status = 503;
  readonly retryAfter = 30;
  override readonly headers = { 'Retry-After': '30' };
}

/**
 * Whether this node accepts writes, and why not: shutting down, journal full, lock lost. `/ready`
 * answers 503 with `reason` while it does not. Logs one line when a journal-full episode or a
 * lost lock starts and one when it ends (checked every second, and on each readiness probe).
 */
export function createWriteState(deps: {
  sizeBytes: () => number;
  quotaBytes: number;
  checkLock: () => string | null;
  logger: Logger;
  everyMs?: number;
}) {
  let stopping = false;
  let full = false;
  let lockProblem: string | null = null;
  let timer: NodeJS.Timeout | null = null;

  function refresh(): void {
    const size = deps.sizeBytes();
    const nowFull = size >= deps.quotaBytes;
    if (nowFull !== full) {
      full = nowFull;
      if (full) deps.logger.warn({ size_bytes: size, quota_bytes: deps.quotaBytes }, 'journal full: writes refused (503) until it is pruned or the quota raised');
      else deps.logger.info({ size_bytes: size, quota_bytes: deps.quotaBytes }, 'journal no longer full: writes accepted again');
    }
    const problem = deps.checkLock();
    if (problem !== lockProblem) {
      if (problem) deps.logger.error({ problem }, 'data folder lock lost: writes refused');
      else deps.logger.info('data folder lock held again: writes accepted');
      lockProblem = problem;
    }
  }

  return {
    /** Why writes are refused now, or null. */
    reason(): string | null {
      if (stopping) return 'shutting down';
      refresh();
      if (lockProblem) return lockProblem;
      if (full) return `journal full (${deps.sizeBytes()} of ${deps.quotaBytes} bytes)`;
      return null;
    },
    /** The group commit's gate (the quota is checked by the group commit itself). */
    admit(): Error | null {
      return lockProblem ? new WritesRefusedError(lockProblem) : null;
    },
    stopping(): void {
      stopping = true;
      if (timer) clearInterval(timer);
    },
    start(): void {
      timer ??= setInterval(refresh, deps.everyMs ?? 1000);
      timer.unref();
    },
  };
}
export type WriteState = ReturnType<typeof createWriteState>;
