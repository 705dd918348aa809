// The small stateful pieces of the shell, without a server: the read-your-writes overlay, the
// last-valid pool catalog, once-per-appearance reporting, and the ingress list written.

import { describe, expect, test } from '@jest/globals';
import type { V1Service } from '@kubernetes/client-node';

import type { StatusChange } from '../src/allocate.js';
import { ingressFor } from '../src/allocator.js';
import { OncePerAppearance } from '../src/once-per-appearance.js';
import { ServiceOverlay } from '../src/overlay.js';
import { PoolCatalog } from '../src/pool-catalog.js';
import { poolObject, svc } from './fixtures.js';

const version = (name: string, rv: string, ingress: string[] = []): V1Service => svc(name, { resourceVersion: rv, ingress });
const ipsOf = (list: V1Service[]): Record<string, string[]> =>
  Object.fromEntries(list.map((s) => [`${s.metadata?.name}@${s.metadata?.resourceVersion}`, (s.status?.loadBalancer?.ingress ?? []).map((e) => e.ip ?? '')]));

describe('ServiceOverlay', () => {
  test('a written copy replaces the stale cached one until the cache delivers that version or a later change', () => {
    const o = new ServiceOverlay();
    const cached = [version('a', '10'), version('b', '11')];
    o.observe(undefined, cached); // listed: high water 11
    o.remember(version('a', '12', ['10.0.0.1']));
    expect(ipsOf(o.merge(cached))).toEqual({ 'a@12': ['10.0.0.1'], 'b@11': [] });
    o.observe(version('b', '13'), cached); // an unrelated change past 12: the cache has a@12 by now
    expect(o.size).toBe(0);
  });

  test('the cache delivering the very version retires the entry', () => {
    const o = new ServiceOverlay();
    o.remember(version('a', '5', ['10.0.0.1']));
    o.observe(version('a', '5', ['10.0.0.1']), []);
    expect(o.size).toBe(0);
  });

  test('a copy the cache does not have at all (a fresh list when leading starts) is planned with', () => {
    const o = new ServiceOverlay();
    o.seed([version('new', '20', ['10.0.0.7'])]);
    expect(ipsOf(o.merge([version('old', '3')]))).toEqual({ 'old@3': [], 'new@20': ['10.0.0.7'] });
  });

  test('a newer cached copy wins over an older remembered one; an older answer never replaces a newer entry', () => {
    const o = new ServiceOverlay();
    o.remember(version('a', '7', ['10.0.0.1']));
    o.remember(version('a', '6', ['10.0.0.9']));
    expect(ipsOf(o.merge([version('a', '8', ['10.0.0.2'])]))).toEqual({ 'a@8': ['10.0.0.2'] });
    expect(ipsOf(o.merge([version('a', '1')]))).toEqual({ 'a@7': ['10.0.0.1'] });
  });

  test('non-numeric resourceVersions: only an exact match retires', () => {
    const o = new ServiceOverlay();
    o.remember(version('a', 'xyz', ['10.0.0.1']));
    o.observe(version('b', 'zzz'), []);
    expect(o.size).toBe(1);
    o.observe(version('a', 'xyz'), []);
    expect(o.size).toBe(0);
  });
});

describe('PoolCatalog', () => {
  test('a pool turning invalid keeps its last valid version; one never valid is left out; deleting forgets', () => {
    const c = new PoolCatalog();
    expect(c.update([poolObject('a', { cidrs: ['10.0.0.0/30'] })]).pools.map((p) => p.name)).toEqual(['a']);
    const broken = c.update([poolObject('a', { cidrs: ['10.0.0.1/30'] }), poolObject('b', { cidrs: ['nope'] })]);
    expect(broken.pools.map((p) => [p.name, p.ranges.length])).toEqual([['a', 1]]);
    expect(broken.invalid.map((i) => [i.name, i.keptLastValid])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    expect(c.update([]).pools).toEqual([]);
    expect(c.update([poolObject('a', { cidrs: ['10.0.0.1/30'] })]).pools).toEqual([]); // the memory went with the delete
  });
});

describe('OncePerAppearance', () => {
  test('once while it lasts; again after it went away; everything again after reset', () => {
    const o = new OncePerAppearance<string>((s) => s);
    expect(o.fresh(['x', 'y', 'x'])).toEqual(['x', 'y']);
    expect(o.fresh(['x', 'y'])).toEqual([]);
    expect(o.fresh(['y'])).toEqual([]);
    expect(o.fresh(['x', 'y'])).toEqual(['x']);
    o.reset();
    expect(o.fresh(['x', 'y'])).toEqual(['x', 'y']);
  });
});

describe('ingressFor', () => {
  const change = (c: Partial<StatusChange>): StatusChange => ({ key: 'default/a', namespace: 'default', name: 'a', uid: 'u', resourceVersion: '1', role: 'ours', ips: [], assigned: undefined, released: [], ...c });
  test('ours: exactly the planned IPs, keeping an existing entry (ports, ipMode) as it is', () => {
    const s = svc('a');
    s.status = { loadBalancer: { ingress: [{ ip: '10.0.0.1', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP' }] }, { hostname: 'x.example' }] } };
    expect(ingressFor(s, change({ ips: ['10.0.0.1'] }))).toEqual([{ ip: '10.0.0.1', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP' }] }]);
    expect(ingressFor(s, change({ ips: ['10.0.0.2'] }))).toEqual([{ ip: '10.0.0.2' }]);
    expect(ingressFor(undefined, change({ ips: [] }))).toEqual([]);
  });
  test('releasable: only the released IPs go; hostnames and other IPs stay', () => {
    const s = svc('a', { type: 'ClusterIP', ingress: ['10.0.0.1', '192.168.1.1'] });
    s.status!.loadBalancer!.ingress!.push({ hostname: 'x.example' });
    expect(ingressFor(s, change({ role: 'releasable', released: ['10.0.0.1'] }))).toEqual([{ ip: '192.168.1.1' }, { hostname: 'x.example' }]);
  });
});
