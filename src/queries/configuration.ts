import type { Db } from '../journal/database.js';
import type { StoredEntry } from '../journal/entries.js';
import { findAgent } from '../projections/agentsReads.js';
import { contentEtag } from '../projections/etag.js';
import { groupConfiguration, groupMembers } from '../projections/groupsReads.js';

type Json = Record<string, unknown>;
const isPlainObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Deep merge: objects are merged key by key, anything else (arrays, strings, numbers, null)
 * from `over` replaces what `base` has.
 */
export function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const value = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
    // defineProperty, not assignment: a "__proto__" key stays a plain key
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export interface AgentConfiguration {
  configuration: Json;
  etag: string;
  groups: string[];
}

/**
 * The configuration an agent receives: its groups' configurations merged in the order the groups
 * are listed on the agent, a later group overriding an earlier one (deep merge of objects, arrays
 * and scalars replaced). The ETag is derived from the merged content.
 */
export function agentConfiguration(db: Db, uuid: string): AgentConfiguration | undefined {
  const agent = findAgent(db, uuid);
  if (!agent) return undefined;
  const groups = JSON.parse(agent.groups) as string[];
  const configuration = groups.reduce<Json>((acc, g) => deepMerge(acc, groupConfiguration(db, g).configuration), {});
  return { configuration, etag: contentEtag(configuration), groups };
}

/** The agents whose configuration may have changed with these committed entries. */
export function agentsWithChangedConfiguration(db: Db, entries: readonly StoredEntry[]): string[] {
  const agents = new Set<string>();
  for (const e of entries) {
    if (e.type === 'GroupConfigurationPut') for (const a of groupMembers(db, e.data.group)) agents.add(a);
    else if (e.type === 'AgentGroupsChanged') agents.add(e.data.uuid);
  }
  return [...agents];
}
