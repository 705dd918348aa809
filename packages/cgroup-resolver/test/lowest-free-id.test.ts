// LowestFreeId: always the lowest id ≥ 1 the map does not hold (against a plain set), and a
// released id taken again does not make the next answer walk every held id above it.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { LowestFreeId } from '../src/plan/lowest-free-id.js';

function lowestFree(held: ReadonlySet<number>): number {
  let id = 1;
  while (held.has(id)) id++;
  return id;
}

describe('LowestFreeId', () => {
  it('is the lowest free id after any sequence of takes, releases and reads', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('take' as const), id: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ kind: fc.constant('takeLowest' as const) }),
      fc.record({ kind: fc.constant('release' as const), id: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ kind: fc.constant('read' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const held = new Set<number>();
        const free = new LowestFreeId((id) => held.has(id));
        for (const o of ops) {
          if (o.kind === 'take') held.add(o.id);
          else if (o.kind === 'takeLowest') held.add(free.value);
          else if (o.kind === 'release') {
            if (held.delete(o.id)) free.release(o.id);
          }
          expect(free.value).toBe(lowestFree(held));
        }
      }),
    );
  });

  it('after a release and a reuse, the next answer looks at a few ids, not at every held one', () => {
    const held = new Set<number>();
    let lookups = 0;
    const free = new LowestFreeId((id) => {
      lookups++;
      return held.has(id);
    });
    for (let i = 0; i < 100_000; i++) held.add(free.value);
    expect(free.value).toBe(100_001);
    held.delete(500);
    free.release(500);
    expect(free.value).toBe(500);
    held.add(500);
    lookups = 0;
    expect(free.value).toBe(100_001);
    expect(lookups).toBeLessThan(5);
  });

  it('a released id that is taken again and released again is offered once', () => {
    const held = new Set([1, 2, 3, 4]);
    const free = new LowestFreeId((id) => held.has(id));
    expect(free.value).toBe(5);
    for (let i = 0; i < 3; i++) {
      held.delete(2);
      free.release(2);
      free.release(2);
      expect(free.value).toBe(2);
      held.add(2);
    }
    expect(free.value).toBe(5);
  });
});
