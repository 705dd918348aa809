import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import type { V1Service } from '@kubernetes/client-node';
import { renderSourceRanges, sourceRangeRules } from '../src/source-ranges.js';

const svc = (ranges: unknown, ingress: string[] = ['10.96.0.10'], ports: { protocol?: string; port: number }[] = [{ protocol: 'TCP', port: 80 }]): V1Service =>
  ({
    metadata: { namespace: 'shop', name: 'web', uid: 'u1' },
    spec: { type: 'LoadBalancer', ports, ...(ranges === undefined ? {} : { loadBalancerSourceRanges: ranges }) },
    status: { loadBalancer: { ingress: ingress.map((ip) => ({ ip })) } },
  }) as unknown as V1Service;
const all = () => true;

describe('sourceRangeRules', () => {
  test('one rule per programmed VIP and port, ranges canonical and of the VIP family', () => {
    const plan = sourceRangeRules([svc(['192.0.2.0/24', '2001:DB8:0::/64', ' 198.51.100.9/32'], ['10.96.0.10', 'fd00::10'], [{ protocol: 'TCP', port: 80 }, { protocol: 'UDP', port: 53 }])], all);
    expect(plan.refusals).toEqual([]);
    expect(plan.rules.map((r) => [r.id, r.ranges])).toEqual([
      ['tcp/10.96.0.10:80', ['192.0.2.0/24', '198.51.100.9/32']],
      ['tcp/[fd00::10]:80', ['2001:db8::/64']],
      ['udp/10.96.0.10:53', ['192.0.2.0/24', '198.51.100.9/32']],
      ['udp/[fd00::10]:53', ['2001:db8::/64']],
    ]);
  });

  test('no field or an empty list: no rule; a virtual service this director does not program: no rule', () => {
    expect(sourceRangeRules([svc(undefined), svc([])], all).rules).toEqual([]);
    expect(sourceRangeRules([svc(['192.0.2.0/24'])], () => false).rules).toEqual([]);
  });

  test('a malformed range is reported and the VIP fails closed (only the valid ranges pass; none valid: nobody)', () => {
    const plan = sourceRangeRules([svc(['nonsense', '192.0.2.0/33'])], all);
    expect(plan.rules.map((r) => [r.id, r.ranges])).toEqual([['tcp/10.96.0.10:80', []]]);
    expect(plan.refusals.map((r) => [r.object.name, r.reason])).toEqual([
      ['web', 'InvalidSourceRange'],
      ['web', 'InvalidSourceRange'],
    ]);
    expect(plan.refusals[0]?.message).toContain('"nonsense"');
    expect(renderSourceRanges(plan.rules)).toContain('set allow_0 { type ipv4_addr; flags interval; auto-merge; }');
  });

  test('an entry with host bits set is read as Kubernetes reads it (bits cleared), and a bare address is that host', () => {
    const plan = sourceRangeRules([svc(['192.0.2.7/24', '198.51.100.9', '203.0.113.0/24'])], all);
    expect(plan.rules.map((r) => [r.id, r.ranges])).toEqual([['tcp/10.96.0.10:80', ['192.0.2.0/24', '198.51.100.9/32', '203.0.113.0/24']]]);
    expect(plan.refusals).toEqual([]);
  });

  test('renders one set per VIP and port and one counted drop rule each, in a table it replaces atomically', () => {
    const text = renderSourceRanges(sourceRangeRules([svc(['192.0.2.0/24'])], all).rules);
    expect(text.split('\n').slice(0, 3)).toEqual(['table inet balanced_source_ranges', 'delete table inet balanced_source_ranges', 'table inet balanced_source_ranges {']);
    expect(text).toContain('set allow_0 { type ipv4_addr; flags interval; auto-merge; elements = { 192.0.2.0/24 }; }');
    expect(text).toContain('type filter hook prerouting priority raw; policy accept;');
    expect(text).toContain('ip daddr 10.96.0.10 meta l4proto tcp th dport 80 ip saddr != @allow_0 counter drop comment "tcp/10.96.0.10:80"');
  });

  test('1,000 fuzzed Services never throw, and every rendered element is a normalised prefix', () => {
    const anyRange = fc.oneof(fc.string(), fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 40 })).map(([a, n]) => `${a}/${n}`), fc.ipV6(), fc.ipV4(), fc.constant(null), fc.integer(), fc.object());
    fc.assert(
      fc.property(fc.oneof(fc.array(anyRange), anyRange), fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string())), (ranges, ingress) => {
        const plan = sourceRangeRules([svc(ranges, ingress)], all);
        for (const r of plan.rules) for (const p of r.ranges) expect(p).toMatch(r.family === 'inet' ? /^\d+\.\d+\.\d+\.\d+\/\d+$/ : /^[0-9a-f:]+\/\d+$/);
        expect(typeof renderSourceRanges(plan.rules)).toBe('string');
      }),
      { numRuns: 1000 },
    );
  });
});
