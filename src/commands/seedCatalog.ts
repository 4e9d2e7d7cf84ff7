import type { Db } from '../journal/database.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { findCatalogEntry } from '../projections/catalogReads.js';
import { ActionName, decidePutCatalogEntry, type PutCatalogEntry } from './putCatalogEntry.js';

const noArgs = { type: 'object', properties: {}, additionalProperties: false };

/**
 * The definitions every installation starts with. `set-group` replaces the target agent's
 * group membership when the command is issued (journaled as AgentGroupsChanged in the same
 * transaction); the agent receives the command so it can fetch its new configuration.
 */
export const SEED_CATALOG: ReadonlyArray<{ name: string } & PutCatalogEntry> = [
  {
    name: 'restart',
    description: 'Restart the agent service.',
    args: noArgs,
    default_timeout: 600,
    target_types: ['agent', 'group', 'all'],
  },
  {
    name: 'fetch-config',
    description: 'Fetch the merged configuration of the agent\'s groups now.',
    args: noArgs,
    default_timeout: 600,
    target_types: ['agent', 'group', 'all'],
  },
  {
    name: 'set-group',
    description: 'Replace the agent\'s group membership (applied when the command is issued).',
    args: {
      type: 'object',
      required: ['groups'],
      properties: {
        groups: {
          type: 'array',
          maxItems: 128,
          uniqueItems: true,
          items: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
        },
      },
      additionalProperties: false,
    },
    default_timeout: 600,
    target_types: ['agent', 'group'],
  },
  {
    name: 'upgrade',
    description: 'Download a package from /upgrade/{package} and install it.',
    args: {
      type: 'object',
      required: ['package'],
      properties: {
        package: { type: 'string', minLength: 1, maxLength: 255 },
        version: { type: 'string', minLength: 1, maxLength: 64 },
      },
      additionalProperties: false,
    },
    default_timeout: 3600,
    target_types: ['agent', 'group', 'all'],
  },
  {
    name: 'refresh',
    description: 'Send a full inventory (stateful) refresh.',
    args: noArgs,
    default_timeout: 600,
    target_types: ['agent', 'group', 'all'],
  },
];

/** Journals each seed definition that is not in the catalogue yet (idempotent; operator edits win). */
export function seedCatalog(deps: { db: Db; commit: GroupCommit }): Promise<number> {
  return deps.commit.run((tx) => {
    let added = 0;
    for (const { name, ...def } of SEED_CATALOG) {
      const actionName = ActionName.parse(name);
      if (findCatalogEntry(deps.db, actionName)) continue;
      decidePutCatalogEntry(actionName, def, 'system').forEach(tx.append);
      added += 1;
    }
    return added;
  });
}
