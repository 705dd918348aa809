// fillSlots (build's slots with none of its allocations) against build, and the default hash's
// own-buffer encoding against TextEncoder's (through a pluggable createSipHash128).
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { createMaglev, type Backend, type Maglev } from '../src/index.js';
import { createSipHash128 } from '../src/maglev.js';
import { InvalidBackendError, InvalidHashError, TableTooSmallError } from '../src/errors.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/weighted-m251.json', import.meta.url), 'utf8')) as {
  tableSize: number;
  backends: Backend[];
  slots: number[];
};

/** Any UTF-16 code unit (lone surrogates too), so ids cover every path of the UTF-8 encoding. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

/** Distinct ids (ASCII or not, short or longer than the hash's own buffer), weights in [0, maxW]. */
const backendSet = (maxN: number, maxW: number): fc.Arbitrary<Backend[]> =>
  fc
    .uniqueArray(fc.oneof(fc.string({ minLength: 1, maxLength: 80 }), fc.string({ unit: codeUnit, minLength: 1, maxLength: 70 })), { minLength: 0, maxLength: maxN })
    .chain((ids) => fc.tuple(...ids.map((id) => fc.integer({ min: 0, max: maxW }).map((weight) => ({ id, weight })))));

const inOrder = (backends: readonly Backend[]): Backend[] => [...backends].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

describe('fillSlots', () => {
  it('writes the golden table at M = 251', () => {
    const out = new Uint8Array(fixture.tableSize);
    createMaglev({ tableSize: fixture.tableSize }).fillSlots(inOrder(fixture.backends), out);
    expect([...out]).toEqual(fixture.slots);
  });

  it('property: equals build(backends).slots in Int32Array, Uint16Array and Uint8Array, one instance reused', () => {
    const maglev = createMaglev({ tableSize: 1021 });
    fc.assert(
      fc.property(backendSet(40, 20), (backends) => {
        const sorted = inOrder(backends);
        const slots = maglev.build(backends).slots;
        for (const out of [new Int32Array(1021).fill(7), new Uint16Array(1021), new Uint8Array(1021)]) {
          maglev.fillSlots(sorted, out);
          expect(out).toEqual(out instanceof Int32Array ? slots : out instanceof Uint16Array ? new Uint16Array(slots) : new Uint8Array(slots));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('more backends than the instance keeps work space for: the same table as build', () => {
    const backends = Array.from({ length: 300 }, (_, i) => ({ id: `10.0.${i >> 8}.${i & 255}:80`, weight: 1 + (i % 3) }));
    const maglev = createMaglev({ tableSize: 32749 });
    const out = new Uint16Array(32749);
    maglev.fillSlots(inOrder(backends), out);
    expect(out).toEqual(new Uint16Array(maglev.build(backends).slots));
  });

  it('a pluggable hash that builds on the same instance from inside a build leaves both tables right', () => {
    const plain = createMaglev({ tableSize: 251, hash: createSipHash128() });
    const inner = [{ id: 'x', weight: 1 }, { id: 'y', weight: 2 }];
    const lanes = createSipHash128();
    let innerSlots: Int32Array | undefined;
    const reentrant: Maglev = createMaglev({
      tableSize: 251,
      hash: (id) => {
        if (id === 'b') innerSlots = reentrant.build(inner).slots;
        return lanes(id);
      },
    });
    const outer = [{ id: 'a', weight: 3 }, { id: 'b', weight: 1 }, { id: 'c', weight: 2 }];
    const out = new Int32Array(251);
    reentrant.fillSlots(outer, out);
    expect(out).toEqual(plain.build(outer).slots);
    expect(innerSlots).toEqual(plain.build(inner).slots);
  });

  it('rejects ids out of order or repeated, bad weights, a wrong-sized or too narrow out, too many backends', () => {
    const maglev = createMaglev({ tableSize: 251 });
    const out = new Uint8Array(251);
    expect(() => maglev.fillSlots([{ id: 'b', weight: 1 }, { id: 'a', weight: 1 }], out)).toThrow(InvalidBackendError);
    expect(() => maglev.fillSlots([{ id: 'a', weight: 1 }, { id: 'a', weight: 1 }], out)).toThrow(InvalidBackendError);
    expect(() => maglev.fillSlots([{ id: 'a', weight: 1.5 }], out)).toThrow(InvalidBackendError);
    expect(() => maglev.fillSlots([{ id: '', weight: 1 }], out)).toThrow(InvalidBackendError);
    expect(() => maglev.fillSlots([{ id: 'a', weight: 1 }], new Uint8Array(250))).toThrow(RangeError);
    const many = inOrder(Array.from({ length: 250 }, (_, i) => ({ id: `b${i}`, weight: 1 })));
    expect(() => maglev.fillSlots([...many, { id: 'zz', weight: 1 }], out)).toThrow(TableTooSmallError);
    const big = createMaglev({ tableSize: 509 });
    const b300 = inOrder(Array.from({ length: 300 }, (_, i) => ({ id: `b${i}`, weight: 1 })));
    expect(() => big.fillSlots(b300, new Uint8Array(509))).toThrow(RangeError);
    expect(() => big.fillSlots(b300, new Uint16Array(509))).not.toThrow();
  });

  it('no weight > 0: every slot -1 as out stores it; a bad pluggable hash throws as in build', () => {
    const out = new Uint8Array(251);
    createMaglev({ tableSize: 251 }).fillSlots([{ id: 'a', weight: 0 }], out);
    expect(out.every((s) => s === 0xff)).toBe(true);
    expect(() => createMaglev({ tableSize: 251, hash: () => [1, 2, 3] }).fillSlots([{ id: 'a', weight: 1 }], out)).toThrow(InvalidHashError);
  });
});

describe('the default hash', () => {
  it('property: any id (non-ASCII, lone surrogates, longer than its buffer) gives the table createSipHash128 gives', () => {
    const own = createMaglev({ tableSize: 509 });
    const encoded = createMaglev({ tableSize: 509, hash: createSipHash128() });
    fc.assert(
      fc.property(backendSet(12, 5), (backends) => {
        expect(own.build(backends).slots).toEqual(encoded.build(backends).slots);
      }),
      { numRuns: 150 },
    );
  });
});
