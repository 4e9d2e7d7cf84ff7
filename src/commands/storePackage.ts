import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import type { PackageName, PackageStore } from '../packages/packageStore.js';
import { findPackage, packageContentInUse, type PackageInfo } from '../queries/packages.js';

export class PackageTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`a package is limited to ${limit} bytes`);
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

export class UnknownPackageError extends Error {}

/** Pure decision: only a stored package can be deleted. */
export function decideDeletePackage(current: PackageInfo | undefined, name: PackageName, actor: string): Entry[] {
  if (!current) throw new UnknownPackageError(`no package ${name}`);
  return [{ type: 'PackageDeleted', stream: `package:${name}`, actor, data: { name, sha256: current.sha256 } }];
}

/** DeletePackage: the name is removed by a journal entry, then its content if no other name uses it. */
export function deletePackage(deps: { db: Db; commit: GroupCommit; store: PackageStore }) {
  return async (name: PackageName, actor: string): Promise<void> => {
    let sha256 = '';
    await deps.commit.run((tx) => {
      const current = findPackage(deps.db, name);
      decideDeletePackage(current, name, actor).forEach(tx.append);
      sha256 = current!.sha256;
    });
    await deps.store.collect(sha256, (sha) => packageContentInUse(deps.db, sha));
  };
}

/**
 * StorePackage: the bytes go to the store first (async, outside the transaction), then the name
 * is pointed at them by a journal entry. Content no name points at any more is removed after.
 */
export function storePackage(deps: { db: Db; commit: GroupCommit; store: PackageStore }) {
  return async (name: PackageName, source: AsyncIterable<Buffer>, limit: number, actor: string): Promise<StoredPackage> => {
    const upload = await deps.store.receive(source, limit);
    if (!upload.ok) throw new PackageTooLargeError(upload.limit);
    let previous: PackageInfo | undefined;
    try {
      await deps.commit.run((tx) => {
        previous = findPackage(deps.db, name);
        decideStorePackage(name, upload, actor).forEach(tx.append);
      });
    } catch (err) {
      upload.release();
      await deps.store.collect(upload.sha256, (sha) => packageContentInUse(deps.db, sha));
      throw err;
    }
    upload.release();
    if (previous && previous.sha256 !== upload.sha256) {
      await deps.store.collect(previous.sha256, (sha) => packageContentInUse(deps.db, sha));
    }
    return { name, size: upload.size, sha256: upload.sha256, created: !previous };
  };
}
