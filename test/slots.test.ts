import { describe, expect, it } from 'vitest';
import { Slots } from '../src/lib/slots.js';

// What the server watches while it is in flight (its open responses, the requests whose deadline
// runs): slots of an array, not a Map or a Set (src/lib/slots.ts says why).
describe('Slots', () => {
  const item = (name: string) => ({ name });

  it('holds what was added until it is deleted, and iterates over what it holds', () => {
    const slots = new Slots<{ name: string }>();
    const [a, b, c] = [item('a'), item('b'), item('c')];
    const at = [slots.add(a), slots.add(b), slots.add(c)];
    expect(slots.size).toBe(3);
    slots.delete(at[1]!, b);
    expect(slots.size).toBe(2);
    expect([...slots]).toEqual([a, c]);
  });

  it('reuses a freed slot, and a stale delete does not empty the slot of what came after', () => {
    const slots = new Slots<{ name: string }>();
    const [a, b, c] = [item('a'), item('b'), item('c')];
    slots.add(a);
    const slotB = slots.add(b);
    slots.delete(slotB, b);
    const slotC = slots.add(c);
    expect(slotC).toBe(slotB);
    slots.delete(slotB, b); // b's owner deleting again (a second 'close')
    expect([...slots]).toEqual([a, c]);
    expect(slots.size).toBe(2);
  });

  it('lets the item being visited be deleted, and starts empty again once the last goes', () => {
    const slots = new Slots<{ name: string }>();
    const items = ['a', 'b', 'c', 'd'].map(item);
    const at = new Map(items.map((i) => [i, slots.add(i)]));
    const seen: string[] = [];
    for (const i of slots) {
      seen.push(i.name);
      if (i.name !== 'c') slots.delete(at.get(i)!, i);
    }
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
    expect([...slots].map((i) => i.name)).toEqual(['c']);
    slots.delete(at.get(items[2]!)!, items[2]!);
    expect(slots.size).toBe(0);
    expect(slots.add(item('e'))).toBe(0);
  });
});
