import { z } from 'zod';
import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { GroupName } from '../journal/ids.js';
import { contentEtag, ifMatchSatisfied } from '../projections/etag.js';
import { groupConfiguration, type GroupConfiguration } from '../projections/groupsReads.js';
import { StatusError } from '../errors.js';
import { MAX_JSON_DEPTH } from '../jsonDepth.js';
import { JsonObject } from '../journal/jsonObject.js';

/** Deeper JSON than this is refused (400): the one client JSON limit; merging and hashing stay far from the stack limit. */
export const MAX_CONFIGURATION_DEPTH = MAX_JSON_DEPTH;

function depth(v: unknown, limit: number): number {
  if (typeof v !== 'object' || v === null) return 0;
  if (limit <= 0) return 1;
  let d = 0;
  for (const x of Object.values(v)) d = Math.max(d, depth(x, limit - 1));
  return d + 1;
}

/** Any JSON object, kept as parsed (a `__proto__` key is data). */
export const ConfigurationBody = JsonObject.refine((v) => depth(v, MAX_CONFIGURATION_DEPTH + 1) <= MAX_CONFIGURATION_DEPTH, {
  message: `nested deeper than ${MAX_CONFIGURATION_DEPTH} levels`,
});

export const PutGroupConfiguration = z.object({
  group: GroupName,
  configuration: ConfigurationBody,
  /** The If-Match header as sent. */
  ifMatch: z.string().min(1, 'If-Match is required').max(2048),
});
export type PutGroupConfiguration = z.infer<typeof PutGroupConfiguration>;

/** The If-Match header names another version (412). */
export class PreconditionFailedError extends StatusError {
  readonly status = 412;
  override readonly headers: Record<string, string>;
  constructor(readonly currentEtag: string) {
    super(`If-Match does not match the current ETag ${currentEtag}`);
    this.headers = { ETag: currentEtag };
  }
}

/**
 * Pure decision. `If-Match` must name the current ETag (a group with no configuration has the
 * ETag of `{}`); `*` matches only a group that has a configuration. An unchanged configuration
 * appends nothing.
 */
export function decidePutGroupConfiguration(current: GroupConfiguration, cmd: PutGroupConfiguration, actor: string): Entry[] {
  if (!ifMatchSatisfied(cmd.ifMatch, current.etag, current.exists)) throw new PreconditionFailedError(current.etag);
  const etag = contentEtag(cmd.configuration);
  if (current.exists && etag === current.etag) return [];
  return [
    {
      type: 'GroupConfigurationPut',
      stream: `group:${cmd.group}`,
      actor,
      data: { group: cmd.group, configuration: cmd.configuration, etag },
    },
  ];
}

export function putGroupConfiguration(deps: { db: Db; commit: GroupCommit }) {
  return (cmd: PutGroupConfiguration, actor: string): Promise<{ etag: string; changed: boolean }> =>
    deps.commit.run((tx) => {
      const entries = decidePutGroupConfiguration(groupConfiguration(deps.db, cmd.group), cmd, actor);
      entries.forEach(tx.append);
      return { etag: contentEtag(cmd.configuration), changed: entries.length > 0 };
    });
}
