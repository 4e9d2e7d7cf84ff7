import type { Db } from '../journal/database.js';
import type { StoredEntry } from '../journal/entries.js';
import { agentConfiguration, agentsWithChangedConfiguration } from '../queries/configuration.js';

/**
 * A `journal.onCommitted` listener: after a group's configuration or an agent's groups changed,
 * each affected agent with an open stream gets `event: config` with `{etag, configuration}`
 * (its own merged configuration).
 */
export function createConfigurationPusher(db: Db, hub: { pushConfig(agents: readonly string[], data: unknown): number }) {
  return (entries: readonly StoredEntry[]): void => {
    for (const agent of agentsWithChangedConfiguration(db, entries)) {
      const merged = agentConfiguration(db, agent);
      if (merged) hub.pushConfig([agent], { etag: merged.etag, configuration: merged.configuration });
    }
  };
}
