import type { Logger } from 'pino';
import type { Db } from '../journal/database.js';
import { createSignedHeads, showHead, type SignedHead } from '../journal/signedHeads.js';
import { failure, type IndexerClient } from '../indexer/indexerClient.js';
import { HEADS_INDEX } from '../indexer/templates.js';

interface HeadDoc extends SignedHead {
  public_key: string;
}

type Hit = { _source: HeadDoc; sort: unknown[] };

/** Every head of `node` in the heads index, in `n` order (pages of 1000). */
export async function readIndexedHeads(client: IndexerClient, node: string): Promise<{ ok: true; heads: HeadDoc[] } | { ok: false; reason: string }> {
  const heads: HeadDoc[] = [];
  let after: unknown[] | undefined;
  try {
    await client.client.indices.refresh({ index: HEADS_INDEX, ignore_unavailable: true } as never);
    for (;;) {
      const r = await client.client.search({
        index: HEADS_INDEX,
        ignore_unavailable: true,
        body: { size: 1000, query: { term: { node } }, sort: [{ n: 'asc' }], ...(after ? { search_after: after } : {}) },
      } as never);
      const hits = ((r.body as { hits?: { hits?: Hit[] } }).hits?.hits ?? []) as Hit[];
      for (const h of hits) heads.push(h._source);
      if (hits.length < 1000) return { ok: true, heads };
      after = hits.at(-1)!.sort;
    }
  } catch (err) {
    return { ok: false, reason: failure(err).reason };
  }
}

/**
 * Copies this node's signed heads to the heads index (`_id` = `<node>:<n>`, so a retry writes the
 * same document): after each new head and every few seconds until the indexer has them all.
 */
export function createHeadsPublisher(deps: { db: Db; client: IndexerClient; node: string; publicKeyPem: string; logger: Logger; everyMs?: number }) {
  const heads = createSignedHeads(deps.db);
  let indexed: number | null = null;
  let failing = false;
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;

  async function highestIndexed(): Promise<number> {
    const r = await deps.client.client.search({
      index: HEADS_INDEX,
      ignore_unavailable: true,
      body: { size: 1, query: { term: { node: deps.node } }, sort: [{ n: 'desc' }], _source: ['n'] },
    } as never);
    const hit = (r.body as { hits?: { hits?: Array<{ _source: { n: number } }> } }).hits?.hits?.[0];
    return hit?._source.n ?? 0;
  }

  async function pushOnce(): Promise<void> {
    try {
      if (indexed === null) {
        // the template first: an index created by a bulk before it would map `node` as text
        const t = await deps.client.ensureTemplates();
        if (!t.ok) throw new Error(t.reason);
        indexed = await highestIndexed();
      }
      for (;;) {
        const rows = heads.after(indexed, 500);
        if (rows.length === 0) break;
        const lines = rows.flatMap((r) => [
          JSON.stringify({ index: { _index: HEADS_INDEX, _id: `${deps.node}:${r.n}` } }),
          JSON.stringify({ ...showHead(r), public_key: deps.publicKeyPem }),
        ]);
        const answer = await deps.client.bulk(lines);
        if (!answer.ok) throw new Error(answer.reason);
        const bad = answer.value.find((i) => i.status >= 300);
        if (bad) throw new Error(`indexer refused a signed head: ${bad.error?.type ?? bad.status}: ${bad.error?.reason ?? ''}`);
        indexed = rows.at(-1)!.n;
      }
      if (failing) deps.logger.info({ index: HEADS_INDEX, n: indexed }, 'signed heads reach the indexer again');
      failing = false;
    } catch (err) {
      if (!failing) deps.logger.warn({ index: HEADS_INDEX, error: failure(err).reason }, 'signed heads cannot be written to the indexer; retrying');
      failing = true;
    }
  }

  const push = (): Promise<void> => {
    running ??= pushOnce().finally(() => {
      running = null;
    });
    return running;
  };

  return {
    push,
    start(): void {
      timer ??= setInterval(() => void push(), deps.everyMs ?? 5000);
      timer.unref();
      void push();
    },
    /** One last push (the head signed at stop), then no more. */
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = null;
      await running;
      await push();
    },
  };
}
