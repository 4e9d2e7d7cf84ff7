import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { dueTargets, nextDeadline } from '../projections/commandsReads.js';

const BATCH = 5000;

/** Pure decision: every open target past its deadline becomes expired (actor `system`). */
export function decideExpire(due: ReadonlyArray<{ command: string; agent: string }>): Entry[] {
  return due.map((t) => ({ type: 'CommandExpired', stream: t.command, actor: 'system', data: { id: t.command, agent: t.agent } }));
}

/** Journals CommandExpired for open targets whose deadline is ≤ now (bounded per call); resolves with the count. */
export function expireCommands(deps: { db: Db; commit: GroupCommit }) {
  return (now: number = Date.now()): Promise<number> =>
    deps.commit.run((tx) => {
      const entries = decideExpire(dueTargets(deps.db, Math.min(now, tx.now), BATCH));
      entries.forEach((e) => tx.append(e));
      return entries.length;
    });
}

export interface ExpiryScheduler {
  /** Tells the scheduler about a deadline (a command was issued); re-arms the timer if it is sooner. */
  consider(deadline: number): void;
  stop(): void;
}

/**
 * One timer for the whole server, armed for the earliest open deadline (read from the read
 * model) and re-armed when an earlier one is issued — never a timer per command.
 */
export function createExpiryScheduler(deps: {
  db: Db;
  expire: (now: number) => Promise<number>;
  now?: () => number;
  onError?: (err: unknown) => void;
}): ExpiryScheduler {
  const now = deps.now ?? Date.now;
  const MAX_DELAY = 2 ** 31 - 1;
  let timer: NodeJS.Timeout | null = null;
  let armedFor = Infinity;
  let running = false;
  let stopped = false;

  function arm(deadline: number | undefined): void {
    if (stopped || deadline === undefined || deadline >= armedFor) return;
    if (timer) clearTimeout(timer);
    armedFor = deadline;
    timer = setTimeout(fire, Math.min(MAX_DELAY, Math.max(0, deadline - now())));
    timer.unref();
  }

  async function fire(): Promise<void> {
    timer = null;
    armedFor = Infinity;
    if (stopped || running) return;
    running = true;
    let failed = false;
    try {
      while (!stopped && (await deps.expire(now())) >= BATCH);
    } catch (err) {
      failed = true;
      deps.onError?.(err);
    } finally {
      running = false;
    }
    if (stopped) return;
    // After a failure, try again in a second rather than at the (already past) deadline.
    if (failed) arm(now() + 1000);
    else arm(nextDeadline(deps.db));
  }

  arm(nextDeadline(deps.db));
  return {
    consider: arm,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
