import { readFileSync } from 'node:fs';
import { buildSchema, findBreakingChanges, findDangerousChanges } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.js';

/** The public contract lives beside the repository (../shared); CI clones it there too. */
const contract = buildSchema(readFileSync(new URL('../../shared/api-contract.graphql', import.meta.url), 'utf8'));

describe('the public contract', () => {
  it('is served without a breaking change', () => {
    expect(findBreakingChanges(contract, schema)).toEqual([]);
  });

  it('is served without a dangerous change (argument defaults, enum values, union members)', () => {
    expect(findDangerousChanges(contract, schema)).toEqual([]);
  });
});
