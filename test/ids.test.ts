import { randomUUID } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { describe, expect, it } from 'vitest';
import { parseGlobalId, toGlobalId } from '../src/ids.js';

describe('global ids', () => {
  it("toGlobalId writes plugin-relay's encoding, and parseGlobalId reads it back", () => {
    for (const type of ['User', 'Team'] as const) {
      for (let i = 0; i < 200; i++) {
        const id = randomUUID();
        const globalId = toGlobalId(type, id);
        expect(globalId).toBe(encodeGlobalID(type, id));
        expect(parseGlobalId(globalId)).toEqual({ type, id });
      }
    }
  });
});
