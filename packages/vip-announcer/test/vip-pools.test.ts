import { describe, expect, test } from '@jest/globals';
import { LAST_VALID_CIDRS_ANNOTATION } from '@balanced/k8s';
import { tryParseIp } from '@balanced/net';
import { readVipPools } from '../src/index.js';
import { parseCommunity } from '../src/vip-pools.js';
import { vipPool } from './k8s-objects.js';

describe('readVipPools', () => {
  test('CIDRs and ranges; communities sorted and unique; pools sorted by name', () => {
    const { pools, problems } = readVipPools([vipPool('b', ['10.96.100.0/24', '10.97.0.10-10.97.0.20'], ['65000:2', '65000:1', '65000:2']), vipPool('a', ['fd96::/64'])]);
    expect(problems).toEqual([]);
    expect(pools.map((p) => p.name)).toEqual(['a', 'b']);
    const b = pools[1];
    expect(b?.communities).toEqual([{ asn: 65000, value: 1 }, { asn: 65000, value: 2 }]);
    const at = (ip: string): boolean => b?.contains(tryParseIp(ip) as NonNullable<ReturnType<typeof tryParseIp>>) ?? false;
    expect(['10.96.100.7', '10.97.0.10', '10.97.0.20', '10.97.0.21', '10.96.101.1'].map(at)).toEqual([true, true, true, false, false]);
    expect(pools[0]?.contains(tryParseIp('fd96::9') as NonNullable<ReturnType<typeof tryParseIp>>)).toBe(true);
  });

  test('a bad community drops the pool’s communities (all or nothing) and says so; a bad CIDR entry is skipped', () => {
    const { pools, problems } = readVipPools([vipPool('p', ['10.96.100.0/24', 'x', '10.0.0.9-10.0.0.1', '10.97.0.5/24', 'fd96:0::/64'], ['65000:1', '70000:1']), { metadata: {} }]);
    expect(pools[0]?.communities).toEqual([]);
    expect(problems).toEqual([
      'VipPool p: spec.cidrs[1] "x" is not a CIDR (without host bits) or a first-last range; ignored',
      'VipPool p: spec.cidrs[2] "10.0.0.9-10.0.0.1" is not a CIDR (without host bits) or a first-last range; ignored',
      'VipPool p: spec.cidrs[3] "10.97.0.5/24" is not a CIDR (without host bits) or a first-last range; ignored', // host bits set, as the allocator refuses it
      'VipPool p: spec.bgpCommunities[1] "70000:1" is not asn:value (0..65535 each); the pool\'s communities were not used',
      'a VipPool without metadata.name was ignored',
    ]);
  });

  test('an invalid spec.cidrs: the pool also covers the last valid cidrs the vip-allocator recorded on it (its VIPs keep their communities)', () => {
    const recorded = (cidrs: readonly string[], copy: string): Record<string, unknown> => {
      const p = vipPool('gold', cidrs, ['65000:7']);
      return { ...p, metadata: { name: 'gold', annotations: { [LAST_VALID_CIDRS_ANNOTATION]: copy } } };
    };
    const at = (o: Record<string, unknown>, ip: string): boolean => readVipPools([o]).pools[0]?.contains(tryParseIp(ip) as NonNullable<ReturnType<typeof tryParseIp>>) ?? false;
    expect(at(recorded(['10.96.100.1/24'], '["10.96.100.0/24"]'), '10.96.100.10')).toBe(true);
    expect(at(recorded(['10.96.100.1/24'], 'nonsense'), '10.96.100.10')).toBe(false);
    expect(at(recorded(['10.96.101.0/24'], '["10.96.100.0/24"]'), '10.96.100.10')).toBe(false); // a valid spec wins
    expect(readVipPools([recorded(['10.96.100.1/24'], '["10.96.100.0/24"]')]).pools[0]?.communities).toEqual([{ asn: 65000, value: 7 }]);
  });

  test('parseCommunity', () => {
    expect(['65000:100', ' 0:0 ', '65535:65535', '65536:1', '1:65536', '1:2:3', 'a:b', '', 7].map(parseCommunity)).toEqual([
      { asn: 65000, value: 100 },
      { asn: 0, value: 0 },
      { asn: 65535, value: 65535 },
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
