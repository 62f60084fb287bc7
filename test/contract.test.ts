import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, findBreakingChanges, findDangerousChanges } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The public contract, kept in the repository (contract/) so a plain clone tests on its own. */
const contract = buildSchema(readFileSync(path.join(root, 'contract/api-contract.graphql'), 'utf8'));

describe('the public contract', () => {
  it('is served without a breaking change', () => {
    expect(findBreakingChanges(contract, schema)).toEqual([]);
  });

  it('is served without a dangerous change (argument defaults, enum values, union members)', () => {
    expect(findDangerousChanges(contract, schema)).toEqual([]);
  });
});

/** Every file under `dir` (skipping generated and installed code). */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules' || name === 'generated') return [];
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : [full];
  });
}

describe('the repository', () => {
  it('reads nothing outside itself: no source, test, script or config names a path above the repository', () => {
    // Built from parts, so this file does not match itself.
    const outside = new RegExp(['\\.\\./\\.\\./', 'shared/', '|', '/work/', 'shared'].join(''));
    const sources = [
      ...['src', 'test', 'scripts', 'prisma', 'bench', '.ci'].flatMap((d) => files(path.join(root, d))),
      ...['package.json', 'vitest.config.ts', 'Dockerfile', 'docker-compose.yml'].map((f) => path.join(root, f)).filter(existsSync),
    ];
    const offenders = sources.filter((file) => outside.test(readFileSync(file, 'utf8'))).map((file) => path.relative(root, file));
    expect(offenders).toEqual([]);
  });
});
