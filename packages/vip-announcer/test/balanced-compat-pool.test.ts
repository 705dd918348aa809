// BalanceD's ip-pool annotation may name a CIDR: the VIP is announced with the communities of
// the VipPool that contains it (resolvePoolReference in @balanced/k8s).
import { describe, expect, test } from '@jest/globals';
import { cidrOwnership, parseCidr } from '@balanced/net';
import { planAnnouncements, readVipPools } from '../src/index.js';
import { service, slice, vipPool } from './k8s-objects.js';

describe("BalanceD's balanced.demonware.net/ip-pool", () => {
  test('a CIDR takes the communities of the pool that contains it', () => {
    const services = [service({ name: 'web', vips: ['10.96.100.10'], annotations: { 'balanced.demonware.net/ip-pool': '10.96.100.0/25' } })];
    const pools = readVipPools([vipPool('gold', ['10.96.100.0/24'], ['65000:100']), vipPool('a-wide', ['10.96.0.0/16'], ['1:1'])]).pools;
    const { plan } = planAnnouncements({
      services,
      endpointSlices: [slice({ service: 'web', endpoints: { '10.244.0.1': true } })],
      pools,
      ownsVip: cidrOwnership([parseCidr('10.96.100.0/24')]),
      defaultClass: false,
      controllerHealthy: true,
      lastGood: new Map(),
    });
    expect(plan.problems).toEqual([]);
    expect(plan.announced).toEqual([{ vip: '10.96.100.10', pool: 'a-wide', services: ['default/web'], communities: [{ asn: 1, value: 1 }] }]);
  });
});
