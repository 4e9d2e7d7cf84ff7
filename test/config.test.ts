import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, ConfigSchema, ENV, loadConfig } from '../src/config.js';
import { ROOT, runCli, tempDir } from './support/server.js';

const EXAMPLE = join(ROOT, 'config.example.json');
const KEYS = Object.keys(ConfigSchema.shape).sort();
const DEFAULTS = ConfigSchema.parse({}) as Record<string, unknown>;

function writeConfig(content: unknown): string {
  const file = join(tempDir('comms-api-config-'), 'config.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}
function refused(file: string): string {
  try {
    loadConfig({}, file);
  } catch (err) {
    assert.instance(err, ConfigError);
    return (err as Error).message;
  }
  throw new Error('the config file was accepted');
}

const File = suite('the config file');
File('an unknown key is an error naming it, with the known key it is close to', () => {
  assert.match(refused(writeConfig({ prot: 8443 })), /unknown key "prot" \(did you mean "port"\?\)/);
  assert.match(refused(writeConfig({ indexerURL: 'https://x' })), /unknown key "indexerURL" \(did you mean "indexerUrl"\?\)/);
  assert.match(refused(writeConfig({ logLevle: 'debug' })), /did you mean "logLevel"/);
});
File('`comms-api --config FILE serve` with a typo in the file stops at once, naming the key', async () => {
  const file = writeConfig({ dataDir: tempDir(), prot: 8443 });
  const r = await runCli(['--config', file, 'serve'], {});
  assert.is(r.code, 1);
  assert.match(r.stderr, /unknown key "prot" \(did you mean "port"\?\)/);
  assert.is(r.stdout, '');
});
File('an unknown key far from every known one gets no suggestion', () => {
  const message = refused(writeConfig({ completelyDifferent: 1 }));
  assert.match(message, /unknown key "completelyDifferent"$/);
});
File('a file that is not a JSON object is refused', () => {
  assert.match(refused(writeConfig('[1, 2]')), /must hold a JSON object/);
  assert.match(refused(writeConfig('{"port": ')), /not valid JSON/);
});
File('null means unset; environment variables override the file', () => {
  const file = writeConfig({ port: 8443, tlsCert: null });
  assert.is(loadConfig({}, file).port, 8443);
  assert.is(loadConfig({}, file).tlsCert, undefined);
  assert.is(loadConfig({ COMMS_API_PORT: '9000' }, file).port, 9000);
});

const Example = suite('config.example.json');
Example('holds every key of the schema, nothing else', () => {
  const example = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
  assert.equal(Object.keys(example).sort(), KEYS);
});
Example('gives every key its default (null for the keys that are unset by default)', () => {
  const example = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
  for (const key of KEYS) assert.equal(example[key], DEFAULTS[key] ?? null, key);
  assert.equal(loadConfig({}, EXAMPLE), loadConfig({}));
});

/** The README's configuration table: `variable(s)` | `key(s)` | default | meaning. */
function readmeRows(): Array<{ variables: string[]; keys: string[]; def: string }> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
  return section
    .split('\n')
    .filter((l) => l.startsWith('| `COMMS_API_'))
    .map((l) => {
      const [variables, keys, def] = l.split('|').slice(1, 4).map((c) => c.trim());
      const names = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      return { variables: names(variables!), keys: names(keys!), def: def! };
    });
}
/** A default cell's value: `27000`, `0` (off), 20 GiB, unset, `<data>/…`. */
function cellValue(cell: string): unknown {
  const size = /^(\d+) (KiB|MiB|GiB)$/.exec(cell);
  if (size) return Number(size[1]) * 1024 ** { KiB: 1, MiB: 2, GiB: 3 }[size[2] as 'KiB'];
  if (/^unset|^`<data>/.test(cell)) return undefined;
  return /^`([^`]*)`/.exec(cell)?.[1];
}

const Readme = suite("README's configuration table");
Readme('lists every variable with its key, and no other', () => {
  const rows = readmeRows();
  const pairs = rows.flatMap((r) => r.variables.map((v, i) => [v, r.keys[i]]));
  assert.equal(Object.fromEntries(pairs), { ...ENV });
  assert.equal(Object.values(ENV).sort(), KEYS, 'every key of the schema has a variable');
});
Readme('states each default as the schema has it', () => {
  for (const row of readmeRows()) {
    const cells = row.def.split(' / ').map((c) => c.trim());
    row.keys.forEach((key, i) => {
      const cell = cells[Math.min(i, cells.length - 1)]!;
      // an empty list (trustedProxies) is stated as unset
      const expected = Array.isArray(DEFAULTS[key]) && (DEFAULTS[key] as unknown[]).length === 0 ? undefined : DEFAULTS[key];
      const stated = cellValue(cell);
      if (typeof expected === 'boolean') assert.is(stated, expected ? '1' : '0', key);
      else if (expected === undefined) assert.is(stated, undefined, `${key} is unset by default`);
      else assert.is(String(stated), String(expected), key);
    });
  }
});

File.run();
Example.run();
Readme.run();
