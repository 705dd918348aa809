import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { cidrOwnership, parseCidr } from '@balanced/net';
import { planAnnouncements, readVipPools, type AnnouncementInput, type LastGood } from '../src/index.js';
import { service, slice, vipPool } from './k8s-objects.js';

const ownsVip = cidrOwnership([parseCidr('10.96.100.0/24')]);

function plan(services: V1Service[], slices: V1EndpointSlice[], extra: Partial<AnnouncementInput> = {}) {
  return planAnnouncements({ services, endpointSlices: slices, pools: [], ownsVip, defaultClass: false, controllerHealthy: true, lastGood: new Map(), ...extra });
}

describe('planAnnouncements', () => {
  test('a VIP is announced while one of its ports has a ready endpoint; otherwise withheld as NoReadyEndpoints', () => {
    const services = [service({ name: 'web', vips: ['10.96.100.10'] }), service({ name: 'db', vips: ['10.96.100.11'] })];
    const slices = [slice({ service: 'web', endpoints: { '10.244.0.1': true, '10.244.0.2': false } }), slice({ service: 'db', endpoints: { '10.244.0.3': false } })];
    const { plan: p } = plan(services, slices);
    expect(p.announced).toEqual([{ vip: '10.96.100.10', communities: [], services: ['default/web'], pool: undefined }]);
    expect(p.withheld).toEqual([{ vip: '10.96.100.11', reason: 'NoReadyEndpoints', services: ['default/db'] }]);
  });

  test('a Service with no EndpointSlice at all is withheld, not announced', () => {
    expect(plan([service({ name: 'web', vips: ['10.96.100.10'] })], []).plan).toMatchObject({ announced: [], withheld: [{ vip: '10.96.100.10', reason: 'NoReadyEndpoints' }] });
  });

  test('a ready endpoint on a port the Service does not have does not count (same rule as the ipvs-controller)', () => {
    const services = [service({ name: 'web', vips: ['10.96.100.10'], ports: [80] })];
    const slices = [slice({ service: 'web', endpoints: { '10.244.0.1': true }, ports: [8080] })];
    expect(plan(services, slices).plan.announced).toEqual([]);
  });

  test('an unhealthy ipvs-controller withholds every VIP', () => {
    const services = [service({ name: 'web', vips: ['10.96.100.10'] })];
    const slices = [slice({ service: 'web', endpoints: { '10.244.0.1': true } })];
    expect(plan(services, slices, { controllerHealthy: false }).plan).toMatchObject({ announced: [], withheld: [{ vip: '10.96.100.10', reason: 'ControllerUnhealthy' }] });
  });

  test('only our Services, and only VIPs inside the CIDRs', () => {
    const services = [
      service({ name: 'other-class', vips: ['10.96.100.20'], cls: 'example.com/lb' }),
      service({ name: 'no-class', vips: ['10.96.100.21'], cls: null }),
      service({ name: 'outside', vips: ['10.96.101.1', '10.96.100.22'] }),
    ];
    const slices = ['other-class', 'no-class', 'outside'].map((s) => slice({ service: s, endpoints: { '10.244.0.1': true } }));
    expect(plan(services, slices).plan.announced.map((a) => a.vip)).toEqual(['10.96.100.22']);
    expect(plan(services, slices, { defaultClass: true }).plan.announced.map((a) => a.vip)).toEqual(['10.96.100.21', '10.96.100.22']);
  });

  test('communities: the pool named by balanced.dev/ip-pool, plus the Service annotation, merged and sorted', () => {
    const services = [service({ name: 'web', vips: ['10.96.100.10'], annotations: { 'balanced.dev/ip-pool': 'gold', 'balanced.dev/bgp-communities': '65000:300, 65000:100' } })];
    const pools = readVipPools([vipPool('gold', ['10.96.0.0/16'], ['65000:100', '65000:200']), vipPool('a-first', ['10.96.100.0/24'], ['1:1'])]).pools;
    const { plan: p } = plan(services, [slice({ service: 'web', endpoints: { '10.244.0.1': true } })], { pools });
    expect(p.announced).toEqual([
      { vip: '10.96.100.10', pool: 'gold', services: ['default/web'], communities: [{ asn: 65000, value: 100 }, { asn: 65000, value: 200 }, { asn: 65000, value: 300 }] },
    ]);
  });

  test('without the annotation, the first pool (by name) whose cidrs hold the VIP; ranges count too', () => {
    const services = [service({ name: 'web', vips: ['10.96.100.10'] })];
    const pools = readVipPools([vipPool('zz', ['10.96.100.0/24'], ['9:9']), vipPool('mm', ['10.96.100.5-10.96.100.15'], ['5:5']), vipPool('aa', ['10.97.0.0/16'], ['1:1'])]).pools;
    const { plan: p } = plan(services, [slice({ service: 'web', endpoints: { '10.244.0.1': true } })], { pools });
    expect(p.announced[0]).toMatchObject({ pool: 'mm', communities: [{ asn: 5, value: 5 }] });
  });

  test('a named pool that does not exist: announced without pool communities, and said so', () => {
    const services = [service({ name: 'web', vips: ['10.96.100.10'], annotations: { 'balanced.dev/ip-pool': 'missing' } })];
    const { plan: p } = plan(services, [slice({ service: 'web', endpoints: { '10.244.0.1': true } })]);
    expect(p.announced[0]).toMatchObject({ vip: '10.96.100.10', pool: undefined, communities: [] });
    expect(p.problems).toEqual(['VIP 10.96.100.10: VipPool missing (named by balanced.dev/ip-pool of default/web) does not exist; announced without its communities']);
  });

  test('two Services sharing a VIP on different ports: one announcement with both sets of communities', () => {
    const services = [
      service({ name: 'a', vips: ['10.96.100.10'], ports: [80], annotations: { 'balanced.dev/bgp-communities': '1:1' } }),
      service({ name: 'b', vips: ['10.96.100.10'], ports: [443], annotations: { 'balanced.dev/bgp-communities': '2:2' } }),
    ];
    const slices = [slice({ service: 'a', endpoints: { '10.244.0.1': false } }), slice({ service: 'b', endpoints: { '10.244.0.2': true }, ports: [443] })];
    expect(plan(services, slices).plan.announced).toEqual([
      { vip: '10.96.100.10', pool: undefined, services: ['default/a', 'default/b'], communities: [{ asn: 1, value: 1 }, { asn: 2, value: 2 }] },
    ]);
  });

  test('a live Service whose annotation turns invalid keeps its last good announcement (as the ipvs-controller keeps its IPVS state); never-valid ones announce nothing', () => {
    const good = service({ name: 'web', vips: ['10.96.100.10'], annotations: { 'balanced.dev/bgp-communities': '65000:1' } });
    const bad = service({ name: 'web', vips: ['10.96.100.10'], annotations: { 'balanced.dev/bgp-communities': 'not-a-community' } });
    const slices = [slice({ service: 'web', endpoints: { '10.244.0.1': true } })];
    const first = plan([good], slices);
    const second = plan([bad], slices, { lastGood: first.lastGood });
    expect(second.plan.announced).toEqual(first.plan.announced);
    expect(plan([bad], slices).plan.announced).toEqual([]);
    expect(plan([], slices, { lastGood: second.lastGood }).plan.announced).toEqual([]);
    expect(plan([], slices, { lastGood: second.lastGood }).lastGood.size).toBe(0);
  });

  test('a VIP:port claimed by two Services: the older holds it (the ipvs-controller programs that one)', () => {
    const services = [
      service({ name: 'old', vips: ['10.96.100.10'], created: '2024-01-01T00:00:00Z' }),
      service({ name: 'new', vips: ['10.96.100.10'], created: '2025-01-01T00:00:00Z' }),
    ];
    const slices = [slice({ service: 'old', endpoints: { '10.244.0.1': false } }), slice({ service: 'new', endpoints: { '10.244.0.2': true } })];
    expect(plan(services, slices).plan).toMatchObject({ announced: [], withheld: [{ vip: '10.96.100.10', reason: 'NoReadyEndpoints', services: ['default/old'] }] });
  });

  const arbitraryCluster = fc
    .uniqueArray(
      fc.record({
        name: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
        vips: fc.array(fc.constantFrom('10.96.100.1', '10.96.100.2', '10.96.100.200', '10.96.101.1', 'fd96::1', 'garbage'), { maxLength: 3 }),
        ports: fc.uniqueArray(fc.constantFrom(80, 443), { minLength: 1 }),
        ready: fc.dictionary(fc.constantFrom('10.244.0.1', '10.244.0.2', '10.244.0.3'), fc.boolean()),
        communities: fc.option(fc.constantFrom('65000:1', '65000:2, 1:1', 'bad'), { nil: undefined }),
      }),
      { maxLength: 5, selector: (s) => s.name },
    )
    .map((list) => ({
      services: list.map((s) => service({ name: s.name, vips: s.vips, ports: s.ports, ...(s.communities ? { annotations: { 'balanced.dev/bgp-communities': s.communities } } : {}) })),
      slices: list.map((s, i) => slice({ service: s.name, name: `${s.name}-${i}`, endpoints: s.ready, ports: s.ports })),
    }));

  test('property: announced VIPs are ingress IPs of our Services inside the CIDRs, each with a ready endpoint', () => {
    fc.assert(
      fc.property(arbitraryCluster, fc.boolean(), ({ services, slices }, healthy) => {
        const { plan: p } = plan(services, slices, { controllerHealthy: healthy });
        const ingress = new Set(services.flatMap((s) => (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip)));
        for (const a of p.announced) {
          expect(ingress.has(a.vip)).toBe(true);
          expect(ownsVip(a.vip)).toBe(true);
          const ready = slices.some((sl) => a.services.includes(`default/${sl.metadata?.labels?.['kubernetes.io/service-name']}`) && (sl.endpoints ?? []).some((e) => e.conditions?.ready === true));
          expect(ready).toBe(true);
        }
        if (!healthy) expect(p.announced).toEqual([]);
        expect(new Set([...p.announced.map((a) => a.vip), ...p.withheld.map((w) => w.vip)]).size).toBe(p.announced.length + p.withheld.length);
      }),
    );
  });

  test('property: the plan does not depend on the order of Services, slices or pools', () => {
    const pools = [vipPool('p1', ['10.96.100.0/25'], ['7:7']), vipPool('p2', ['10.96.100.0/24'], ['8:8'])];
    fc.assert(
      fc.property(arbitraryCluster, ({ services, slices }) => {
        const forward = plan(services, slices, { pools: readVipPools(pools).pools }).plan;
        const backward = plan([...services].reverse(), [...slices].reverse(), { pools: readVipPools([...pools].reverse()).pools }).plan;
        expect(backward).toEqual(forward);
      }),
    );
  });

  test('property: with no annotation errors, nothing is kept from before', () => {
    fc.assert(
      fc.property(arbitraryCluster, arbitraryCluster, (before, now) => {
        const first = plan(before.services, before.slices);
        const clean = now.services.filter((s) => s.metadata?.annotations?.['balanced.dev/bgp-communities'] !== 'bad');
        const withHistory = plan(clean, now.slices, { lastGood: first.lastGood as LastGood });
        expect(withHistory.plan).toEqual(plan(clean, now.slices).plan);
      }),
    );
  });
});
