import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { ALLOWED_TABLE_SIZES, MaglevError, createMaglev, disruption, quality, type Backend } from '../src/index.js';
import { DEFAULT_TABLE_SIZE, createSipHash128 } from '../src/maglev.js';
import { DuplicateBackendError, InvalidBackendError, InvalidHashError, TableSizeNotAllowedError, TableTooSmallError } from '../src/errors.js';
import { naiveWeightedTable } from './oracle.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/weighted-m251.json', import.meta.url), 'utf8')) as {
  tableSize: number;
  backends: Backend[];
  order: string[];
  slots: number[];
};

/** Distinct ids, weights in [minW, maxW]. */
const backendSet = (minN: number, maxN: number, minW: number, maxW: number): fc.Arbitrary<Backend[]> =>
  fc
    .uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: minN, maxLength: maxN })
    .chain((ids) => fc.tuple(...ids.map((id) => fc.integer({ min: minW, max: maxW }).map((weight) => ({ id, weight })))));

describe('createMaglev validation', () => {
  it('defaults to M = 16381 and accepts every allowed prime', () => {
    expect(createMaglev().tableSize).toBe(DEFAULT_TABLE_SIZE);
    for (const m of ALLOWED_TABLE_SIZES) expect(createMaglev({ tableSize: m }).tableSize).toBe(m);
  });

  it.each([0, 250, 252, 4096, 16383, 262139])('refuses table size %i with MAGLEV_TABLE_SIZE_NOT_ALLOWED', (m) => {
    const err = (() => {
      try {
        createMaglev({ tableSize: m });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(TableSizeNotAllowedError);
    expect(err).toBeInstanceOf(MaglevError);
    expect((err as TableSizeNotAllowedError).code).toBe('MAGLEV_TABLE_SIZE_NOT_ALLOWED');
  });

  it('refuses M ≤ N with MAGLEV_TABLE_TOO_SMALL', () => {
    const maglev = createMaglev({ tableSize: 251 });
    const backends = (n: number): Backend[] => Array.from({ length: n }, (_, i) => ({ id: `b${i}`, weight: 1 }));
    expect(() => maglev.build(backends(251))).toThrow(TableTooSmallError);
    expect(() => maglev.build(backends(300))).toThrow(expect.objectContaining({ code: 'MAGLEV_TABLE_TOO_SMALL' }));
    expect(maglev.build(backends(250)).slots.every((s) => s >= 0)).toBe(true);
  });

  it('rejects bad backends with typed errors', () => {
    const maglev = createMaglev({ tableSize: 251 });
    expect(() => maglev.build([{ id: '', weight: 1 }])).toThrow(InvalidBackendError);
    expect(() => maglev.build([{ id: 'a', weight: -1 }])).toThrow(InvalidBackendError);
    expect(() => maglev.build([{ id: 'a', weight: 1.5 }])).toThrow(expect.objectContaining({ code: 'MAGLEV_INVALID_BACKEND' }));
    expect(() => maglev.build([{ id: 'a', weight: Number.NaN }])).toThrow(InvalidBackendError);
    expect(() => maglev.build([{ id: 'a', weight: 1 }, { id: 'a', weight: 2 }])).toThrow(DuplicateBackendError);
  });

  it('rejects a pluggable hash that returns other than four u32 words', () => {
    expect(() => createMaglev({ tableSize: 251, hash: () => [1, 2, 3] }).build([{ id: 'a', weight: 1 }])).toThrow(InvalidHashError);
    expect(() => createMaglev({ tableSize: 251, hash: () => [1, 2, 3, -1] }).build([{ id: 'a', weight: 1 }])).toThrow(
      expect.objectContaining({ code: 'MAGLEV_INVALID_HASH' }),
    );
  });

  it('warns (in the result, not the console) when M < 100·N', () => {
    const maglev = createMaglev({ tableSize: 1021 });
    const ten = Array.from({ length: 10 }, (_, i) => ({ id: `b${i}`, weight: 1 }));
    const eleven = [...ten, { id: 'b10', weight: 1 }];
    expect(maglev.build(ten).warnings).toEqual([]);
    expect(maglev.build(eleven).warnings).toEqual([expect.objectContaining({ code: 'MAGLEV_TABLE_SPARSE', tableSize: 1021, backends: 11 })]);
  });

  it('an empty set or all weights 0 gives an empty table (lookup -1)', () => {
    const maglev = createMaglev({ tableSize: 251 });
    for (const set of [[], [{ id: 'a', weight: 0 }]]) {
      const t = maglev.build(set);
      expect(t.slots.every((s) => s === -1)).toBe(true);
      expect(t.lookup(12345)).toBe(-1);
    }
  });
});

describe('weighted Maglev table', () => {
  it('matches the golden table at M = 251 (test/fixtures/weighted-m251.json)', () => {
    const t = createMaglev({ tableSize: fixture.tableSize }).build(fixture.backends);
    expect(t.keys).toEqual(fixture.order);
    expect([...t.slots]).toEqual(fixture.slots);
  });

  it('lookup(hash32) is slots[hash32 mod M] for any 32-bit value, and backendAt names it', () => {
    const t = createMaglev({ tableSize: 251 }).build(fixture.backends);
    for (const h of [0, 1, 250, 251, 0xffffffff, -1, 2 ** 31]) {
      const i = t.lookup(h);
      expect(i).toBe(t.slots[(h >>> 0) % 251]);
      expect(t.backendAt(i).id).toBe(t.keys[i]);
    }
    expect(() => t.backendAt(99)).toThrow(RangeError);
  });

  it('equals a naive oracle (explicit permutations, paper pseudo-code)', () => {
    const hash = createSipHash128();
    fc.assert(
      fc.property(backendSet(1, 12, 0, 6), fc.constantFrom(251, 509, 1021), (backends, m) => {
        const t = createMaglev({ tableSize: m, hash }).build(backends);
        expect([...t.slots]).toEqual(naiveWeightedTable(backends, m, hash));
      }),
      { numRuns: 60 },
    );
  });

  it('property: every slot is filled when some weight is > 0', () => {
    fc.assert(
      fc.property(backendSet(1, 40, 0, 100), fc.constantFrom(...ALLOWED_TABLE_SIZES.slice(0, 4)), (backends, m) => {
        fc.pre(backends.some((b) => b.weight > 0));
        const t = createMaglev({ tableSize: m }).build(backends);
        const bad = t.slots.findIndex((i) => i < 0 || t.backendAt(i).weight === 0);
        expect(bad).toBe(-1);
      }),
      { numRuns: 80 },
    );
  });

  it('property: shares are within 1% of the weights when M > 100·N', () => {
    fc.assert(
      fc.property(backendSet(1, 40, 1, 20), (backends) => {
        const m = ALLOWED_TABLE_SIZES.find((size) => size > 100 * backends.length)!;
        const t = createMaglev({ tableSize: m }).build(backends);
        const q = quality(t, backends);
        expect(q.maxShareError).toBeLessThanOrEqual(0.01);
        // Tighter: the turn scheme's own bound, |count − M·w/Σw| ≤ 1 + N·w/Σw.
        const total = backends.reduce((s, b) => s + b.weight, 0);
        for (const b of q.backends) {
          expect(Math.abs(b.count - (m * b.weight) / total)).toBeLessThanOrEqual(1 + (backends.length * b.weight) / total);
        }
      }),
      { numRuns: 60 },
    );
  });

  // Disruption on removal. "Moves ≤ 1/N + 1%" splits into the removed backend's own slots
  // (its share) plus the slots that move between survivors. Classic Maglev does NOT bound the
  // survivors' part per case: fast-check finds N = 3, M = 509 sets where two survivors share
  // a skip and ~26% of the table moves between them, and at M just above 100·N the *mean*
  // survivor churn is ~1.6%. What holds is statistical and needs M ≳ 1000·N for ≤ 1%, so the
  // properties below are over a fixed-seed sample of 100 random sets, one removal each.
  const removalSample = (minW: number, maxW: number, factor: number) =>
    fc
      .sample(fc.tuple(backendSet(2, 40, minW, maxW), fc.nat()), { seed: 20240601, numRuns: 100 })
      .map(([backends, pick]) => {
        const m = ALLOWED_TABLE_SIZES.find((size) => size > factor * backends.length)!;
        const maglev = createMaglev({ tableSize: m });
        const victim = backends[pick % backends.length]!;
        const total = backends.reduce((sum, b) => sum + b.weight, 0);
        const d = disruption(maglev.build(backends), maglev.build(backends.filter((b) => b !== victim)));
        return { ...d, ideal: victim.weight / total };
      });
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const p90 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;

  it('removal, M > 1000·N, equal weights: survivors move ≤ 1% (mean and 90th percentile); total ≤ ideal + 1% on average', () => {
    const runs = removalSample(1, 1, 1000);
    expect(mean(runs.map((r) => r.survivorFraction))).toBeLessThanOrEqual(0.01);
    expect(p90(runs.map((r) => r.survivorFraction))).toBeLessThanOrEqual(0.01);
    expect(mean(runs.map((r) => r.fraction - r.ideal))).toBeLessThanOrEqual(0.01);
  });

  it('removal, M > 1000·N, weights 1..10: survivors move ≤ 1% (mean and 90th percentile)', () => {
    const runs = removalSample(1, 10, 1000);
    expect(mean(runs.map((r) => r.survivorFraction))).toBeLessThanOrEqual(0.01);
    expect(p90(runs.map((r) => r.survivorFraction))).toBeLessThanOrEqual(0.01);
  });

  it('removal, M > 100·N: survivors move ≤ 2% on average (regression guard; ~1.6% measured)', () => {
    const runs = removalSample(1, 10, 100);
    expect(mean(runs.map((r) => r.survivorFraction))).toBeLessThanOrEqual(0.02);
    // The removed backend's own slots (about its weight share) all moved.
    for (const r of runs) expect(r.changed - r.survivorChanged).toBeGreaterThanOrEqual(Math.floor(r.ideal * r.slots * 0.9));
  });

  it('removal, the Cilium-style case (3 backends, M = 1021): < 1% of the table moves between survivors', () => {
    const maglev = createMaglev({ tableSize: 1021 });
    const three = [{ id: 'one', weight: 1 }, { id: 'two', weight: 1 }, { id: 'three', weight: 1 }];
    const d = disruption(maglev.build(three), maglev.build(three.slice(0, 2)));
    expect(d.survivorFraction).toBeLessThan(0.01);
    expect(d.fraction).toBeLessThanOrEqual(1 / 3 + 0.01);
  });

  it('property: the same set in any input order gives the same table', () => {
    fc.assert(
      fc.property(
        backendSet(1, 30, 0, 10).chain((b) => fc.tuple(fc.constant(b), fc.shuffledSubarray(b, { minLength: b.length, maxLength: b.length }))),
        ([a, b]) => {
          const maglev = createMaglev({ tableSize: 4093 });
          const ta = maglev.build(a);
          const tb = maglev.build(b);
          expect(tb.keys).toEqual(ta.keys);
          expect(tb.slots).toEqual(ta.slots);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is pure: instances share no state, inputs are not mutated', () => {
    const input = fixture.backends.map((b) => ({ ...b }));
    const copy = JSON.stringify(input);
    const a = createMaglev({ tableSize: 251 }).build(input);
    const b = createMaglev({ tableSize: 251 }).build(input);
    expect(JSON.stringify(input)).toBe(copy);
    expect(a.slots).toEqual(b.slots);
    expect(a.slots).not.toBe(b.slots);
  });

  it('uses a pluggable hash', () => {
    // A deliberately poor hash: same preferences for everyone → table still full and fair by turns.
    const flat = createMaglev({ tableSize: 251, hash: () => [7, 0, 3, 0] });
    const t = flat.build([{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }]);
    const q = quality(t, t.backends);
    expect(q.emptySlots).toBe(0);
    expect(Math.abs(q.backends[0]!.count - q.backends[1]!.count)).toBeLessThanOrEqual(1);
    expect(t.slots[7]).toBe(0); // 'a' goes first in id order and takes its first preference
  });
});
