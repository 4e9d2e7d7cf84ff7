import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decidePutGroupConfiguration,
  PreconditionFailedError,
  PutGroupConfiguration,
} from '../../src/commands/putGroupConfiguration.js';
import { contentEtag } from '../../src/projections/etag.js';
import { EMPTY_CONFIGURATION_ETAG, type GroupConfiguration } from '../../src/projections/groupsReads.js';

const none: GroupConfiguration = { group: 'linux', configuration: {}, etag: EMPTY_CONFIGURATION_ETAG, exists: false, updated_at: null };
const current: GroupConfiguration = { group: 'linux', configuration: { a: 1 }, etag: contentEtag({ a: 1 }), exists: true, updated_at: '2026-01-01T00:00:00.000Z' };
const cmd = (configuration: Record<string, unknown>, ifMatch: string) => PutGroupConfiguration.parse({ group: 'linux', configuration, ifMatch });

const Decide = suite('deciding PutGroupConfiguration');

Decide('given no configuration, If-Match with the ETag of {} gives a GroupConfigurationPut', () => {
  const entries = decidePutGroupConfiguration(none, cmd({ b: 2 }, EMPTY_CONFIGURATION_ETAG), 'user:olga');
  assert.equal(entries, [
    { type: 'GroupConfigurationPut', stream: 'group:linux', actor: 'user:olga', data: { group: 'linux', configuration: { b: 2 }, etag: contentEtag({ b: 2 }) } },
  ]);
});

Decide('given a configuration, a stale If-Match fails naming the current ETag', () => {
  try {
    decidePutGroupConfiguration(current, cmd({ b: 2 }, EMPTY_CONFIGURATION_ETAG), 'user:olga');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, PreconditionFailedError);
    assert.is((e as PreconditionFailedError).currentEtag, current.etag);
  }
});

Decide('* matches an existing configuration only', () => {
  assert.is(decidePutGroupConfiguration(current, cmd({ b: 2 }, '*'), 'u').length, 1);
  assert.throws(() => decidePutGroupConfiguration(none, cmd({ b: 2 }, '*'), 'u'), (e: unknown) => e instanceof PreconditionFailedError);
});

Decide('the same content again gives no entry', () => {
  assert.equal(decidePutGroupConfiguration(current, cmd({ a: 1 }, current.etag), 'u'), []);
});

Decide('the input refuses bad group names, a missing If-Match and deep nesting', () => {
  assert.not.ok(PutGroupConfiguration.safeParse({ group: '../x', configuration: {}, ifMatch: '*' }).success);
  assert.not.ok(PutGroupConfiguration.safeParse({ group: 'g', configuration: {}, ifMatch: '' }).success);
  let deep: Record<string, unknown> = {};
  for (let i = 0; i < 70; i++) deep = { d: deep };
  assert.not.ok(PutGroupConfiguration.safeParse({ group: 'g', configuration: deep, ifMatch: '*' }).success);
  let ok: Record<string, unknown> = {};
  for (let i = 0; i < 60; i++) ok = { d: ok };
  assert.ok(PutGroupConfiguration.safeParse({ group: 'g', configuration: ok, ifMatch: '*' }).success);
});

Decide.run();
