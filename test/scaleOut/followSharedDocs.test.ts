import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decideFollowApiKeyDoc, decideFollowCatalogDoc, decideFollowGroupDoc, decideFollowUserDoc, userDocOf } from '../../src/scaleOut/followSharedDocs.js';
import type { ApiKeyDoc, CatalogDoc, GroupDoc, UserDoc } from '../../src/indexer/sharedDocs.js';
import type { UserRow } from '../../src/projections/usersReads.js';
import type { CatalogEntryDto } from '../../src/projections/catalogReads.js';
import { contentEtag } from '../../src/projections/etag.js';

const NOW = Date.parse('2026-12-01T10:00:00Z');
const liveDoc = (over: Partial<Extract<UserDoc, { password_hash: string }>> = {}): UserDoc => ({
  name: 'alice',
  role: 'operator',
  password_hash: 'scrypt$new',
  disabled: false,
  changed_at: NOW,
  changed_by: 'user:root',
  ...over,
});
const row = (over: Partial<UserRow> = {}): UserRow => ({ name: 'alice', role: 'operator', password_hash: 'scrypt$new', disabled: 0, created_at: NOW - 1000, changed_at: null, ...over });
const types = (entries: Array<{ type: string; actor: string }>) => entries.map((e) => `${e.type} ${e.actor}`);

const users = suite('decideFollowUserDoc');

users('a user unknown here is created by indexer, with the role and hash of the document', () => {
  const entries = decideFollowUserDoc(liveDoc(), undefined);
  assert.equal(entries, [{ type: 'UserCreated', stream: 'user:alice', actor: 'indexer', data: { name: 'alice', role: 'operator', passwordHash: 'scrypt$new' } }]);
});

users('a user equal to the document journals nothing (this node’s own write read back)', () => {
  assert.equal(decideFollowUserDoc(liveDoc(), row()), []);
  assert.equal(decideFollowUserDoc(liveDoc({ disabled: true }), row({ disabled: 1 })), []);
});

users('another password or role is a UserCreated; another disabled state a UserDisabled or UserEnabled', () => {
  assert.equal(types(decideFollowUserDoc(liveDoc(), row({ password_hash: 'scrypt$old' }))), ['UserCreated indexer']);
  assert.equal(types(decideFollowUserDoc(liveDoc({ role: 'auditor' }), row())), ['UserCreated indexer']);
  assert.equal(types(decideFollowUserDoc(liveDoc({ disabled: true }), row())), ['UserDisabled indexer']);
  assert.equal(types(decideFollowUserDoc(liveDoc(), row({ disabled: 1 }))), ['UserEnabled indexer']);
  assert.equal(types(decideFollowUserDoc(liveDoc({ disabled: true }), undefined)), ['UserCreated indexer', 'UserDisabled indexer'], 'created disabled');
});

users('a tombstone deletes a user known here; for an unknown one it is nothing', () => {
  const tomb = userDocOf('alice', 'deleted', NOW, 'user:root');
  assert.equal(tomb, { name: 'alice', changed_at: new Date(NOW).toISOString(), changed_by: 'user:root', deleted: true });
  const doc: UserDoc = { name: 'alice', deleted: true, changed_at: NOW, changed_by: 'user:root' };
  assert.equal(types(decideFollowUserDoc(doc, row())), ['UserDeleted indexer']);
  assert.equal(decideFollowUserDoc(doc, undefined), []);
});

users.run();

const catalog = suite('decideFollowCatalogDoc');
const catalogDoc: CatalogDoc = {
  name: 'probe',
  description: 'probe a port',
  args: { type: 'object', properties: { port: { type: 'integer' } } },
  default_timeout: 60,
  target_types: ['agent'],
  updated_at: NOW,
  updated_by: 'user:root',
};
const entry = (over: Partial<CatalogEntryDto> = {}): CatalogEntryDto => ({
  name: 'probe',
  description: 'probe a port',
  // same content, other key order
  args: { properties: { port: { type: 'integer' } }, type: 'object' },
  default_timeout: 60,
  target_types: ['agent'],
  updated_at: new Date(NOW).toISOString(),
  updated_by: 'admin-socket',
  revision: 3,
  ...over,
});

catalog('an unknown or different definition is journaled as the document has it; an equal one is nothing', () => {
  const put = {
    type: 'CatalogEntryPut',
    stream: 'catalog:probe',
    actor: 'indexer',
    data: { name: 'probe', description: 'probe a port', args: catalogDoc.args, defaultTimeout: 60, targetTypes: ['agent'] },
  };
  assert.equal(decideFollowCatalogDoc(catalogDoc, undefined), [put]);
  assert.equal(decideFollowCatalogDoc(catalogDoc, entry()), [], 'equal content (key order aside), whoever wrote it');
  assert.equal(decideFollowCatalogDoc(catalogDoc, entry({ default_timeout: 5 })), [put]);
  assert.equal(decideFollowCatalogDoc(catalogDoc, entry({ target_types: ['agent', 'group'] })), [put]);
});

catalog.run();

const groups = suite('decideFollowGroupDoc');

groups('another ETag (or none here) is a GroupConfigurationPut by indexer; the same ETag is nothing', () => {
  const configuration = { log_level: 'debug' };
  const doc: GroupDoc = { group: 'web', configuration, etag: contentEtag(configuration), updated_at: NOW, updated_by: 'user:root' };
  const put = { type: 'GroupConfigurationPut', stream: 'group:web', actor: 'indexer', data: { group: 'web', configuration, etag: doc.etag } };
  const none = { group: 'web', configuration: {}, etag: contentEtag({}), exists: false, updated_at: null };
  assert.equal(decideFollowGroupDoc(doc, none), [put]);
  assert.equal(decideFollowGroupDoc(doc, { ...none, exists: true, etag: contentEtag({ log_level: 'info' }) }), [put]);
  assert.equal(decideFollowGroupDoc(doc, { ...none, exists: true, configuration, etag: doc.etag }), []);
});

groups.run();

const keys = suite('decideFollowApiKeyDoc');
const keyDoc: ApiKeyDoc = { id: 'abcdef012345', name: 'ci', role: 'auditor', key_hash: 'f'.repeat(64), created_at: NOW, created_by: 'user:root', revoked_at: null };

keys('a key unknown here is created by indexer, keeping its creator and time; a revoked one is created then revoked', () => {
  assert.equal(decideFollowApiKeyDoc(keyDoc, undefined), [
    { type: 'ApiKeyCreated', stream: 'api-key:abcdef012345', actor: 'indexer', data: { id: 'abcdef012345', name: 'ci', role: 'auditor', keyHash: 'f'.repeat(64), createdBy: 'user:root', createdAt: NOW } },
  ]);
  assert.equal(types(decideFollowApiKeyDoc({ ...keyDoc, revoked_at: NOW + 1 }, undefined)), ['ApiKeyCreated indexer', 'ApiKeyRevoked indexer']);
});

keys('a known key is revoked once; an equal one is nothing', () => {
  assert.equal(decideFollowApiKeyDoc(keyDoc, { revoked_at: null }), []);
  assert.equal(types(decideFollowApiKeyDoc({ ...keyDoc, revoked_at: NOW + 1 }, { revoked_at: null })), ['ApiKeyRevoked indexer']);
  assert.equal(decideFollowApiKeyDoc({ ...keyDoc, revoked_at: NOW + 1 }, { revoked_at: NOW }), []);
});

keys.run();
