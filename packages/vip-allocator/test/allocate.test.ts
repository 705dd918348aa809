// The pure core on hand-written cases; allocate.property.test.ts checks its invariants.
import { describe, expect, test } from '@jest/globals';

import { allocate, type AllocationPlan } from '../src/allocate.js';
import type { VipPool } from '../src/pool.js';
import type { ServiceInput } from '../src/service-input.js';
import { input, pool, type SvcOptions } from './fixtures.js';

const DEFAULT = pool('default', { cidrs: ['10.0.0.0/30'] });

let clock = 0;
/** Services created one minute apart, in the order written. */
function s(name: string, o: SvcOptions = {}): ServiceInput {
  clock++;
  return input(name, { created: new Date(Date.UTC(2025, 0, 1, 0, clock)).toISOString().replace('.000', ''), ...o });
}

function ips(plan: AllocationPlan): Record<string, string> {
  return Object.fromEntries([...plan.assignments].map(([k, v]) => [k, v.ip]));
}

function run(services: ServiceInput[], pools: VipPool[] = [DEFAULT]): AllocationPlan {
  return allocate({ services, pools });
}

describe('allocate', () => {
  test('new Services get the lowest free addresses of the autoAssign pool, oldest first', () => {
    const plan = run([s('b'), s('a'), s('c')]);
    expect(ips(plan)).toEqual({ 'default/b': '10.0.0.0', 'default/a': '10.0.0.1', 'default/c': '10.0.0.2' });
    expect(plan.changes.map((c) => [c.key, c.ips, c.assigned?.pool])).toEqual([
      ['default/a', ['10.0.0.1'], 'default'],
      ['default/b', ['10.0.0.0'], 'default'],
      ['default/c', ['10.0.0.2'], 'default'],
    ]);
    expect(plan.usage).toEqual([{ pool: 'default', capacity: 4n, allocated: 3 }]);
  });

  test('held addresses are kept (no write), and never handed to anyone else', () => {
    const plan = run([s('new'), s('old', { ingress: ['10.0.0.0'] }), s('other', { ingress: ['10.0.0.2'] })]);
    expect(ips(plan)).toEqual({ 'default/new': '10.0.0.1', 'default/old': '10.0.0.0', 'default/other': '10.0.0.2' });
    expect(plan.changes.map((c) => c.key)).toEqual(['default/new']);
  });

  test('exhaustion: the youngest Services fail with PoolExhausted', () => {
    const plan = run([s('a'), s('b'), s('c'), s('d'), s('e')]);
    expect(Object.keys(ips(plan))).toHaveLength(4);
    expect(plan.failures).toEqual([expect.objectContaining({ key: 'default/e', reason: 'PoolExhausted', message: 'no free IPv4 address in VipPool default' })]);
  });

  test('avoidBuggyIPs skips .0 and .255', () => {
    const p = pool('p', { cidrs: ['10.0.0.254-10.0.1.2'], avoidBuggyIPs: true });
    expect(Object.values(ips(run([s('a'), s('b'), s('c'), s('d')], [p])))).toEqual(['10.0.0.254', '10.0.1.1', '10.0.1.2']);
  });

  test('ip-request: the first free requested address in a permitted pool; a held requested address is kept', () => {
    const plan = run([s('holder', { ingress: ['10.0.0.2'] }), s('asks', { annotations: { 'balanced.dev/ip-request': '10.0.0.2, 10.0.0.3' } }), s('lb', { loadBalancerIP: '10.0.0.1' })]);
    expect(ips(plan)).toEqual({ 'default/holder': '10.0.0.2', 'default/asks': '10.0.0.3', 'default/lb': '10.0.0.1' });
    const again = run([s('asks2', { annotations: { 'balanced.dev/ip-request': '10.0.0.0,10.0.0.3' }, ingress: ['10.0.0.3'] })]);
    expect(again.changes).toEqual([]); // 10.0.0.0 is free, but the held 10.0.0.3 is also requested: stable
  });

  test('an older Service picking automatically does not take the address a younger one requests (found by the property test)', () => {
    const plan = run([s('auto'), s('asks', { annotations: { 'balanced.dev/ip-request': '10.0.0.0' } })]);
    expect(ips(plan)).toEqual({ 'default/asks': '10.0.0.0', 'default/auto': '10.0.0.1' });
    expect(plan.failures).toEqual([]);
  });

  test('requested addresses that cannot be had: in use, outside the pools; nothing else is given instead', () => {
    const plan = run([
      s('holder', { ingress: ['10.0.0.2'] }),
      s('taken', { annotations: { 'balanced.dev/ip-request': '10.0.0.2' } }),
      s('outside', { loadBalancerIP: '192.168.0.1' }),
    ]);
    expect(plan.failures.map((f) => [f.key, f.reason])).toEqual([
      ['default/outside', 'RequestedIpUnavailable'],
      ['default/taken', 'RequestedIpInUse'],
    ]);
    expect(plan.failures[1]?.message).toContain('10.0.0.2 is in use by default/holder');
    expect(Object.keys(ips(plan))).toEqual(['default/holder']);
  });

  test('a requested address in a pool without autoAssign is handed out; automatic ones are not', () => {
    const reserved = pool('reserved', { cidrs: ['10.9.0.0/30'], autoAssign: false });
    const plan = run([s('asks', { loadBalancerIP: '10.9.0.1' }), s('auto')], [reserved]);
    expect(ips(plan)).toEqual({ 'default/asks': '10.9.0.1' });
    expect(plan.failures).toEqual([expect.objectContaining({ key: 'default/auto', reason: 'NoPool' })]);
  });

  test('pool choice: annotation, then matching serviceSelector, then autoAssign without selector', () => {
    const edge = pool('edge', { cidrs: ['10.1.0.0/30'], serviceSelector: { matchLabels: { tier: 'edge' } } });
    const named = pool('named', { cidrs: ['10.2.0.0/30'], autoAssign: false });
    const plan = run([s('plain'), s('edgy', { labels: { tier: 'edge' } }), s('named', { labels: { tier: 'edge' }, annotations: { 'balanced.dev/ip-pool': 'named' } })], [DEFAULT, edge, named]);
    expect(ips(plan)).toEqual({ 'default/plain': '10.0.0.0', 'default/edgy': '10.1.0.0', 'default/named': '10.2.0.0' });
    expect(plan.changes.map((c) => [c.key, c.assigned?.pool])).toEqual([['default/edgy', 'edge'], ['default/named', 'named'], ['default/plain', 'default']]);
  });

  test('a selector pool refuses Services it does not match, even when they request its addresses', () => {
    const edge = pool('edge', { cidrs: ['10.1.0.0/30'], serviceSelector: { matchLabels: { tier: 'edge' } } });
    const plan = run([s('core', { loadBalancerIP: '10.1.0.1' })], [edge]);
    expect(plan.failures).toEqual([expect.objectContaining({ reason: 'RequestedIpUnavailable', message: expect.stringContaining('10.1.0.1 is not in any VipPool this Service may use') })]);
  });

  test('a named pool that does not exist fails; the address held elsewhere is kept', () => {
    const plan = run([s('a', { annotations: { 'balanced.dev/ip-pool': 'nope' }, ingress: ['10.0.0.3'] })]);
    expect(plan.failures).toEqual([expect.objectContaining({ reason: 'PoolNotFound' })]);
    expect(plan.changes).toEqual([]);
    expect(ips(plan)).toEqual({ 'default/a': '10.0.0.3' });
  });

  test('moving to another pool: the new address is assigned, the old one released (and not reused this pass)', () => {
    const other = pool('other', { cidrs: ['10.5.0.0/30'], autoAssign: false });
    const plan = run([s('mover', { annotations: { 'balanced.dev/ip-pool': 'other' }, ingress: ['10.0.0.0'] }), s('newcomer')], [DEFAULT, other]);
    expect(plan.changes).toEqual([
      expect.objectContaining({ key: 'default/mover', ips: ['10.5.0.0'], released: ['10.0.0.0'], assigned: { ip: '10.5.0.0', pool: 'other' } }),
      expect.objectContaining({ key: 'default/newcomer', ips: ['10.0.0.1'] }),
    ]);
  });

  test('two Services with the same address in status: the older keeps it, the younger fails IpConflict and moves', () => {
    const plan = run([s('older', { ingress: ['10.0.0.1'] }), s('younger', { ingress: ['10.0.0.1'] })]);
    expect(ips(plan)).toEqual({ 'default/older': '10.0.0.1', 'default/younger': '10.0.0.0' });
    expect(plan.failures).toEqual([expect.objectContaining({ key: 'default/younger', reason: 'IpConflict', message: expect.stringContaining('default/older') })]);
  });

  test('same creationTimestamp: namespace/name decides', () => {
    const t = '2025-06-01T00:00:00Z';
    const plan = run([input('b', { created: t, ingress: ['10.0.0.1'] }), input('a', { created: t, ingress: ['10.0.0.1'] })]);
    expect(ips(plan)['default/a']).toBe('10.0.0.1');
  });

  test('type change or class no longer ours: our addresses are removed, other entries stay; foreign ones are never touched', () => {
    const plan = run([
      s('was-lb', { type: 'ClusterIP', ingress: ['10.0.0.1', '192.168.9.9'] }),
      s('foreign', { loadBalancerClass: 'example.com/x', ingress: ['10.0.0.2'] }),
      s('new'),
    ]);
    expect(plan.changes).toEqual([
      expect.objectContaining({ key: 'default/new', ips: ['10.0.0.0'] }),
      expect.objectContaining({ key: 'default/was-lb', role: 'releasable', ips: ['192.168.9.9'], released: ['10.0.0.1'] }),
    ]);
    // 10.0.0.1 is released this pass but handed out only from the next one; 10.0.0.2 stays foreign.
    const next = run([s('was-lb2', { type: 'ClusterIP' }), s('foreign2', { loadBalancerClass: 'example.com/x', ingress: ['10.0.0.2'] }), s('new2', { ingress: ['10.0.0.0'] }), s('newer')]);
    expect(ips(next)['default/newer']).toBe('10.0.0.1');
    expect(next.usage).toEqual([{ pool: 'default', capacity: 4n, allocated: 3 }]);
  });

  test('a pool deleted or unreadable: an address in use is kept (no write) and reported, never released or replaced', () => {
    const plan = run([s('a', { ingress: ['10.7.0.1'] }), s('new')]);
    expect(plan.changes).toEqual([expect.objectContaining({ key: 'default/new', ips: ['10.0.0.0'] })]);
    expect(ips(plan)).toEqual({ 'default/a': '10.7.0.1', 'default/new': '10.0.0.0' });
    expect(plan.outsidePools).toEqual([{ key: 'default/a', namespace: 'default', name: 'a', uid: 'uid-default-a', ip: '10.7.0.1' }]);
    expect(plan.failures).toEqual([]);
    const none = run([s('b', { ingress: ['10.7.0.1'] })], []);
    expect(none.changes).toEqual([]);
    expect(none.outsidePools.map((o) => o.ip)).toEqual(['10.7.0.1']);
    // the one named pool is gone (or invalid): PoolNotFound, and the address stays
    const named = run([s('c', { annotations: { 'balanced.dev/ip-pool': 'gold' }, ingress: ['10.7.0.2'] })]);
    expect(named.changes).toEqual([]);
    expect(named.failures).toEqual([expect.objectContaining({ reason: 'PoolNotFound' })]);
    expect(named.outsidePools.map((o) => o.ip)).toEqual(['10.7.0.2']);
  });

  test('an address outside every pool moves only when the Service asks for another (ip-request, or an existing ip-pool)', () => {
    const other = pool('other', { cidrs: ['10.5.0.0/30'], autoAssign: false });
    const plan = run(
      [
        s('asks', { annotations: { 'balanced.dev/ip-request': '10.0.0.2' }, ingress: ['10.7.0.1'] }),
        s('names', { annotations: { 'balanced.dev/ip-pool': 'other' }, ingress: ['10.7.0.2'] }),
        s('keeps', { annotations: { 'balanced.dev/ip-request': '10.7.0.3' }, ingress: ['10.7.0.3'] }),
      ],
      [DEFAULT, other],
    );
    expect(plan.changes).toEqual([
      expect.objectContaining({ key: 'default/asks', ips: ['10.0.0.2'], released: ['10.7.0.1'] }),
      expect.objectContaining({ key: 'default/names', ips: ['10.5.0.0'], released: ['10.7.0.2'] }),
    ]);
    expect(plan.outsidePools.map((o) => o.key)).toEqual(['default/keeps']);
  });

  test('two Services holding the same address outside every pool: the older keeps it, the younger fails IpConflict and moves', () => {
    const plan = run([s('older', { ingress: ['10.7.0.1'] }), s('younger', { ingress: ['10.7.0.1'] })]);
    expect(ips(plan)).toEqual({ 'default/older': '10.7.0.1', 'default/younger': '10.0.0.0' });
    expect(plan.failures).toEqual([expect.objectContaining({ key: 'default/younger', reason: 'IpConflict' })]);
  });

  test('a bad annotation keeps what is held and reports the problem', () => {
    const plan = run([s('a', { annotations: { 'balanced.dev/ip-request': 'ten' }, ingress: ['10.0.0.2'] }), s('b', { annotations: { 'balanced.dev/ip-request': 'ten' } })]);
    expect(plan.changes).toEqual([]);
    expect(plan.failures.map((f) => f.reason)).toEqual(['InvalidIpRequest', 'InvalidIpRequest']);
  });

  test('only one address per Service: extra entries are removed; hostname entries are dropped', () => {
    const plan = run([s('a', { ingress: ['10.0.0.1', '10.0.0.2'] })]);
    expect(plan.changes).toEqual([expect.objectContaining({ ips: ['10.0.0.1'], released: ['10.0.0.2'], assigned: undefined })]);
  });

  test('IPv6: a Service whose first family is IPv6 gets an IPv6 address', () => {
    const dual = pool('dual', { cidrs: ['10.0.0.0/30', 'fd00::/126'] });
    expect(ips(run([s('v4'), s('v6', { ipFamilies: ['IPv6'] })], [dual]))).toEqual({ 'default/v4': '10.0.0.0', 'default/v6': 'fd00::' });
  });

  test('a terminating Service keeps its address but gets no new one', () => {
    const plan = run([s('going', { terminating: true, ingress: ['10.0.0.0'] }), s('gone', { terminating: true }), s('new')]);
    expect(ips(plan)).toEqual({ 'default/going': '10.0.0.0', 'default/new': '10.0.0.1' });
    expect(plan.failures).toEqual([]);
  });
});
