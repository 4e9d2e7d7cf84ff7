import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { ROOT, tempDir } from '../support/server.js';

const DEPLOY = join(ROOT, 'deploy');
const compose = () => parse(readFileSync(join(DEPLOY, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { image?: string; build?: unknown; volumes?: string[]; environment?: Record<string, string>; ports?: string[] }>;
  volumes: Record<string, unknown>;
};

/** The Compose Specification's schema (test/support/schemas/README.md says where it comes from). */
function composeValidator() {
  const schema = JSON.parse(readFileSync(join(ROOT, 'test/support/schemas/compose-spec.json'), 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats.default(ajv);
  // the schema names draft-07 by its https address; it is ajv's own draft-07 meta-schema
  const draft07 = createRequire(import.meta.url)('ajv/dist/refs/json-schema-draft-07.json') as Record<string, unknown>;
  ajv.addMetaSchema({ ...draft07, $id: 'https://json-schema.org/draft-07/schema' });
  return ajv.compile(schema);
}

const Compose = suite('deploy/docker-compose.yml');
Compose('is valid against the Compose Specification JSON Schema', () => {
  const validate = composeValidator();
  // YAML merge keys (`<<: *comms-api`) resolved first, as Compose does
  const doc = parse(readFileSync(join(DEPLOY, 'docker-compose.yml'), 'utf8'), { merge: true });
  assert.ok(validate(doc), JSON.stringify(validate.errors, null, 2));
});
Compose('the schema check can fail: a misspelt service key is refused', () => {
  const validate = composeValidator();
  const doc = parse(readFileSync(join(DEPLOY, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Record<string, unknown>> };
  doc.services.lb!.prots = doc.services.lb!.ports;
  assert.not.ok(validate(doc));
});
Compose('two comms-api nodes behind the load balancer, OpenSearch with security on, a volume per node', () => {
  const c = compose();
  const nodes = Object.keys(c.services).filter((s) => /^comms-api-\d$/.test(s));
  assert.equal(nodes, ['comms-api-1', 'comms-api-2']);
  const volumeOf = (s: string, path: string) => c.services[s]!.volumes!.find((v) => v.endsWith(`:${path}`))?.split(':')[0];
  assert.is(volumeOf('comms-api-1', '/data'), 'comms-api-1-data');
  assert.is(volumeOf('comms-api-2', '/data'), 'comms-api-2-data');
  assert.is(volumeOf('opensearch', '/usr/share/opensearch/data'), 'opensearch-data');
  for (const v of ['comms-api-1-data', 'comms-api-2-data', 'opensearch-data']) assert.ok(v in c.volumes, v);
  for (const n of nodes) {
    const env = c.services[n]!.environment!;
    assert.match(env.COMMS_API_INDEXER_URL!, /^https:/);
    assert.ok(env.COMMS_API_INDEXER_CA && env.COMMS_API_INDEXER_USERNAME && env.COMMS_API_INDEXER_PASSWORD);
    assert.ok(env.COMMS_API_JWT_PRIVATE_KEY && env.COMMS_API_JWT_PUBLIC_KEY, 'one shared token key pair');
    assert.is(c.services[n]!.ports, undefined, 'only the load balancer publishes a port');
  }
  assert.is(c.services.opensearch!.environment!.DISABLE_INSTALL_DEMO_CONFIG, 'true');
  const os = readFileSync(join(DEPLOY, 'opensearch/opensearch.yml'), 'utf8');
  assert.match(os, /^plugins\.security\.ssl\.http\.enabled: true$/m);
  assert.not.match(os, /plugins\.security\.disabled: true/);
  const nginx = readFileSync(join(DEPLOY, 'nginx.conf'), 'utf8');
  for (const n of nodes) assert.match(nginx, new RegExp(`server ${n}:27000`));
  assert.match(nginx, /proxy_buffering off/);
  assert.not.match(nginx, /:9464/, 'the metrics port is not proxied');
});

const Unit = suite('deploy/comms-api.service');
const verify = (file: string) => spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', timeout: 60_000 });
Unit('passes `systemd-analyze verify` without a warning', () => {
  const dir = tempDir('comms-api-unit-');
  const file = join(dir, 'comms-api.service');
  copyFileSync(join(DEPLOY, 'comms-api.service'), file);
  const r = verify(file);
  if (r.error) throw new Error(`systemd-analyze could not run: ${r.error.message}`);
  assert.is(r.status, 0, r.stderr);
  assert.is(`${r.stdout}${r.stderr}`.trim(), '');
});
Unit('the check can fail: an unknown directive is reported', () => {
  const dir = tempDir('comms-api-unit-');
  const file = join(dir, 'comms-api.service');
  writeFileSync(file, readFileSync(join(DEPLOY, 'comms-api.service'), 'utf8').replace('ProtectSystem=strict', 'ProtectSystem=sometimes'));
  const r = verify(file);
  assert.match(`${r.stdout}${r.stderr}`, /ProtectSystem|protect system/i);
});
Unit('is hardened: no privileges, read-only system, only its state directory writable', () => {
  const unit = readFileSync(join(DEPLOY, 'comms-api.service'), 'utf8');
  for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'PrivateDevices=yes', 'CapabilityBoundingSet=', 'StateDirectory=comms-api', 'UMask=0077', 'SystemCallFilter=@system-service']) {
    assert.match(unit, new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), line);
  }
  assert.match(unit, /^User=comms-api$/m);
});

const Docker = suite('Dockerfile');
Docker('builds and runs on a supported Node LTS (22 or 24); the code itself still supports Node 20', () => {
  const froms = [...readFileSync(join(ROOT, 'Dockerfile'), 'utf8').matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
  assert.ok(froms.length >= 1);
  for (const f of froms) assert.match(f, /^node:(22|24)[.-]/, f);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  assert.is(pkg.engines.node, '>=20');
});

Compose.run();
Unit.run();
Docker.run();
