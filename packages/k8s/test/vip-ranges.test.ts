import { describe, expect, it } from '@jest/globals';
import { parseCidr } from '@balanced/net';
import type { ChangeListener } from '../src/cluster-cache.js';
import { vipRangesFromPools, VipRangeWatch, type VipRangeSet } from '../src/vip-ranges.js';

const pool = (name: string, cidrs: unknown, uid = `uid-${name}`): object => ({ metadata: { name, uid }, spec: { cidrs } });
const texts = (set: VipRangeSet): string[] => set.cidrs.map((c) => c.text);

describe('vipRangesFromPools', () => {
  it('every valid pool, CIDRs and first-last ranges, merged into the fewest CIDRs, IPv4 first; plus the extra CIDRs', () => {
    const { set } = vipRangesFromPools(
      [pool('b', ['10.96.100.0/25', 'fd96::/64']), pool('a', ['10.96.100.128-10.96.100.255', '10.96.200.10-10.96.200.11'])],
      [parseCidr('192.0.2.0/24')],
    );
    expect(texts(set)).toEqual(['10.96.100.0/24', '10.96.200.10/31', '192.0.2.0/24', 'fd96::/64']);
    expect(set.pools).toEqual(['a', 'b']);
    expect(set.invalid).toEqual([]);
  });

  it('an invalid pool keeps its last valid ranges (same uid), as the vip-allocator keeps its last valid version', () => {
    const first = vipRangesFromPools([pool('web', ['10.96.100.0/24'])]);
    const typo = vipRangesFromPools([pool('web', ['10.96.100.1/24'])], [], first.lastValid);
    expect(texts(typo.set)).toEqual(['10.96.100.0/24']);
    expect(typo.set.invalid).toEqual([{ name: 'web', uid: 'uid-web', keptFrom: 'process', problems: [expect.stringMatching(/^spec\.cidrs\[0\]: .*host bits are set; did you mean "10\.96\.100\.0\/24"/)] }]);
    // …and keeps them through further invalid versions, until a valid one replaces them.
    const again = vipRangesFromPools([pool('web', [])], [], typo.lastValid);
    expect(texts(again.set)).toEqual(['10.96.100.0/24']);
    const fixed = vipRangesFromPools([pool('web', ['10.96.101.0/24'])], [], again.lastValid);
    expect(texts(fixed.set)).toEqual(['10.96.101.0/24']);
  });

  it('a pool never valid (in this process) gives nothing; a new pool of the same name (new uid) starts over; a deleted pool is forgotten', () => {
    const never = vipRangesFromPools([pool('web', ['nonsense'])]);
    expect(texts(never.set)).toEqual([]);
    expect(never.set.invalid[0]?.keptFrom).toBeUndefined();
    const valid = vipRangesFromPools([pool('web', ['10.96.100.0/24'])]);
    expect(texts(vipRangesFromPools([pool('web', ['nonsense'], 'uid-2')], [], valid.lastValid).set)).toEqual([]);
    const deleted = vipRangesFromPools([], [], valid.lastValid);
    expect(texts(deleted.set)).toEqual([]);
    expect(texts(vipRangesFromPools([pool('web', ['nonsense'])], [], deleted.lastValid).set)).toEqual([]);
  });

  it('reads malformed objects defensively', () => {
    const { set } = vipRangesFromPools([null, 7, { metadata: { name: 'x' } }, { spec: { cidrs: 'x' } }, pool('ok', ['10.0.0.0/8'])]);
    expect(texts(set)).toEqual(['10.0.0.0/8']);
    expect(set.invalid).toHaveLength(4);
  });
});

/** A cluster cache holding only VipPools. */
function fakeCache(): { cache: { vipPools(): readonly never[]; onChange(l: ChangeListener): () => void }; put(objects: object[]): void } {
  let pools: object[] = [];
  const listeners = new Set<ChangeListener>();
  return {
    cache: {
      vipPools: () => pools as never[],
      onChange: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    },
    put(objects) {
      pools = objects;
      for (const l of listeners) l('vippools');
    },
  };
}

describe('VipRangeWatch', () => {
  it('owns what the current pools (and --vip-cidr) cover; tells when the set changes; not ready without a range', () => {
    const { cache, put } = fakeCache();
    const changes: string[][] = [];
    const warned: string[] = [];
    const watch = new VipRangeWatch(cache, { onChange: (set) => changes.push(texts(set)), log: { warn: (_f, m) => void warned.push(m) } });
    expect(watch.owns('10.96.100.10')).toBe(false);
    expect(watch.readiness()).toEqual({ ok: false, detail: expect.stringMatching(/^no VIP range: no valid VipPool .* and no --vip-cidr/) });

    put([pool('web', ['10.96.100.0/24'])]);
    expect(watch.owns('10.96.100.10')).toBe(true);
    expect(watch.owns('10.96.101.10')).toBe(false);
    expect(watch.readiness()).toEqual({ ok: true, detail: 'VIP ranges: 10.96.100.0/24' });

    put([pool('web', ['10.96.100.0/24'])]); // unchanged: no callback
    put([pool('web', ['10.96.100.7/24'])]); // invalid: kept, logged once
    put([pool('web', ['10.96.100.7/24'])]);
    expect(watch.owns('10.96.100.10')).toBe(true);
    expect(warned).toEqual([expect.stringMatching(/^VipPool web is invalid: .*host bits.*; its last valid ranges are still owned \(seen by this process; none recorded on the pool.*$/)]);

    put([]);
    expect(watch.owns('10.96.100.10')).toBe(false);
    expect(changes).toEqual([['10.96.100.0/24'], []]);
    watch.stop();
    put([pool('web', ['10.96.100.0/24'])]);
    expect(watch.owns('10.96.100.10')).toBe(false);
  });

  it('--vip-cidr is owned whatever the pools say; pools: false reads none', async () => {
    const { cache, put } = fakeCache();
    const watch = new VipRangeWatch(cache, { extra: ['192.0.2.0/24'], pools: false });
    put([pool('web', ['10.96.100.0/24'])]);
    expect([watch.owns('192.0.2.1'), watch.owns('10.96.100.1')]).toEqual([true, false]);
    expect(watch.readiness().ok).toBe(true);
    expect(() => new VipRangeWatch(cache, { extra: ['192.0.2.1/24'] })).toThrow(/host bits/);
    const none = new VipRangeWatch(cache, { pools: false });
    expect(none.readiness()).toEqual({ ok: false, detail: expect.stringMatching(/no --vip-cidr given and VipPools are not read/) });
  });
});
