import { catchError, defer, EMPTY, exhaustMap, ignoreElements, type Observable, Subject, takeUntil, timer } from 'rxjs';
import { INDEXER_ACTOR } from '../indexer/indexedDocs.js';
import type { UserDoc } from '../indexer/sharedDocs.js';
import { lastUserChange, usersChangedSince } from '../projections/userChangesReads.js';
import { findUser, type UserRow } from '../projections/usersReads.js';
import { userDocOf } from './followSharedDocs.js';
import { conditionOn, CONFLICT, docOf, type SharedStore } from './sharedStore.js';

/** The actor of entries the CLI journals straight into the data folder (`comms-api users add` without `--server`). */
const CLI_ACTOR = 'cli';
const PUBLISH_PAGE = 500;

/**
 * Users made outside this node's API (cluster mode): every `intervalMs` (at once at start), the
 * users created or changed here since the last pass are offered to the users index.
 */
export function createUsersPublisher(store: SharedStore, deps: { intervalMs?: number; now?: () => number; onError(message: string, err?: unknown): void }) {
  const { db, docs, seen, written, learnUsers, changeUser } = store;
  const now = deps.now ?? Date.now;
  const sameUser = (doc: UserDoc | undefined, row: UserRow): boolean =>
    doc !== undefined && !doc.deleted && doc.role === row.role && doc.password_hash === row.password_hash && doc.disabled === (row.disabled === 1);
  /**
   * A user this node has that the users index does not (made before the node had an indexer URL),
   * or changed by the CLI in the data folder after the index's version: written to the index (the
   * index's version wins in every other case, through the follower).
   */
  async function publishUser(row: UserRow): Promise<void> {
    const last = lastUserChange(db, row.name);
    if (last?.actor === INDEXER_ACTOR) return;
    await changeUser(row.name, async (current) => {
      const local = findUser(db, row.name);
      if (!local || sameUser(current?.doc, local)) return undefined;
      const newer = current === undefined || (last?.actor === CLI_ACTOR && (current.doc?.changed_at ?? 0) < last.time);
      if (!newer) return void (await learnUsers(docOf(current)));
      const doc = userDocOf(row.name, { role: local.role, passwordHash: local.password_hash, disabled: local.disabled === 1 }, last?.time ?? now(), last?.actor ?? 'journal');
      return (await written(`user ${row.name}`, seen.users, row.name, () => docs.putUser(doc, conditionOn(current)))) ? undefined : CONFLICT;
    }, false);
  }
  let publishedUpTo = 0;
  let firstPublishTried = false;
  async function publishLocalUsers(): Promise<void> {
    try {
      for (;;) {
        const rows = usersChangedSince(db, publishedUpTo, PUBLISH_PAGE);
        for (const row of rows) {
          await publishUser(row);
          publishedUpTo = row.at;
        }
        if (rows.length < PUBLISH_PAGE) return;
      }
    } finally {
      firstPublishTried = true;
    }
  }
  const stop$ = new Subject<void>();
  const run$: Observable<never> = timer(0, deps.intervalMs ?? 2000).pipe(
    exhaustMap(() =>
      defer(() => publishLocalUsers()).pipe(
        catchError((err: unknown) => {
          deps.onError('publishing this node’s users to the users index failed', err);
          return EMPTY;
        }),
      ),
    ),
    ignoreElements(),
    takeUntil(stop$),
  );

  return {
    run$,
    /** Whether the first pass ran (the users follower waits for it: an older tombstone must not undo a user made here). */
    firstPassTried: () => firstPublishTried,
    stop: () => stop$.next(),
  };
}
