import { MAX_JSON_DEPTH } from '../jsonDepth.js';

/**
 * Index templates for every index this server writes. Shards: one; replicas: 0–1 (auto-expanded),
 * so a single test node is green and a cluster keeps a copy.
 */
export const AGENTS_INDEX = 'comms-agents';
export const COMMANDS_INDEX = 'comms-commands';
export const STATES_PREFIX = 'wazuh-states-';
/** Packages of the cluster: one document per name (`<name>`), a tombstone after a deletion. */
export const PACKAGES_INDEX = 'comms-packages';
/** Package content: fixed-size chunks, `<sha256>:<n>` (content-addressed, shared by every name with those bytes). */
export const PACKAGE_CHUNKS_INDEX = 'comms-package-chunks';
/** Signed journal heads of every node: one document per node and head (`<node>:<n>`). */
export const HEADS_INDEX = 'comms-journal-heads';
/** Cluster mode: users (with their password hash), catalogue entries and group configurations, one document each. */
export const USERS_INDEX = 'comms-users';
export const CATALOG_INDEX = 'comms-catalog';
export const GROUPS_INDEX = 'comms-groups';
export const API_KEYS_INDEX = 'comms-api-keys';

const settings = { number_of_shards: 1, auto_expand_replicas: '0-1', refresh_interval: '1s' };

export interface IndexTemplate {
  name: string;
  body: { index_patterns: string[]; priority: number; template: Record<string, unknown>; _meta: Record<string, unknown> };
}

/** A template of this server's: one pattern, the shared settings (plus `extra`), the given mappings. */
function template(name: string, pattern: string, mappings: Record<string, unknown>, extra: Record<string, unknown> = {}): IndexTemplate {
  return {
    name,
    body: { index_patterns: [pattern], priority: 200, _meta: { managed_by: 'comms-api' }, template: { settings: { ...settings, ...extra }, mappings } },
  };
}

export const TEMPLATES: readonly IndexTemplate[] = [
  template('comms-agents', AGENTS_INDEX, {
    dynamic: false,
    properties: {
      uuid: { type: 'keyword' },
      name: { type: 'keyword' },
      groups: { type: 'keyword' },
      key_hash: { type: 'keyword', index: false, doc_values: false },
      registered_at: { type: 'date' },
      updated_at: { type: 'date' },
      seq: { type: 'long' },
    },
  }),
  template('comms-commands', COMMANDS_INDEX, {
    dynamic: false,
    properties: {
      command_id: { type: 'keyword' },
      agent: { type: 'keyword' },
      state: { type: 'keyword' },
      action: {
        properties: { name: { type: 'keyword' }, version: { type: 'keyword' }, args: { type: 'object', enabled: false } },
      },
      target: { properties: { type: { type: 'keyword' }, id: { type: 'keyword' } } },
      issued_at: { type: 'date' },
      expires_at: { type: 'date' },
      updated_at: { type: 'date' },
      actor: { type: 'keyword' },
      code: { type: 'long' },
      message: { type: 'text' },
      result: { type: 'object', enabled: false },
      seq: { type: 'long' },
    },
  }),
  template(PACKAGES_INDEX, PACKAGES_INDEX, {
    dynamic: false,
    properties: {
      name: { type: 'keyword' },
      sha256: { type: 'keyword' },
      size: { type: 'long' },
      chunks: { type: 'integer' },
      chunk_size: { type: 'integer' },
      uploaded_at: { type: 'date' },
      uploaded_by: { type: 'keyword' },
      deleted: { type: 'boolean' },
      updated_at: { type: 'date' },
    },
  }),
  // the bytes are base64 in `data` (a binary field: stored in _source, never indexed)
  template(PACKAGE_CHUNKS_INDEX, PACKAGE_CHUNKS_INDEX, {
    dynamic: false,
    properties: { sha256: { type: 'keyword' }, n: { type: 'integer' }, data: { type: 'binary' } },
  }),
  template(HEADS_INDEX, HEADS_INDEX, {
    dynamic: false,
    properties: {
      node: { type: 'keyword' },
      n: { type: 'long' },
      seq: { type: 'long' },
      hash: { type: 'keyword' },
      time: { type: 'date' },
      key_id: { type: 'keyword' },
    },
  }),
  template(USERS_INDEX, USERS_INDEX, {
    dynamic: false,
    properties: {
      name: { type: 'keyword' },
      role: { type: 'keyword' },
      password_hash: { type: 'keyword', index: false, doc_values: false },
      disabled: { type: 'boolean' },
      deleted: { type: 'boolean' },
      changed_at: { type: 'date' },
      changed_by: { type: 'keyword' },
    },
  }),
  template(CATALOG_INDEX, CATALOG_INDEX, {
    dynamic: false,
    properties: {
      name: { type: 'keyword' },
      description: { type: 'text' },
      args: { type: 'object', enabled: false },
      default_timeout: { type: 'long' },
      target_types: { type: 'keyword' },
      updated_at: { type: 'date' },
      updated_by: { type: 'keyword' },
    },
  }),
  template(GROUPS_INDEX, GROUPS_INDEX, {
    dynamic: false,
    properties: {
      group: { type: 'keyword' },
      configuration: { type: 'object', enabled: false },
      etag: { type: 'keyword' },
      updated_at: { type: 'date' },
      updated_by: { type: 'keyword' },
    },
  }),
  template(API_KEYS_INDEX, API_KEYS_INDEX, {
    dynamic: false,
    properties: {
      id: { type: 'keyword' },
      name: { type: 'keyword' },
      role: { type: 'keyword' },
      key_hash: { type: 'keyword', index: false, doc_values: false },
      created_at: { type: 'date' },
      created_by: { type: 'keyword' },
      revoked_at: { type: 'date' },
    },
  }),
  // stateful documents are taken as deep as the server's JSON nesting limit (OpenSearch maps 20 object levels by default)
  template('comms-wazuh-states', `${STATES_PREFIX}*`, { dynamic: true, date_detection: false }, { 'mapping.depth.limit': MAX_JSON_DEPTH }),
];

const indexPart = (s: string): string => s.toLowerCase().replace(/[^a-z0-9_-]/g, '-');

/**
 * The index of a stateful item, named as the platform's indexer names them (so its dashboards find
 * them): module `inventory` → `wazuh-states-inventory-<collector>`, `vulnerability` or
 * `vulnerabilities` → `wazuh-states-vulnerabilities`, any other module (`fim`, `sca`, ...) →
 * `wazuh-states-<module>`. Lower case; anything else than [a-z0-9_-] becomes "-".
 */
export function statesIndex(module: string, collector?: string): string {
  const m = indexPart(module);
  if (m === 'inventory' && collector) return `${STATES_PREFIX}inventory-${indexPart(collector)}`;
  if (m === 'vulnerability' || m === 'vulnerabilities') return `${STATES_PREFIX}vulnerabilities`;
  return STATES_PREFIX + m;
}
