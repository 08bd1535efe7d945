/**
 * The floors of src/, written once: each folder may import its own floor and
 * those below it, never one above. A test walks every import of every file
 * (static, type-only, re-exports and dynamic import()) and fails on an upward
 * one, and on any cycle between folders; and a cycle of files through value
 * imports anywhere (ES modules evaluate such a cycle part-way: a class may
 * extend one that is not defined yet, depending on which file is loaded first).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Top to bottom. Folders on one line share a floor and must not import each other both ways. */
const FLOORS: readonly (readonly string[])[] = [
  ['index.ts'],
  ['cli'],
  ['serve', 'queue'],
  ['tasks'],
  ['pool'],
  ['models'],
  ['nn'],
  ['decode'],
  ['kernels'],
  ['runtime'],
  ['io', 'text', 'metrics'],
  ['errors.ts', 'version.ts'],
];

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

const floorOf = new Map(FLOORS.flatMap((names, floor) => names.map((name) => [name, floor] as const)));

/** The folder (or top-level file) of src/ a path is in. */
const unitOf = (file: string) => relative(SRC, file).split(/[\\/]/)[0]!.replace(/\.js$/, '.ts');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

const IMPORT = /(?:^|[\s;])(?:import|export)\b[^'";]*?\bfrom\s*['"](\.[^'"]+)['"]|\bimport\s*\(\s*['"](\.[^'"]+)['"]\s*\)|^\s*import\s*['"](\.[^'"]+)['"]/gm;

/** Every relative import in a file's text, as src/-relative units. */
export function importedUnits(file: string, text: string): string[] {
  return [...text.matchAll(IMPORT)].map((m) => unitOf(resolve(dirname(file), (m[1] ?? m[2] ?? m[3])!)));
}

interface Edge { file: string; from: string; to: string }

/** Imports from one unit to another, each with the file that makes it. */
export function edgesOf(files: ReadonlyMap<string, string>): Edge[] {
  return [...files].flatMap(([file, text]) => importedUnits(file, text)
    .filter((to) => to !== unitOf(file))
    .map((to) => ({ file: relative(SRC, file), from: unitOf(file), to })));
}

/** Edges that go up a floor, or to a unit no floor names. */
export function violations(edges: readonly Edge[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const from = floorOf.get(e.from);
    const to = floorOf.get(e.to);
    if (from === undefined) out.push(`${e.file}: src/${e.from} is on no floor`);
    else if (to === undefined) out.push(`${e.file}: imports src/${e.to}, which is on no floor`);
    else if (to < from) out.push(`${e.file}: ${e.from} (floor ${from}) imports ${e.to} (floor ${to}), a floor above it`);
  }
  const pairs = new Set(edges.map((e) => `${e.from}>${e.to}`));
  for (const p of pairs) {
    const [a, b] = p.split('>') as [string, string];
    if (a < b && pairs.has(`${b}>${a}`)) out.push(`${a} and ${b} import each other`);
  }
  return out;
}

const STATIC = /(?:^|[\s;])(?:import|export)\b([^'";]*?)\bfrom\s*['"](\.[^'"]+)['"]/gm;

/** A file's static imports that stay at run time (not `import type`, not braces of types only), as absolute paths. */
export function valueImports(file: string, text: string): string[] {
  return [...text.matchAll(STATIC)]
    .filter(([, clause]) => {
      const c = clause!.trim();
      if (/^type\b/.test(c)) return false;
      const names = /^\{([^}]*)\}$/.exec(c)?.[1]?.split(',').map((n) => n.trim()).filter(Boolean);
      return !(names && names.every((n) => /^type\b/.test(n)));
    })
    .map((m) => resolve(dirname(file), m[2]!).replace(/\.js$/, '.ts'));
}

/** Each cycle of files through value imports, as the files around it (src/-relative), once. */
export function importCycles(files: ReadonlyMap<string, string>): string[] {
  const graph = new Map([...files].map(([file, text]) => [file, valueImports(file, text).filter((to) => files.has(to))]));
  const cycles = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    path.push(file);
    for (const to of graph.get(file) ?? []) {
      if (state.get(to) === 'open') cycles.add(path.slice(path.indexOf(to)).map((f) => relative(SRC, f)).join(' → '));
      else if (!state.has(to)) visit(to);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return [...cycles];
}

const tree = new Map(sourceFiles(SRC).map((f) => [f, readFileSync(f, 'utf8')]));

describe('the floors of src/', () => {
  it('every folder and top-level file of src/ is on a floor', () => {
    const units = new Set([...tree.keys()].map(unitOf));
    expect([...units].filter((u) => !floorOf.has(u))).toEqual([]);
  });

  it('no import goes up a floor and no two folders import each other', () => {
    const edges = edgesOf(tree);
    expect(edges.length).toBeGreaterThan(100); // the walk sees the real graph
    expect(violations(edges)).toEqual([]);
  });

  it('no file imports itself through others at run time (type-only imports aside)', () => {
    expect(importCycles(tree)).toEqual([]);
  });

  it('finds a cycle of value imports, and not one closed only by types', () => {
    const at = (path: string) => join(SRC, path);
    const planted = new Map([
      [at('models/a.ts'), "import { B } from './b.js';"],
      [at('models/b.ts'), "import { type A, helper } from './c.js';"],
      [at('models/c.ts'), "export { A } from './a.js';"],
      [at('models/d.ts'), "import type { E } from './e.js';"],
      [at('models/e.ts'), "import { type D } from './d.js';"],
    ]);
    expect(importCycles(planted)).toEqual(['models/a.ts → models/b.ts → models/c.ts']);
  });

  it('catches an upward import of every form, and a cycle between folders on one floor', () => {
    const at = (path: string) => join(SRC, path);
    const planted = new Map([
      [at('models/a.ts'), "import { Pool } from '../pool/pool.js';"],
      [at('runtime/b.ts'), "export type { X } from '../nn/x.js';"],
      [at('io/c.ts'), "const m = await import('../tasks/defaults.js');"],
      [at('nn/d.ts'), "import {\n  type A,\n  b,\n} from '../models/e.js';"],
      [at('serve/e.ts'), "import { x } from '../queue/x.js';"],
      [at('queue/f.ts'), "import { y } from '../serve/y.js';"],
      [at('pool/g.ts'), "import { z } from '../runtime/z.js';"],
    ]);
    const found = violations(edgesOf(planted));
    expect(found).toEqual([
      'models/a.ts: models (floor 5) imports pool (floor 4), a floor above it',
      'runtime/b.ts: runtime (floor 9) imports nn (floor 6), a floor above it',
      'io/c.ts: io (floor 10) imports tasks (floor 3), a floor above it',
      'nn/d.ts: nn (floor 6) imports models (floor 5), a floor above it',
      'queue and serve import each other',
    ]);
  });
});
