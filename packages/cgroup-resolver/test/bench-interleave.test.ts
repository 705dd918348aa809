// The connect benchmark's rounds (bench/interleave.mjs): every case once per round, in an
// order rotated each round, each case's median-p50 run kept; an optional case that fails drops
// its group and the others go on; a required one ends the bench.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { findRepoRoot } from '@balanced/testkit';

interface Run {
  readonly p50Us: number;
  readonly tag?: string;
}
interface Unit {
  readonly key: string;
  readonly group: string;
  readonly optional?: boolean;
  run(): Promise<Run>;
}
interface Interleave {
  rotated<T>(items: readonly T[], round: number): T[];
  medianRun(runs: readonly Run[]): Run & { repeats: number[] };
  pairedMedianRatio(xs: readonly number[], ys: readonly number[]): number | null;
  interleave(passes: readonly (readonly Unit[])[], rounds: number, onRound?: (round: number, runs: Map<string, Run>) => void): Promise<{ results: Map<string, Run & { repeats: number[] }>; failures: Map<string, unknown> }>;
}

let bench: Interleave;
beforeAll(async () => {
  bench = (await import(pathToFileURL(join(findRepoRoot(), 'packages', 'cgroup-resolver', 'bench', 'interleave.mjs')).href)) as Interleave;
});

describe('rotated', () => {
  it('is a rotation: same items, round k starts at item k mod n', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 8 }), fc.nat(40), (items, round) => {
        const out = bench.rotated(items, round);
        expect([...out].sort()).toEqual([...items].sort());
        if (items.length > 0) expect(out[0]).toBe(items[round % items.length]);
      }),
    );
  });

  it('over n rounds puts every item first exactly once', () => {
    const firsts = [0, 1, 2].map((r) => bench.rotated(['a', 'b', 'c'], r)[0]);
    expect(firsts).toEqual(['a', 'b', 'c']);
  });
});

describe('medianRun', () => {
  it('keeps the run with the median p50 and every p50 in round order', () => {
    const runs = [{ p50Us: 30, tag: 'r1' }, { p50Us: 10, tag: 'r2' }, { p50Us: 20, tag: 'r3' }];
    expect(bench.medianRun(runs)).toEqual({ p50Us: 20, tag: 'r3', repeats: [30, 10, 20] });
  });

  it('refuses no runs', () => {
    expect(() => bench.medianRun([])).toThrow(/no runs/);
  });
});

describe('pairedMedianRatio', () => {
  it('takes the ratio within each round, then the median: drift between rounds cancels', () => {
    // Round ratios 1.1, 2, 1.05: the median is round 1's 1.1 (the ratio of the medians, 21/20,
    // divides round 3's figure by another round's).
    expect(bench.pairedMedianRatio([11, 40, 21], [10, 20, 20])).toBeCloseTo(1.1, 10);
    expect(bench.pairedMedianRatio([2, 4], [1, 1])).toBe(3);
  });

  it('is null without rounds or when the rounds do not pair', () => {
    expect(bench.pairedMedianRatio([], [])).toBeNull();
    expect(bench.pairedMedianRatio([1, 2], [1])).toBeNull();
  });
});

describe('interleave', () => {
  const unit = (key: string, order: string[], p50s: number[], extra: Partial<Unit> = {}): Unit => {
    let i = 0;
    return {
      key,
      group: key,
      run: async () => {
        order.push(key);
        return { p50Us: p50s[i++ % p50s.length] as number };
      },
      ...extra,
    };
  };

  it('runs each case once per round, rotating the order, and keeps each median', async () => {
    const order: string[] = [];
    const passes = [[unit('a', order, [5, 1, 3]), unit('b', order, [9, 7, 8]), unit('c', order, [2, 2, 2])]];
    const rounds: string[][] = [];
    const { results, failures } = await bench.interleave(passes, 3, (_round, runs) => rounds.push([...runs.keys()]));
    expect(order).toEqual(['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']);
    expect(rounds).toEqual([['a', 'b', 'c'], ['b', 'c', 'a'], ['c', 'a', 'b']]);
    expect(results.get('a')).toEqual({ p50Us: 3, repeats: [5, 1, 3] });
    expect(results.get('b')).toEqual({ p50Us: 8, repeats: [9, 7, 8] });
    expect(failures.size).toBe(0);
  });

  it('an optional case that fails drops its whole group; the others are measured', async () => {
    const order: string[] = [];
    let calls = 0;
    const failing: Unit = {
      key: 'resolver',
      group: 'resolver',
      optional: true,
      run: async () => {
        calls++;
        throw new Error('no BPF');
      },
    };
    const sibling = unit('inCgroup', order, [4], { group: 'resolver', optional: true });
    const passes = [[unit('direct', order, [1]), failing, sibling]];
    const { results, failures } = await bench.interleave(passes, 3);
    expect(calls).toBe(1);
    expect(results.has('resolver')).toBe(false);
    expect(results.has('inCgroup')).toBe(false);
    expect(results.get('direct')?.repeats).toEqual([1, 1, 1]);
    expect([...failures.keys()]).toEqual(['resolver']);
  });

  it('a required case that fails ends the bench', async () => {
    const passes = [[{ key: 'direct', group: 'direct', run: () => Promise.reject(new Error('client exited 1')) }]];
    await expect(bench.interleave(passes, 2)).rejects.toThrow(/client exited 1/);
  });
});
