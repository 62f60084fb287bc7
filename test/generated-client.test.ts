import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * scripts/generate.mjs rewrites the generated client's query-compiler loader, so no loaded module keeps
 * the 4.4 MB base64 of the WASM binary (and its module source) in the heap for the life of the process.
 * Every test that touches the database runs the rewritten loader; this one checks it is the one in place.
 */
describe('the generated Prisma client', () => {
  const loader = readFileSync(new URL('../src/generated/prisma/internal/class.ts', import.meta.url), 'utf8');

  it('reads its query compiler from the file instead of importing the base64 module', () => {
    expect(loader).toContain('Patched by scripts/generate.mjs');
    expect(loader).not.toMatch(/await import\("@prisma\/client\/runtime\/query_compiler_\w+\.\w+\.wasm-base64\.mjs"\)/);
  });
});
