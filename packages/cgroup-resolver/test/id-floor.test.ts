// The first-free-id floors a plan in chunks starts its id search at (MapsMirror, createIdAllocator).
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { MapOp } from '../src/model.js';
import { MapsMirror } from '../src/plan/index.js';
import { createIdAllocator } from '../src/plan/id-allocator.js';
import { EMPTY_DUMP } from './plan-helpers.js';

const lowestFree = (held: Iterable<number>): number => {
  const set = new Set(held);
  let id = 1;
  while (set.has(id)) id++;
  return id;
};

describe('first free id floors', () => {
  it('the allocator starts at the floor and still skips taken and reserved ids', () => {
    const allocate = createIdAllocator([5, 7], { has: (id) => id === 6, floor: 4 });
    expect([allocate(), allocate(), allocate()]).toEqual([4, 8, 9]);
    expect(createIdAllocator([], { has: () => false, floor: 0 })()).toBe(1);
  });

  it('the mirror keeps the lowest free service and backend id through any puts and deletes', () => {
    const op = fc.oneof(
      fc.integer({ min: 1, max: 40 }).map((id): MapOp => ({ op: 'backend-put', id, backend: { address: `10.0.0.${id}`, port: 80, local: false } })),
      fc.integer({ min: 1, max: 40 }).map((id): MapOp => ({ op: 'backend-delete', id })),
      fc.integer({ min: 1, max: 40 }).map((id): MapOp => ({ op: 'service-put', id, key: `s${id}`, table: { backendIds: [], slots: new Uint8Array(0), flags: 0, affinityTimeoutSeconds: 0, revision: 1, skipCgroups: [] } })),
      fc.integer({ min: 1, max: 40 }).map((id): MapOp => ({ op: 'service-delete', id })),
    );
    fc.assert(
      fc.property(fc.array(fc.array(op, { maxLength: 30 }), { maxLength: 8 }), (batches) => {
        const mirror = MapsMirror.fromDump(EMPTY_DUMP);
        for (const ops of batches) {
          mirror.apply(ops);
          expect(mirror.freeBackendIdFloor).toBe(lowestFree(mirror.backends.keys()));
          expect(mirror.freeServiceIdFloor).toBe(lowestFree(mirror.services.keys()));
        }
      }),
    );
  });
});
