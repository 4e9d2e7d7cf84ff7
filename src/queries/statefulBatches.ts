import { preparedOnce, type Db } from '../journal/database.js';

export interface StatefulItemDto {
  id: string;
  module: string;
  operation: string;
  index: string;
  result: string | null;
  status: number | null;
  error?: string;
}

export interface StatefulBatchDto {
  batch: string;
  seq: number;
  agent: string;
  state: 'journaled' | 'indexed' | 'partial';
  received_at: string;
  items: StatefulItemDto[];
}

interface BatchRow {
  batch: string;
  seq: number;
  agent: string;
  items: number;
  received_at: number;
}
interface ItemRow {
  id: string;
  module: string;
  operation: string;
  index_name: string;
  result: string | null;
  status: number | null;
  error: string | null;
}

function prepare(db: Db) {
  return {
    batch: db.prepare<[string], BatchRow>('SELECT * FROM stateful_batches WHERE batch = ?'),
    items: db.prepare<[string], ItemRow>(
      'SELECT id, module, operation, index_name, result, status, error FROM stateful_items WHERE batch = ? ORDER BY position',
    ),
  };
}

const stmts = preparedOnce(prepare);

/** A stateful batch and its per-item results; `indexed` once every item has a 2xx result. */
export function findStatefulBatch(db: Db, batch: string): StatefulBatchDto | undefined {
  const s = stmts(db);
  const b = s.batch.get(batch);
  if (!b) return undefined;
  const items = s.items.all(batch).map((r) => ({
    id: r.id,
    module: r.module,
    operation: r.operation,
    index: r.index_name,
    result: r.result,
    status: r.status,
    ...(r.error ? { error: r.error } : {}),
  }));
  const answered = items.filter((i) => i.status !== null);
  const failed = answered.some((i) => i.status! >= 300 && !(i.operation === 'delete' && i.status === 404));
  const state = answered.length < items.length ? 'journaled' : failed ? 'partial' : 'indexed';
  return { batch: b.batch, seq: b.seq, agent: b.agent, state, received_at: new Date(b.received_at).toISOString(), items };
}
