import { describe, expect, test } from '@jest/globals';

import { describeService } from '../src/service-input.js';
import { input, svc } from './fixtures.js';

describe('describeService', () => {
  test('roles: our class, no class with or without --default-class, another class, not a LoadBalancer', () => {
    expect(input('a').role).toBe('ours');
    expect(input('b', { loadBalancerClass: null }).role).toBe('releasable');
    expect(input('b', { loadBalancerClass: null }, { defaultClass: true }).role).toBe('ours');
    expect(input('c', { loadBalancerClass: 'example.com/other' }).role).toBe('foreign');
    expect(input('c', { loadBalancerClass: 'example.com/other' }, { defaultClass: true }).role).toBe('foreign');
    expect(input('d', { type: 'ClusterIP', loadBalancerClass: null }).role).toBe('releasable');
    expect(input('e', { type: 'NodePort' }).role).toBe('releasable');
  });

  test('requests: ip-request in order, then spec.loadBalancerIP, canonical and without repeats', () => {
    const s = input('a', { annotations: { 'balanced.dev/ip-request': '10.0.0.9, FD00::0A,10.0.0.3' }, loadBalancerIP: '10.0.0.3' });
    expect(s.requests).toEqual(['10.0.0.9', 'fd00::a', '10.0.0.3']);
    expect(input('b', { loadBalancerIP: '10.0.0.4' }).requests).toEqual(['10.0.0.4']);
    expect(s.problems).toEqual([]);
  });

  test("BalanceD's keys are aliases; a disagreement is a problem", () => {
    const alias = input('a', { annotations: { 'balanced.demonware.net/ip-pool': 'edge', 'balanced.demonware.net/ip-request': '10.0.0.1' } });
    expect(alias).toMatchObject({ pool: 'edge', requests: ['10.0.0.1'], problems: [] });
    const clash = input('b', { annotations: { 'balanced.dev/ip-pool': 'edge', 'balanced.demonware.net/ip-pool': 'core' } });
    expect(clash.problems).toEqual([expect.objectContaining({ reason: 'ConflictingAnnotations' })]);
  });

  test('bad allocation annotations and loadBalancerIP are problems; other bad annotations are not ours to judge', () => {
    expect(input('a', { annotations: { 'balanced.dev/ip-request': '10.0.0.300' } }).problems).toEqual([expect.objectContaining({ reason: 'InvalidIpRequest' })]);
    expect(input('b', { annotations: { 'balanced.dev/ip-pool': 'Not A Name' } }).problems).toEqual([expect.objectContaining({ reason: 'InvalidIpPool' })]);
    expect(input('c', { loadBalancerIP: 'ten' }).problems).toEqual([expect.objectContaining({ reason: 'InvalidLoadBalancerIP' })]);
    expect(input('d', { annotations: { 'balanced.dev/scheduler': 'nonsense', 'balanced.dev/ip-pool': 'edge' } })).toMatchObject({ pool: 'edge', problems: [] });
  });

  test('status, family, age and termination are read from typed models and plain JSON alike', () => {
    const typed = svc('a', { ingress: ['10.0.0.1', 'FD00::1'], ipFamilies: ['IPv6', 'IPv4'] });
    typed.metadata!.creationTimestamp = new Date('2025-03-01T00:00:00Z');
    const s = describeService(typed, { defaultClass: false });
    expect(s).toMatchObject({ ingress: ['10.0.0.1', 'fd00::1'], family: 6, createdAt: Date.parse('2025-03-01T00:00:00Z'), terminating: false });
    const json = JSON.parse(JSON.stringify(svc('b', { terminating: true }))) as unknown;
    expect(describeService(json as never, { defaultClass: false })).toMatchObject({ family: 4, createdAt: Date.parse('2025-01-01T00:00:00Z'), terminating: true });
    const hostname = svc('c');
    hostname.status = { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }, { ip: 'nonsense' }] } };
    expect(describeService(hostname, { defaultClass: false }).ingress).toEqual(['', 'nonsense']);
  });

  test('garbage never throws', () => {
    for (const junk of [null, undefined, 7, 'x', [], { metadata: 5, spec: [] }, { status: { loadBalancer: { ingress: 'x' } } }]) {
      expect(() => describeService(junk as never, { defaultClass: true })).not.toThrow();
    }
  });
});
