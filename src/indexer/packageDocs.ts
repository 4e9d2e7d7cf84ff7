import { z } from 'zod';
import { failure, type IndexerClient, type IndexerResult } from './indexerClient.js';
import { PACKAGE_CHUNKS_INDEX, PACKAGES_INDEX } from './templates.js';

/** Bytes per chunk document (base64 in `data`: ~1.33 MiB of JSON each). */
export const CHUNK_BYTES = 1024 * 1024;
/** Chunk documents per `_bulk` when writing, per `_mget` when reading. */
const CHUNKS_PER_REQUEST = 4;

const isoTime = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

/** A `comms-packages` document: a name pointing at content, or the tombstone of a deletion. */
export const PackageDoc = z.union([
  z.object({ name: z.string(), deleted: z.literal(true), sha256: z.string(), updated_at: isoTime }).loose(),
  z.object({
    name: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    size: z.number().int().min(0),
    chunks: z.number().int().min(0),
    chunk_size: z.number().int().min(1),
    uploaded_at: isoTime,
    uploaded_by: z.string(),
    updated_at: isoTime,
    deleted: z.undefined().optional(),
  }).loose(),
]);
export type PackageDoc = z.infer<typeof PackageDoc>;
export type LivePackageDoc = Extract<PackageDoc, { size: number }>;

const chunkId = (sha256: string, n: number): string => `${sha256}:${n}`;
const Mget = z.object({ docs: z.array(z.object({ _id: z.string(), found: z.boolean(), _source: z.object({ data: z.string() }).optional() })) });
const Get = z.object({ found: z.boolean(), _source: z.unknown().optional() });
const Hits = z.object({ hits: z.object({ hits: z.array(z.object({ _id: z.string() })) }) });

/**
 * The cluster's package store in OpenSearch: content as fixed-size chunk documents
 * (`comms-package-chunks/<sha256>:<n>`), names as `comms-packages/<name>` documents. Streams both
 * ways: at most `CHUNKS_PER_REQUEST` chunks are in memory.
 */
export function createPackageIndex(indexer: Pick<IndexerClient, 'client' | 'bulk'>, opts: { timeoutMs?: number } = {}) {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const { client } = indexer;

  /** Writes `pieces` (each ≤ CHUNK_BYTES, in order) as the chunks of `sha256`; resolves with how many. */
  async function writeChunks(sha256: string, pieces: AsyncIterable<Buffer>): Promise<IndexerResult<number>> {
    let n = 0;
    let lines: string[] = [];
    const flush = async (): Promise<IndexerResult<number>> => {
      if (lines.length === 0) return { ok: true, value: n };
      const r = await indexer.bulk(lines, false, timeoutMs);
      lines = [];
      if (!r.ok) return r;
      const bad = r.value.find((i) => i.status < 200 || i.status >= 300);
      if (bad) return { ok: false, retryable: bad.status === 429 || bad.status >= 500, status: bad.status, reason: `indexer refused a package chunk (${bad.status})${bad.error ? `: ${bad.error.type}: ${bad.error.reason}` : ''}` };
      return { ok: true, value: n };
    };
    for await (const piece of pieces) {
      lines.push(JSON.stringify({ index: { _index: PACKAGE_CHUNKS_INDEX, _id: chunkId(sha256, n) } }), JSON.stringify({ sha256, n, data: piece.toString('base64') }));
      n += 1;
      if (lines.length >= CHUNKS_PER_REQUEST * 2) {
        const r = await flush();
        if (!r.ok) return r;
      }
    }
    return flush();
  }

  /** The chunks of content `sha256`, in order; throws when one is missing or the indexer fails. */
  async function* readChunks(sha256: string, chunks: number): AsyncGenerator<Buffer> {
    for (let first = 0; first < chunks; first += CHUNKS_PER_REQUEST) {
      const ids = Array.from({ length: Math.min(CHUNKS_PER_REQUEST, chunks - first) }, (_, i) => chunkId(sha256, first + i));
      let body: unknown;
      try {
        body = (await client.mget({ index: PACKAGE_CHUNKS_INDEX, body: { ids } } as never, { requestTimeout: timeoutMs })).body;
      } catch (err) {
        throw new Error(failure(err).reason);
      }
      const answer = Mget.safeParse(body);
      if (!answer.success) throw new Error('indexer sent an unreadable mget answer');
      for (const d of answer.data.docs) {
        if (!d.found || !d._source) throw new Error(`package chunk ${d._id} is missing from the index`);
        yield Buffer.from(d._source.data, 'base64');
      }
    }
  }

  async function putDoc(name: string, doc: Record<string, unknown>): Promise<IndexerResult<void>> {
    const r = await indexer.bulk([JSON.stringify({ index: { _index: PACKAGES_INDEX, _id: name } }), JSON.stringify(doc)], false, timeoutMs);
    if (!r.ok) return r;
    const item = r.value[0];
    if (!item || item.status < 200 || item.status >= 300) {
      return { ok: false, retryable: true, ...(item ? { status: item.status } : {}), reason: `indexer refused the package document (${item?.status ?? 'no answer'})${item?.error ? `: ${item.error.type}: ${item.error.reason}` : ''}` };
    }
    return { ok: true, value: undefined };
  }

  return {
    writeChunks,
    readChunks,
    /** Points `name` at content whose chunks are written. */
    putPackage: (doc: { name: string; sha256: string; size: number; chunks: number; uploaded_at: string; uploaded_by: string }) =>
      putDoc(doc.name, { ...doc, chunk_size: CHUNK_BYTES, updated_at: new Date().toISOString() }),
    /** The deletion's tombstone (followed by the other nodes). */
    deletePackage: (name: string, sha256: string) => putDoc(name, { name, sha256, deleted: true, updated_at: new Date().toISOString() }),
    /** The name's document (real-time get): undefined when unknown or unreadable. */
    async getPackage(name: string): Promise<IndexerResult<PackageDoc | undefined>> {
      try {
        const r = await client.get({ index: PACKAGES_INDEX, id: name }, { ignore: [404], requestTimeout: timeoutMs });
        const answer = Get.safeParse(r.body);
        if (!answer.success || !answer.data.found) return { ok: true, value: undefined };
        const doc = PackageDoc.safeParse(answer.data._source);
        return { ok: true, value: doc.success ? doc.data : undefined };
      } catch (err) {
        return failure(err);
      }
    },
    /**
     * Removes the chunks of `sha256` when no live package document points at it any more (a
     * refresh first, so the search sees the latest names). Best effort.
     */
    async collectChunks(sha256: string): Promise<IndexerResult<boolean>> {
      try {
        // both: the search must see the latest names, and the delete-by-query (a search too) chunks written in the last second
        await client.indices.refresh({ index: [PACKAGES_INDEX, PACKAGE_CHUNKS_INDEX] }, { requestTimeout: timeoutMs });
        const r = await client.search({
          index: PACKAGES_INDEX,
          body: { size: 1, query: { bool: { filter: [{ term: { sha256 } }], must_not: [{ term: { deleted: true } }] } } },
        } as never);
        const hits = Hits.safeParse(r.body);
        if (!hits.success || hits.data.hits.hits.length > 0) return { ok: true, value: false };
        await client.deleteByQuery({ index: PACKAGE_CHUNKS_INDEX, body: { query: { term: { sha256 } } }, conflicts: 'proceed', refresh: true } as never, { requestTimeout: timeoutMs });
        return { ok: true, value: true };
      } catch (err) {
        return failure(err);
      }
    },
  };
}
export type PackageIndex = ReturnType<typeof createPackageIndex>;
