// The layering of src/ (README "Architecture"), read from the source files themselves:
// every import (type-only ones too) between two top-level parts of src/ must run downwards,
// and no two parts may import each other, directly or round a loop.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const src = resolve(new URL('..', import.meta.url).pathname, 'src');

/**
 * Each top-level part of src/ (a folder, or a file at the top) and its layer: a part may import
 * parts of a lower layer, and parts of its own layer as long as no loop forms.
 */
export const LAYERS: Record<string, number> = {
  // outside systems and small helpers that know nothing of the domain
  config: 0, logger: 0, version: 0, errors: 0, ndjson: 0, jsonDepth: 0, security: 0, catalog: 0, packages: 0, engine: 0, indexer: 0,
  journal: 1,
  projections: 2,
  commands: 3,
  pipelines: 4, queries: 4, scaleOut: 4, metrics: 4,
  transport: 5,
  // the composition roots
  main: 6, cli: 6, cliDrain: 6, clients: 6,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The top-level part a file of src/ belongs to: its first folder, or its own name at the top. */
function partOf(file: string): string {
  const [first = '', ...rest] = relative(src, file).split('/');
  return rest.length === 0 ? first.replace(/\.ts$/, '') : first;
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\s*\(\s*['"](\.[^'"]+)['"]\s*\)|^import\s+['"](\.[^'"]+)['"]/gm;

interface Edge { from: string; to: string; file: string; target: string }

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of sourceFiles(src)) {
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? '';
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      const from = partOf(file);
      const to = partOf(target);
      if (from !== to) out.push({ from, to, file: relative(src, file), target: relative(src, target) });
    }
  }
  return out;
}

const layering = suite('architecture');

layering('every top-level part of src/ has a layer', () => {
  const parts = new Set(sourceFiles(src).map(partOf));
  const unplaced = [...parts].filter((p) => LAYERS[p] === undefined);
  assert.equal(unplaced, [], `give these a layer in test/architecture.test.ts and README: ${unplaced.join(', ')}`);
});

layering('no import runs from a lower layer to a higher one', () => {
  const upwards = edges()
    .filter((e) => (LAYERS[e.to] ?? Infinity) > (LAYERS[e.from] ?? -Infinity))
    .map((e) => `${e.file} imports ${e.target} (${e.from} is below ${e.to})`);
  assert.equal(upwards, []);
});

layering('no two parts import each other, directly or round a loop', () => {
  const graph = new Map<string, Set<string>>();
  for (const e of edges()) {
    if (!graph.has(e.from)) graph.set(e.from, new Set());
    graph.get(e.from)!.add(e.to);
  }
  const loops: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (part: string, path: string[]): void => {
    if (state.get(part) === 'done') return;
    if (state.get(part) === 'open') {
      loops.push([...path.slice(path.indexOf(part)), part].join(' -> '));
      return;
    }
    state.set(part, 'open');
    for (const next of graph.get(part) ?? []) visit(next, [...path, part]);
    state.set(part, 'done');
  };
  for (const part of graph.keys()) visit(part, []);
  assert.equal(loops, []);
});

layering('the checker sees the imports it is meant to judge (it can fail)', () => {
  const found = edges();
  assert.ok(found.some((e) => e.from === 'main' && e.to === 'journal'), 'main.ts opens the journal');
  assert.ok(found.some((e) => e.from === 'transport' && e.to === 'commands'), 'routes call commands');
  assert.ok(found.length > 50);
});

layering.run();
