// Issue 13: a pool's VIP ranges outlive the process that saw them valid. The vip-allocator
// records a pool's last valid spec.cidrs on the pool (LAST_VALID_CIDRS_ANNOTATION) and holds a
// finalizer on it while a Service's status holds an address from it; every director and
// announcer reads the recorded copy when spec.cidrs is invalid, so a restart keeps the ranges,
// and a pool being deleted keeps them until no Service holds an address from it.
import { describe, expect, it } from '@jest/globals';
import { ADDRESSES_IN_USE_FINALIZER, LAST_VALID_CIDRS_ANNOTATION, vipPoolUpkeep } from '../src/vippool-upkeep.js';
import { vipRangesFromPools, type VipRangeSet } from '../src/vip-ranges.js';

interface PoolOptions {
  readonly recorded?: unknown;
  readonly finalizers?: readonly string[];
  readonly deleting?: boolean;
}
const pool = (name: string, cidrs: unknown, o: PoolOptions = {}): object => ({
  metadata: {
    name,
    uid: `uid-${name}`,
    resourceVersion: '7',
    ...(o.recorded === undefined ? {} : { annotations: { [LAST_VALID_CIDRS_ANNOTATION]: typeof o.recorded === 'string' ? o.recorded : JSON.stringify(o.recorded) } }),
    ...(o.finalizers === undefined ? {} : { finalizers: o.finalizers }),
    ...(o.deleting === true ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}),
  },
  spec: { cidrs },
});
const texts = (set: VipRangeSet): string[] => set.cidrs.map((c) => c.text);

describe('vipRangesFromPools reads the recorded last valid cidrs', () => {
  it('a pool invalid across a restart (nothing remembered in this process) keeps its recorded ranges', () => {
    const { set } = vipRangesFromPools([pool('gold', ['10.97.0.1/30'], { recorded: ['10.97.0.0/30'] })]);
    expect(texts(set)).toEqual(['10.97.0.0/30']);
    expect(set.pools).toEqual(['gold']);
    expect(set.invalid).toEqual([{ name: 'gold', uid: 'uid-gold', keptFrom: 'recorded', problems: [expect.stringMatching(/^spec\.cidrs\[0\]: .*host bits/)] }]);
  });

  it('a valid spec wins over the recorded copy; an unreadable copy counts as none', () => {
    expect(texts(vipRangesFromPools([pool('gold', ['10.97.1.0/30'], { recorded: ['10.97.0.0/30'] })]).set)).toEqual(['10.97.1.0/30']);
    for (const recorded of ['not json', '{"a":1}', '[]', '["10.97.0.1/30"]', '[7]']) {
      const { set } = vipRangesFromPools([pool('gold', 'x', { recorded })]);
      expect([recorded, texts(set), set.invalid[0]?.keptFrom]).toEqual([recorded, [], undefined]);
    }
  });

  it('a pool being deleted (finalizer held) still counts, from its spec or its recorded copy', () => {
    expect(texts(vipRangesFromPools([pool('gold', ['10.97.0.0/30'], { deleting: true, finalizers: [ADDRESSES_IN_USE_FINALIZER] })]).set)).toEqual(['10.97.0.0/30']);
    expect(texts(vipRangesFromPools([pool('gold', ['bad'], { deleting: true, recorded: ['10.97.0.0/30'] })]).set)).toEqual(['10.97.0.0/30']);
  });
});

describe('vipPoolUpkeep: what the allocator writes on a pool', () => {
  it('records valid spec.cidrs and adds the finalizer to a live pool; nothing when both are current', () => {
    const up = vipPoolUpkeep(pool('gold', ['10.97.0.0/30', '10.97.1.1-10.97.1.9'], { finalizers: ['other'] }), []);
    expect(up).toEqual({
      name: 'gold',
      patch: { metadata: { resourceVersion: '7', annotations: { [LAST_VALID_CIDRS_ANNOTATION]: '["10.97.0.0/30","10.97.1.1-10.97.1.9"]' }, finalizers: ['other', ADDRESSES_IN_USE_FINALIZER] } },
      finalizer: 'added',
      recorded: true,
      heldBy: [],
    });
    expect(vipPoolUpkeep(pool('gold', ['10.97.0.0/30'], { recorded: ['10.97.0.0/30'], finalizers: [ADDRESSES_IN_USE_FINALIZER] }), [])).toBeUndefined();
  });

  it('an invalid spec never overwrites the recorded copy', () => {
    const up = vipPoolUpkeep(pool('gold', ['10.97.0.1/30'], { recorded: ['10.97.0.0/30'] }), []);
    expect(up?.patch).toEqual({ metadata: { resourceVersion: '7', finalizers: [ADDRESSES_IN_USE_FINALIZER] } });
    expect(up?.recorded).toBe(false);
  });

  it('a pool being deleted keeps the finalizer while an address inside its ranges is held, and lets it go after', () => {
    const deleting = pool('gold', ['bad'], { deleting: true, recorded: ['10.97.0.0/30'], finalizers: ['other', ADDRESSES_IN_USE_FINALIZER] });
    const held = [
      { ip: '10.97.0.2', by: 'default/b' },
      { ip: '10.96.0.1', by: 'default/c' },
    ];
    expect(vipPoolUpkeep(deleting, held)).toEqual({ name: 'gold', finalizer: 'kept', heldBy: ['default/b'], recorded: false, patch: undefined });
    expect(vipPoolUpkeep(deleting, held.slice(1))).toEqual({
      name: 'gold',
      patch: { metadata: { resourceVersion: '7', finalizers: ['other'] } },
      finalizer: 'removed',
      recorded: false,
      heldBy: [],
    });
    // never given a finalizer: nothing to do
    expect(vipPoolUpkeep(pool('gold', ['10.97.0.0/30'], { deleting: true }), [])).toBeUndefined();
  });

  it('a sparse spec.cidrs (a hole, found by the fuzz) is invalid: nothing that reads back differently is recorded', () => {
    const cidrs: string[] = ['10.97.0.0/30'];
    cidrs.length = 2;
    expect(vipPoolUpkeep(pool('gold', cidrs), [])?.recorded).toBe(false);
    expect(vipRangesFromPools([pool('gold', cidrs)]).set.invalid.map((p) => p.problems)).toEqual([[expect.stringMatching(/^spec\.cidrs\[1\]: /)]]);
  });

  it('never throws on malformed objects', () => {
    for (const o of [null, 7, 'x', {}, { metadata: 7 }, { metadata: { name: 'p', finalizers: 'x' }, spec: { cidrs: [1] } }, { metadata: { name: 'p', annotations: { [LAST_VALID_CIDRS_ANNOTATION]: 5 } } }]) {
      expect(() => vipPoolUpkeep(o, [{ ip: 'nonsense', by: 'x' }])).not.toThrow();
    }
    expect(vipPoolUpkeep({ spec: { cidrs: ['10.0.0.0/8'] } }, [])).toBeUndefined(); // no name: cannot be patched
  });
});
