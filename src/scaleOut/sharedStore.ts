import type { Entry } from '../journal/entries.js';
import type { Journal } from '../journal/journal.js';
import type { IndexerClient, IndexerResult } from '../indexer/indexerClient.js';
import { createSharedDocs, type ApiKeyDoc, type CatalogDoc, type GroupDoc, type UserDoc, type Versioned, type WriteCondition, type WriteResult } from '../indexer/sharedDocs.js';
import { findCatalogEntry } from '../projections/catalogReads.js';
import { groupConfiguration } from '../projections/groupsReads.js';
import { findApiKey, findUser } from '../projections/usersReads.js';
import { decideFollowApiKeyDoc, decideFollowCatalogDoc, decideFollowGroupDoc, decideFollowUserDoc } from './followSharedDocs.js';
import { IndexerUnavailableError } from './recordIndexedCommandResult.js';

/** One operation at a time: a local change (read index → write index → journal) and the follower's imports never interleave. */
function createMutex() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

const CONFLICT_RETRIES = 3;
/** A write refused because another node changed the document since it was read. */
export const CONFLICT = Symbol('version conflict');
export const conditionOn = (current: Versioned<unknown> | undefined): WriteCondition =>
  current ? { ifSeqNo: current.seqNo, ifPrimaryTerm: current.primaryTerm } : { create: true };
export const docOf = <T>(v: Versioned<T> | undefined): Versioned<T>[] => (v === undefined ? [] : [v]);

/**
 * The cluster's shared documents as one node uses them (cluster mode): reads that are 503 when the
 * indexer cannot answer, writes that record their `_seq_no`, the imports of what the documents say
 * (`learn*`, by `indexer`), and one lock per kind so that a local change and an import never interleave.
 */
export function createSharedStore(deps: { journal: Journal; indexer: IndexerClient }) {
  const { journal } = deps;
  const db = journal.db;
  const docs = createSharedDocs(deps.indexer);
  const locks = { users: createMutex(), apiKeys: createMutex(), catalog: createMutex(), groups: createMutex() };

  let templates: Promise<void> | null = null;
  /** The index templates are put before the first write (a configuration must never be mapped dynamically). */
  function templatesPut(): Promise<void> {
    templates ??= deps.indexer.ensureTemplates().then((r) => {
      if (!r.ok) {
        templates = null;
        throw new IndexerUnavailableError(`the indexer cannot take the shared documents: ${r.reason}`);
      }
    });
    return templates;
  }
  async function read<T>(what: string, r: Promise<IndexerResult<Versioned<T> | undefined>>): Promise<Versioned<T> | undefined> {
    const got = await r;
    if (!got.ok) throw new IndexerUnavailableError(`the indexer cannot be asked about ${what}: ${got.reason}`);
    return got.value;
  }
  /** A written document, or 503; a version conflict is the caller's (`false`). */
  async function written(what: string, map: Map<string, number>, id: string, write: () => Promise<WriteResult>): Promise<boolean> {
    await templatesPut();
    const w = await write();
    if (w.ok) return (isNew(map, id, w.seqNo), true);
    if (w.conflict) return false;
    throw new IndexerUnavailableError(`the indexer cannot take ${what}: ${w.reason}`);
  }
  /**
   * The highest `_seq_no` of each document this node has acted on. A search started before one
   * of this node's own writes can answer after it, with the older version: that one is skipped
   * (it would undo the newer version here for a moment).
   */
  const seen = { users: new Map<string, number>(), apiKeys: new Map<string, number>(), catalog: new Map<string, number>(), groups: new Map<string, number>() };
  const isNew = (map: Map<string, number>, id: string, seqNo: number): boolean => {
    if ((map.get(id) ?? -1) >= seqNo) return false;
    map.set(id, seqNo);
    return true;
  };
  /** Journals `decide(doc)` for each document newer than what was seen, in one transaction; resolves with the entries written. */
  const learn = <T>(map: Map<string, number>, idOf: (doc: T) => string, decide: (doc: T) => Entry[]) => (found: ReadonlyArray<Versioned<T>>): Promise<number> => {
    const fresh = found.flatMap((v) => (v.doc !== undefined && isNew(map, idOf(v.doc), v.seqNo) ? [v.doc] : []));
    if (fresh.length === 0) return Promise.resolve(0);
    return journal.commit.run((tx) => {
      let n = 0;
      for (const doc of fresh) for (const e of decide(doc)) (tx.append(e), (n += 1));
      return n;
    });
  };
  const learnUsers = learn<UserDoc>(seen.users, (d) => d.name, (d) => decideFollowUserDoc(d, findUser(db, d.name)));
  const learnApiKeys = learn<ApiKeyDoc>(seen.apiKeys, (d) => d.id, (d) => decideFollowApiKeyDoc(d, findApiKey(db, d.id)));
  const learnCatalog = learn<CatalogDoc>(seen.catalog, (d) => d.name, (d) => decideFollowCatalogDoc(d, findCatalogEntry(db, d.name)));
  const learnGroups = learn<GroupDoc>(seen.groups, (d) => d.group, (d) => decideFollowGroupDoc(d, groupConfiguration(db, d.group)));

  /**
   * Reads the user's document and (unless `learnFirst` is false) journals what it says, then runs
   * `change`; retried as a whole when another node wrote in between.
   */
  async function changeUser<T>(name: string, change: (current: Versioned<UserDoc> | undefined) => Promise<T | typeof CONFLICT>, learnFirst = true): Promise<T> {
    return locks.users(async () => {
      for (let attempt = 0; ; attempt++) {
        const current = await read(`user ${name}`, docs.user(name));
        if (learnFirst) await learnUsers(docOf(current));
        const r = await change(current);
        if (r !== CONFLICT) return r;
        if (attempt >= CONFLICT_RETRIES) throw new IndexerUnavailableError(`user ${name} keeps changing on other nodes; try again`);
      }
    });
  }

  return { db, docs, locks, seen, read, written, learnUsers, learnApiKeys, learnCatalog, learnGroups, changeUser };
}
export type SharedStore = ReturnType<typeof createSharedStore>;
