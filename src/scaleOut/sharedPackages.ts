import type { PackagePublisher } from '../commands/storePackage.js';
import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { findPackage, packageContentInUse, type PackageInfo } from '../projections/packagesReads.js';
import type { PackageStore } from '../packages/packageStore.js';
import { INDEXER_ACTOR } from '../indexer/indexedDocs.js';
import type { IndexerClient } from '../indexer/indexerClient.js';
import { CHUNK_BYTES, createPackageIndex, type PackageDoc } from '../indexer/packageDocs.js';
import { IndexerUnavailableError } from './recordIndexedCommandResult.js';

/**
 * Pure decision (scale-out) for one `comms-packages` document: the index is the cluster's truth
 * about a name, so a name that differs here follows it, by the actor `indexer`. A tombstone
 * removes the name; a live document points it at its content (the bytes are fetched when an agent
 * asks for them).
 */
export function decideFollowPackageDoc(doc: PackageDoc, local: PackageInfo | undefined): Entry[] {
  const stream = `package:${doc.name}`;
  if (doc.deleted) {
    if (!local) return [];
    return [{ type: 'PackageDeleted', stream, actor: INDEXER_ACTOR, data: { name: doc.name, sha256: local.sha256 } }];
  }
  if (local && local.sha256 === doc.sha256 && local.size === doc.size) return [];
  return [{ type: 'PackageUploaded', stream, actor: INDEXER_ACTOR, data: { name: doc.name, size: doc.size, sha256: doc.sha256 } }];
}

const chunksOf = (size: number): number => Math.ceil(size / CHUNK_BYTES);

/**
 * Packages shared through OpenSearch (cluster mode): the publisher the write side uses before it
 * journals an upload or a deletion, the follower's `apply`, and `ensure*` for a name or content this
 * node does not hold yet (real-time get of the name, then the chunks into the local blob store).
 */
export function createSharedPackages(deps: {
  db: Db;
  commit: GroupCommit;
  store: PackageStore;
  indexer: IndexerClient;
  onError(message: string, err?: unknown): void;
}) {
  const { db, store } = deps;
  const index = createPackageIndex(deps.indexer);
  const busy = new Set<string>();
  /** The templates before the first chunk: an index created without them would map the bytes as text. */
  let templates: Promise<boolean> | null = null;
  const ensureTemplates = (): Promise<boolean> =>
    (templates ??= deps.indexer.ensureTemplates().then((r) => {
      if (!r.ok) templates = null;
      return r.ok;
    }));

  const publisher: PackagePublisher = {
    busy,
    async publish(p) {
      if (!(await ensureTemplates())) return { ok: false, reason: 'the index templates could not be put' };
      const chunks = await index.writeChunks(p.sha256, store.readBlob(p.sha256, CHUNK_BYTES));
      if (!chunks.ok) return { ok: false, reason: chunks.reason };
      const doc = await index.putPackage({ name: p.name, sha256: p.sha256, size: p.size, chunks: chunks.value, uploaded_at: new Date(p.at).toISOString(), uploaded_by: p.actor });
      return doc.ok ? { ok: true } : { ok: false, reason: doc.reason };
    },
    async unpublish(name, sha256) {
      const r = await index.deletePackage(name, sha256);
      return r.ok ? { ok: true } : { ok: false, reason: r.reason };
    },
    released(sha256) {
      void index.collectChunks(sha256).then((r) => {
        if (!r.ok) deps.onError(`the chunks of package content ${sha256} could not be removed from the index`, new Error(r.reason));
      });
    },
  };

  /** Journals what the documents say (names busy here are left alone), then drops local content no name uses. */
  async function follow(docs: readonly PackageDoc[]): Promise<number> {
    const dropped: string[] = [];
    const n = await deps.commit.run((tx) => {
      let written = 0;
      for (const doc of docs) {
        if (busy.has(doc.name)) continue;
        const local = findPackage(db, doc.name);
        for (const e of decideFollowPackageDoc(doc, local)) {
          tx.append(e);
          written += 1;
          if (local && local.sha256 !== doc.sha256) dropped.push(local.sha256);
          else if (local && doc.deleted) dropped.push(local.sha256);
        }
      }
      return written;
    });
    for (const sha of dropped) await store.collect(sha, (s) => packageContentInUse(db, s));
    return n;
  }

  /** The name as this node knows it, imported from the index first when only another node does. */
  async function ensureKnown(name: string): Promise<PackageInfo | undefined> {
    const local = findPackage(db, name);
    if (local) return local;
    const r = await index.getPackage(name);
    if (!r.ok) throw new IndexerUnavailableError(`the cluster's package store cannot be asked about ${name}: ${r.reason}`);
    if (!r.value || r.value.deleted) return undefined;
    await follow([r.value]);
    return findPackage(db, name);
  }

  /** Content being fetched, by sha256: one fetch per content, however many agents ask. */
  const fetching = new Map<string, Promise<void>>();
  async function fetchContent(info: PackageInfo): Promise<void> {
    const got = await store.receive(index.readChunks(info.sha256, chunksOf(info.size)), info.size, { size: info.size, sha256: info.sha256 });
    if (!got.ok) throw new Error(`the cluster's copy of ${info.name} does not match its size and sha256 (${got.reason})`);
    got.release();
  }

  return {
    publisher,
    follow,
    ensureKnown,
    /** The name and its bytes here (fetched from the chunks when missing); 503 when the index cannot give them. */
    async ensureContent(name: string): Promise<void> {
      const info = await ensureKnown(name);
      if (!info || store.blobSize(info.sha256) !== undefined) return;
      let job = fetching.get(info.sha256);
      if (!job) {
        job = fetchContent(info).finally(() => fetching.delete(info.sha256));
        fetching.set(info.sha256, job);
      }
      try {
        await job;
      } catch (err) {
        deps.onError(`package ${name} could not be fetched from the cluster's package store`, err);
        throw new IndexerUnavailableError(`package ${name} could not be fetched from the cluster's package store: ${(err as Error).message}`);
      }
    },
  };
}
export type SharedPackages = ReturnType<typeof createSharedPackages>;
