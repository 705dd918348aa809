import { describe, expect, it } from '@jest/globals';
import { createMaglev, disruption, quality, type MhService, type SlotTable } from '../src/index.js';
import { destinationKey, kernelMhTable } from '../src/kernel-mh.js';
import { disruptionScenarios, formatReport } from '../src/quality.js';

const table = (slots: number[], keys: string[]): SlotTable => ({ slots: Int32Array.from(slots), keys });

describe('quality', () => {
  it('counts slots per backend against weights', () => {
    const q = quality(table([0, 0, 1, 1, 1, 2, -1, 0], ['a', 'b', 'c']), [
      { id: 'a', weight: 2 },
      { id: 'b', weight: 2 },
      { id: 'c', weight: 1 },
      { id: 'z', weight: 0 },
    ]);
    expect(q.slots).toBe(8);
    expect(q.emptySlots).toBe(1);
    expect(q.backends.map((b) => [b.id, b.count])).toEqual([['a', 3], ['b', 3], ['c', 1], ['z', 0]]);
    expect(q.meanCount).toBeCloseTo(7 / 3);
    expect(q.maxOverMean).toBeCloseTo(3 / (7 / 3));
    expect(q.minOverMean).toBeCloseTo(1 / (7 / 3));
    expect(q.backends[2]!.expectedShare).toBeCloseTo(0.2);
    expect(q.maxWeightedRatio).toBeCloseTo(3 / 8 / 0.4);
    expect(q.maxShareError).toBeCloseTo(Math.abs(1 / 8 - 0.2));
    expect(Number.isNaN(q.backends[3]!.ratio)).toBe(true);
  });
});

describe('disruption', () => {
  it('compares owners by key, not by index', () => {
    const before = table([0, 1, 2, 0], ['a', 'b', 'c']);
    const after = table([0, 1, 1, 0], ['b', 'a']); // indices swapped, 'c' gone
    expect(disruption(before, after)).toEqual({ slots: 4, changed: 4, fraction: 1, survivorChanged: 3, survivorFraction: 0.75 });
    expect(disruption(before, before)).toEqual({ slots: 4, changed: 0, fraction: 0, survivorChanged: 0, survivorFraction: 0 });
    expect(() => disruption(before, table([0], ['a']))).toThrow(RangeError);
  });

  it('scenarios: add, remove and drain one backend against the ideal share', () => {
    const maglev = createMaglev({ tableSize: 4093 });
    const backends = Array.from({ length: 20 }, (_, i) => ({ id: `b${i}`, weight: 1 }));
    const r = disruptionScenarios((b) => maglev.build(b), backends, { target: 'b7' });
    expect(r.backends).toBe(20);
    expect(r.removed.id).toBe('b7');
    expect(r.removed.ideal).toBeCloseTo(1 / 20);
    expect(r.added.ideal).toBeCloseTo(1 / 21);
    // Weight 0 and removal give the same weighted table.
    expect(r.drained.fraction).toBe(r.removed.fraction);
    for (const s of [r.added, r.removed, r.drained]) {
      expect(s.fraction).toBeGreaterThanOrEqual(s.ideal - 0.002);
      expect(s.excess).toBeCloseTo(s.fraction - s.ideal);
      expect(s.excess).toBeLessThan(0.05);
    }
    expect(() => disruptionScenarios((b) => maglev.build(b), backends, { target: 'nope' })).toThrow(RangeError);
  });

  it('works for the kernel model too (owners keyed by address:port); drain leaves the table alone', () => {
    const svc = (weights: number[]): MhService => ({
      af: 'inet',
      schedulerFlags: { mhPort: false, mhFallback: true },
      destinations: weights.map((weight, i) => ({ address: `10.3.0.${i + 1}`, port: 80, weight, lastWeight: weight || 1 })),
    });
    const view = (s: MhService): SlotTable => ({ slots: kernelMhTable(s), keys: s.destinations.map(destinationKey) });
    expect(disruption(view(svc([1, 1, 1, 1])), view(svc([1, 0, 1, 1]))).changed).toBe(0);
  });
});

describe('formatReport', () => {
  it('renders summary, top backends and disruption as plain text', () => {
    const maglev = createMaglev({ tableSize: 251 });
    const backends = [
      { id: 'alpha', weight: 1 },
      { id: 'beta', weight: 2 },
    ];
    const text = formatReport({
      title: 'maglev M=251',
      quality: quality(maglev.build(backends), backends),
      disruption: disruptionScenarios((b) => maglev.build(b), backends),
      top: 2,
    });
    const lines = text.split('\n');
    expect(lines[0]).toBe('maglev M=251');
    expect(lines[1]).toBe('============');
    expect(text).toMatch(/^slots 251, backends 2 \(2 weighted\), empty slots 0$/m);
    expect(text).toMatch(/^beta +2 +16\d /m);
    expect(text).toMatch(/^ {2}remove +alpha /m);
    expect(text.endsWith('\n')).toBe(true);
  });
});
