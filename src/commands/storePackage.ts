import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import type { PackageName, PackageStore } from '../packages/packageStore.js';
import { findPackage, packageContentInUse, type PackageInfo } from '../projections/packagesReads.js';
import { StatusError } from '../errors.js';

export class PackageTooLargeError extends StatusError {
  readonly status = 413;
  override readonly headers = { Connection: 'close' };
  constructor(readonly limit: number) {
    super(`a package is limited to ${limit} bytes`);
  }
}

/**
 * Cluster mode (a port scale-out implements): the shared package store, which takes an upload's
 * content and name, and a deletion's tombstone, before this node journals them.
 */
export interface PackagePublisher {
  /** The content (read from the local blob) and then the name; resolves ok or with the reason. */
  publish(p: { name: string; size: number; sha256: string; at: number; actor: string }): Promise<{ ok: true } | { ok: false; reason: string }>;
  unpublish(name: string, sha256: string): Promise<{ ok: true } | { ok: false; reason: string }>;
  /** Content this node stopped using: the cluster's copy goes when no name points at it (best effort, not awaited). */
  released(sha256: string): void;
  /** Names an upload or a deletion is under way for on this node (the follower leaves them alone). */
  busy: Set<string>;
}

/** Cluster mode: the shared package store did not take the upload or the deletion; nothing changed. */
export class PackageNotSharedError extends StatusError {
  readonly status = 503;
  override readonly headers = { 'Retry-After': '5' };
  constructor(what: string, reason: string) {
    super(`the cluster's package store did not take the ${what} (${reason}); nothing was changed: try again`);
  }
}

export interface StoredPackage {
  name: string;
  size: number;
  sha256: string;
  /** False when the name already existed (the upload replaced it). */
  created: boolean;
}

/** Pure decision: every upload is journaled, a new name or a replacement alike. */
export function decideStorePackage(name: PackageName, upload: { size: number; sha256: string }, actor: string): Entry[] {
  return [{ type: 'PackageUploaded', stream: `package:${name}`, actor, data: { name, size: upload.size, sha256: upload.sha256 } }];
}

export class UnknownPackageError extends StatusError {
  readonly status = 404;
}

/** Pure decision: only a stored package can be deleted. */
export function decideDeletePackage(current: PackageInfo | undefined, name: PackageName, actor: string): Entry[] {
  if (!current) throw new UnknownPackageError(`no package ${name}`);
  return [{ type: 'PackageDeleted', stream: `package:${name}`, actor, data: { name, sha256: current.sha256 } }];
}

/** Runs `work` with `name` marked busy for the publisher (the package follower skips it meanwhile). */
async function whileBusy<T>(publisher: PackagePublisher | undefined, name: string, work: () => Promise<T>): Promise<T> {
  publisher?.busy.add(name);
  try {
    return await work();
  } finally {
    publisher?.busy.delete(name);
  }
}

/**
 * DeletePackage: the name is removed by a journal entry, then its content if no other name uses
 * it. In cluster mode the tombstone goes to the shared store first (503 when it cannot).
 */
export function deletePackage(deps: { db: Db; commit: GroupCommit; store: PackageStore; publisher?: PackagePublisher }) {
  const { publisher } = deps;
  return (name: PackageName, actor: string): Promise<void> =>
    whileBusy(publisher, name, async () => {
      if (publisher) {
        const current = findPackage(deps.db, name);
        decideDeletePackage(current, name, actor); // 404 before anything is written
        const r = await publisher.unpublish(name, current!.sha256);
        if (!r.ok) throw new PackageNotSharedError(`deletion of ${name}`, r.reason);
      }
      let sha256 = '';
      await deps.commit.run((tx) => {
        const current = findPackage(deps.db, name);
        decideDeletePackage(current, name, actor).forEach(tx.append);
        sha256 = current!.sha256;
      });
      await deps.store.collect(sha256, (sha) => packageContentInUse(deps.db, sha));
      if (!packageContentInUse(deps.db, sha256)) publisher?.released(sha256);
    });
}

/**
 * StorePackage: the bytes go to the store first (async, outside the transaction), then the name
 * is pointed at them by a journal entry. Content no name points at any more is removed after.
 */
export function storePackage(deps: { db: Db; commit: GroupCommit; store: PackageStore; publisher?: PackagePublisher }) {
  const { publisher } = deps;
  return (name: PackageName, source: AsyncIterable<Buffer>, limit: number, actor: string): Promise<StoredPackage> =>
    whileBusy(publisher, name, () => store(name, source, limit, actor));

  async function store(name: PackageName, source: AsyncIterable<Buffer>, limit: number, actor: string): Promise<StoredPackage> {
    const upload = await deps.store.receive(source, limit);
    if (!upload.ok) throw new PackageTooLargeError(upload.reason === 'too_large' ? upload.limit : limit);
    let previous: PackageInfo | undefined;
    try {
      if (publisher) {
        // cluster mode: content and name in the shared store before the journal says so
        const r = await publisher.publish({ name, size: upload.size, sha256: upload.sha256, at: Date.now(), actor });
        if (!r.ok) throw new PackageNotSharedError(`upload of ${name}`, r.reason);
      }
      await deps.commit.run((tx) => {
        previous = findPackage(deps.db, name);
        decideStorePackage(name, upload, actor).forEach(tx.append);
      });
    } catch (err) {
      upload.release();
      await deps.store.collect(upload.sha256, (sha) => packageContentInUse(deps.db, sha));
      if (!packageContentInUse(deps.db, upload.sha256)) publisher?.released(upload.sha256);
      throw err;
    }
    upload.release();
    if (previous && previous.sha256 !== upload.sha256) {
      await deps.store.collect(previous.sha256, (sha) => packageContentInUse(deps.db, sha));
      if (!packageContentInUse(deps.db, previous.sha256)) publisher?.released(previous.sha256);
    }
    return { name, size: upload.size, sha256: upload.sha256, created: !previous };
  }
}
