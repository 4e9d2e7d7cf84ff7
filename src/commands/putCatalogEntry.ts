import { z } from 'zod';
import { compileArgsSchema } from '../catalog/argsSchema.js';
import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { findCatalogEntry, type CatalogEntryDto } from '../projections/catalogReads.js';

export const ActionName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, ".", "_" or "-", at most 64')
  .brand<'ActionName'>();
export type ActionName = z.infer<typeof ActionName>;

export const TargetType = z.enum(['agent', 'group', 'all']);
export const MAX_TIMEOUT_SECONDS = 30 * 24 * 3600;

/** The body of `PUT /catalog/{name}`. */
export const PutCatalogEntry = z.object({
  description: z.string().max(2000),
  args: z.record(z.string(), z.unknown()),
  default_timeout: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS),
  target_types: z
    .array(TargetType)
    .min(1)
    .refine((a) => new Set(a).size === a.length, 'target types must not repeat'),
});
export type PutCatalogEntry = z.infer<typeof PutCatalogEntry>;

/**
 * Pure decision: a definition is journaled as given; its args schema must compile (checked
 * by the caller with `compileArgsSchema`, before the transaction).
 */
export function decidePutCatalogEntry(name: ActionName, cmd: PutCatalogEntry, actor: string): Entry[] {
  return [
    {
      type: 'CatalogEntryPut',
      stream: `catalog:${name}`,
      actor,
      data: {
        name,
        description: cmd.description,
        args: cmd.args,
        defaultTimeout: cmd.default_timeout,
        targetTypes: cmd.target_types,
      },
    },
  ];
}

export function putCatalogEntry(deps: { db: Db; commit: GroupCommit }) {
  return async (name: ActionName, cmd: PutCatalogEntry, actor: string): Promise<CatalogEntryDto> => {
    compileArgsSchema(cmd.args);
    return deps.commit.run((tx) => {
      decidePutCatalogEntry(name, cmd, actor).forEach(tx.append);
      return findCatalogEntry(deps.db, name)!;
    });
  };
}
