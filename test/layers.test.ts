// The import graph of src/ has layers: no import runs back up the stack. Checked on the source text
// (static imports and re-exports, type-only ones included: they tie modules together just the same).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../src', import.meta.url));

function files(dir = src): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (name === 'generated') return [];
    return statSync(full).isDirectory() ? files(full) : name.endsWith('.ts') ? [full] : [];
  });
}

/** Each source file (relative to src/, with `/`) and the src/ files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files()) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/^(?:import|export)\b[^;]*?from\s+'(\.[^']+)'|^import\s+'(\.[^']+)'/gms)]
      .map((m) => path.resolve(path.dirname(file), (m[1] ?? m[2])!).replace(/\.js$/, '.ts'))
      .filter((target) => target.startsWith(src + path.sep) && !target.includes(`${path.sep}generated${path.sep}`))
      .map((target) => path.relative(src, target).split(path.sep).join('/'));
    graph.set(path.relative(src, file).split(path.sep).join('/'), targets);
  }
  return graph;
}

/** A file's layer unit: its folder under src/ (`events/`), or itself for a file at the top of src/. */
const unitOf = (file: string) => (file.includes('/') ? `${file.split('/')[0]}/` : file);

/** The strongly connected groups of more than one node (Tarjan): each is an import cycle. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, indices.get(next)!));
    }
    if (low.get(node) === indices.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

describe('the layers of src/', () => {
  const graph = importGraph();

  it('reads the imports (the scan itself works)', () => {
    expect(graph.get('app.ts')).toEqual(expect.arrayContaining(['context.ts', 'events/index.ts', 'schema/index.ts']));
    expect(graph.get('schema/index.ts')).toEqual(expect.arrayContaining(['schema/user.ts']));
    expect(
      cycles(
        new Map([
          ['a', new Set(['b'])],
          ['b', new Set(['a'])],
        ]),
      ),
    ).toEqual([['a', 'b']]);
  });

  it('have no import cycle between files', () => {
    expect(cycles(new Map([...graph].map(([file, targets]) => [file, new Set(targets)])))).toEqual([]);
  });

  it('have no import cycle between folders (each top-level file counted as its own)', () => {
    const units = new Map<string, Set<string>>();
    for (const [file, targets] of graph) {
      const unit = unitOf(file);
      const edges = units.get(unit) ?? new Set<string>();
      for (const target of targets) if (unitOf(target) !== unit) edges.add(unitOf(target));
      units.set(unit, edges);
    }
    expect(cycles(units)).toEqual([]);
  });

  const importsOf = (folder: string) => [...graph].filter(([file]) => file.startsWith(folder)).flatMap(([file, targets]) => targets.map((t) => `${file} -> ${t}`));

  it('keep events/ out of the GraphQL server: it imports nothing from plugins/, schema/ or the app', () => {
    expect(importsOf('events/').filter((edge) => /-> (plugins\/|schema\/|app\.ts|context\.ts)/.test(edge))).toEqual([]);
  });

  it('keep the error vocabulary at the bottom: errors/ imports nothing else of src/', () => {
    expect(importsOf('errors/').filter((edge) => !edge.split(' -> ')[1]!.startsWith('errors/'))).toEqual([]);
  });
});
