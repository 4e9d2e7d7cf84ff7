import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import type { Entry } from '../../src/journal/entries.js';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { createProjections } from '../../src/projections/index.js';
import { tempDir } from './server.js';

export interface ProjectionCtx {
  dir: string;
  journal: Journal;
  /** Given: these entries are journaled, in order, each in its own commit (seqs start at 1). */
  given(...entries: Entry[]): Promise<void>;
  /** Then: the rows a read of the read model's tables returns. */
  rows(sql: string, ...params: unknown[]): unknown[];
}

/**
 * A suite for a read model in given/when/then form: a fresh journal with every projection
 * (as the server opens it) per test; given entries, then rows.
 */
export function projectionSuite(name: string) {
  const s = suite<ProjectionCtx>(name);
  s.before.each((ctx) => {
    ctx.dir = tempDir();
    ctx.journal = openJournal({ projections: createProjections, dataDir: ctx.dir, quotaBytes: 1 << 30 });
    ctx.given = async (...entries) => {
      for (const e of entries) await ctx.journal.commit.run((tx) => tx.append(e));
    };
    ctx.rows = (sql, ...params) => ctx.journal.db.prepare(sql).all(...params);
  });
  s.after.each(async (ctx) => {
    await ctx.journal.close();
    rmSync(ctx.dir, { recursive: true, force: true });
  });
  return s;
}
