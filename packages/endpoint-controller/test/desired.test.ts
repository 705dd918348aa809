import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { desiredPods, type DesiredInput } from '../src/index.js';
import { cidrOwnership } from '@balanced/k8s';
import { NODE, pod, service, slice } from './fixtures.js';

const owns = cidrOwnership(['10.96.0.0/24']);
const input = (pods: V1Pod[], services: V1Service[], endpointSlices: V1EndpointSlice[], defaultClass = false): DesiredInput => ({
  nodeName: NODE,
  pods,
  services,
  endpointSlices,
  ownsVip: owns,
  defaultClass,
});
const vipsOf = (d: ReturnType<typeof desiredPods>) => Object.fromEntries([...d.pods.values()].map((p) => [p.name, p.vips]));

describe('desiredPods', () => {
  test('a pod backs a Service when an endpoint of its slices targets it (uid, else namespace/name); ready or not, terminating or not', () => {
    const d = desiredPods(
      input(
        [pod('a', 'ua', '10.244.0.2'), pod('b', 'ub', '10.244.0.3'), pod('c', 'uc', '10.244.0.4'), pod('idle', 'ui', '10.244.0.9')],
        [service('web', ['10.96.0.11', '10.96.0.10']), service('api', ['10.96.0.20'])],
        [
          slice('web-1', 'web', [
            { address: '10.244.0.2', pod: 'a', uid: 'ua' },
            { address: '10.244.0.3', pod: 'b', ready: false, serving: true, terminating: true },
          ]),
          slice('api-1', 'api', [
            { address: '10.244.0.2', pod: 'a', uid: 'ua' },
            { address: '10.244.0.4', pod: 'c', ready: false, serving: false },
          ]),
        ],
      ),
    );
    expect(vipsOf(d)).toEqual({ a: ['10.96.0.10', '10.96.0.11', '10.96.0.20'], b: ['10.96.0.10', '10.96.0.11'], c: ['10.96.0.20'], idle: [] });
    expect(d.pods.get('ua')).toMatchObject({ namespace: 'shop', name: 'a', uid: 'ua', podIP: '10.244.0.2', services: ['shop/api', 'shop/web'] });
    expect(d.skipped).toEqual([]);
  });

  test('only owned IPv4 ingress IPs of our Services count', () => {
    const pods = [pod('a', 'ua', '10.244.0.2')];
    const ep = (svc: string) => slice(`${svc}-1`, svc, [{ address: '10.244.0.2', pod: 'a', uid: 'ua' }]);
    const d = desiredPods(
      input(
        pods,
        [
          service('mixed', ['10.96.0.10', '192.0.2.1', 'fd96::1', 'not-an-ip', '10.96.0.10']),
          service('other-class', ['10.96.0.30'], { cls: 'example.com/lb' }),
          service('no-class', ['10.96.0.31'], { cls: null }),
          service('cluster-ip', ['10.96.0.32'], { type: 'ClusterIP' }),
        ],
        [ep('mixed'), ep('other-class'), ep('no-class'), ep('cluster-ip')],
      ),
    );
    expect(vipsOf(d)).toEqual({ a: ['10.96.0.10'] });
    const withDefault = desiredPods({ ...input(pods, [service('no-class', ['10.96.0.31'], { cls: null })], [ep('no-class')]), defaultClass: true });
    expect(vipsOf(withDefault)).toEqual({ a: ['10.96.0.31'] });
  });

  test('targetRef matching: uid wins over name, other kinds and other namespaces do not match, IPv6 slices are ignored', () => {
    const d = desiredPods(
      input(
        [pod('a', 'ua-new', '10.244.0.2'), pod('b', 'ub', '10.244.0.3'), pod('c', 'uc', '10.244.0.4')],
        [service('web', ['10.96.0.10'])],
        [
          slice('web-1', 'web', [
            { address: '10.244.0.2', pod: 'a', uid: 'ua-old' }, // the pod that was replaced
            { address: '10.244.0.3', pod: 'b', kind: 'Node' },
            { address: '10.244.0.4', pod: 'c', namespace: 'elsewhere' },
          ]),
          slice('web-2', 'web', [{ address: 'fd00::3', pod: 'b', uid: 'ub' }], { addressType: 'IPv6' }),
        ],
      ),
    );
    expect(vipsOf(d)).toEqual({ a: [], b: [], c: [] });
  });

  test('hostNetwork and opted-out pods are left alone (reported when they back a Service); an invalid opt-out is reported always', () => {
    const d = desiredPods(
      input(
        [
          pod('host', 'uh', '192.168.0.5', { hostNetwork: true }),
          pod('quiet', 'uq', '10.244.0.5', { annotations: { 'balanced.dev/tunnel-ignore': 'true' } }),
          pod('legacy', 'ul', '10.244.0.6', { annotations: { 'balanced.demonware.net/tunnel-ignore': 'TRUE' } }),
          pod('typo', 'ut', '10.244.0.7', { annotations: { 'balanced.dev/tunnel-ignore': 'yes' } }),
          pod('explicit-no', 'un', '10.244.0.8', { annotations: { 'balanced.dev/tunnel-ignore': 'false' } }),
          pod('host-idle', 'ui', '192.168.0.5', { hostNetwork: true }),
        ],
        [service('web', ['10.96.0.10'])],
        [
          slice('web-1', 'web', [
            { address: '192.168.0.5', pod: 'host' },
            { address: '10.244.0.5', pod: 'quiet' },
            { address: '10.244.0.6', pod: 'legacy' },
            { address: '10.244.0.8', pod: 'explicit-no' },
          ]),
        ],
      ),
    );
    expect(vipsOf(d)).toEqual({ 'explicit-no': ['10.96.0.10'] });
    expect(d.skipped.map((s) => [s.pod.name, s.reason])).toEqual([
      ['host', 'HostNetwork'],
      ['legacy', 'TunnelIgnore'],
      ['quiet', 'TunnelIgnore'],
      ['typo', 'InvalidTunnelIgnore'],
    ]);
    expect(d.skipped[3]?.message).toContain('"yes" is not a boolean');
  });

  test("BalanceD's legacy opt-out key ipvs-tunnel-controller.demonware.net/ignore leaves a pod alone, whatever its value (as BalanceD read it)", () => {
    const d = desiredPods(
      input(
        [
          pod('old-true', 'u1', '10.244.0.5', { annotations: { 'ipvs-tunnel-controller.demonware.net/ignore': 'true' } }),
          pod('old-empty', 'u2', '10.244.0.6', { annotations: { 'ipvs-tunnel-controller.demonware.net/ignore': '' } }),
          pod('served', 'u3', '10.244.0.7'),
        ],
        [service('web', ['10.96.0.10'])],
        [slice('web-1', 'web', ['old-true', 'old-empty', 'served'].map((p, i) => ({ address: `10.244.0.${i + 5}`, pod: p })))],
      ),
    );
    expect(vipsOf(d)).toEqual({ served: ['10.96.0.10'] });
    expect(d.skipped.map((s) => [s.pod.name, s.reason])).toEqual([
      ['old-empty', 'TunnelIgnore'],
      ['old-true', 'TunnelIgnore'],
    ]);
    expect(d.skipped[0]?.message).toContain('ipvs-tunnel-controller.demonware.net/ignore');
  });

  test('pods of other nodes, finished pods and pods without an IPv4 address are not programmed', () => {
    const d = desiredPods(
      input(
        [
          pod('elsewhere', 'u1', '10.244.1.2', { node: 'node-b' }),
          pod('done', 'u2', '10.244.0.2', { phase: 'Succeeded' }),
          pod('failed', 'u3', '10.244.0.3', { phase: 'Failed' }),
          pod('pending', 'u4', undefined, { phase: 'Pending' }),
          pod('v6', 'u5', 'fd00::5'),
          pod('starting', 'u6', '10.244.0.6', { phase: 'Pending' }),
        ],
        [service('web', ['10.96.0.10'])],
        [slice('web-1', 'web', ['elsewhere', 'done', 'failed', 'starting'].map((p, i) => ({ address: `10.244.0.${i + 2}`, pod: p })))],
      ),
    );
    expect(vipsOf(d)).toEqual({ starting: ['10.96.0.10'] });
  });

  test('malformed objects never throw', () => {
    const junk = [null, 1, 'x', [], {}, { metadata: null }, { metadata: { name: 5 } }, { spec: 'no' }, { status: { podIPs: 'x' } }] as unknown as V1Pod[];
    expect(() =>
      desiredPods(input(junk, junk as unknown as V1Service[], [...junk, { addressType: 'IPv4', endpoints: [null, { targetRef: 'x' }] }] as unknown as V1EndpointSlice[])),
    ).not.toThrow();
  });
});

describe('desiredPods properties', () => {
  const PODS = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];
  const arbPod = fc.record({
    name: fc.constantFrom(...PODS),
    node: fc.constantFrom(NODE, NODE, 'node-b'),
    hostNetwork: fc.constantFrom(false, false, false, false, true),
    ignore: fc.constantFrom(undefined, undefined, undefined, 'true', 'false', 'maybe'),
    phase: fc.constantFrom('Running', 'Running', 'Pending', 'Succeeded'),
  });
  const arbWorld = fc.record({
    pods: fc.uniqueArray(arbPod, { selector: (p) => p.name, maxLength: PODS.length }),
    services: fc.array(
      fc.record({
        name: fc.constantFrom('s0', 's1', 's2'),
        vips: fc.array(fc.constantFrom('10.96.0.1', '10.96.0.2', '10.96.0.3', '192.0.2.9', 'fd96::1'), { maxLength: 3 }),
        cls: fc.constantFrom<string | null>('balanced.dev/ipvs', 'balanced.dev/ipvs', 'other', null),
      }),
      { maxLength: 4 },
    ),
    slices: fc.array(
      fc.record({
        service: fc.constantFrom('s0', 's1', 's2'),
        targets: fc.array(fc.record({ pod: fc.constantFrom(...PODS), byUid: fc.boolean() }), { maxLength: 5 }),
      }),
      { maxLength: 4 },
    ),
  });
  type World = typeof arbWorld extends fc.Arbitrary<infer T> ? T : never;

  const toInput = (w: World): DesiredInput =>
    input(
      w.pods.map((p) =>
        pod(p.name, `uid-${p.name}`, `10.244.0.${PODS.indexOf(p.name) + 2}`, {
          node: p.node,
          hostNetwork: p.hostNetwork,
          phase: p.phase,
          ...(p.ignore !== undefined ? { annotations: { 'balanced.dev/tunnel-ignore': p.ignore } } : {}),
        }),
      ),
      w.services.map((s) => service(s.name, s.vips, { cls: s.cls })),
      w.slices.map((s, i) => slice(`sl-${i}`, s.service, s.targets.map((t) => ({ address: '10.244.9.9', pod: t.pod, ...(t.byUid ? { uid: `uid-${t.pod}` } : {}) })))),
    );

  test('the result does not depend on the order of the objects', () => {
    fc.assert(
      fc.property(arbWorld, fc.nat(), (w, seed) => {
        const base = toInput(w);
        // the same pods listed twice with other content (malformed input) must resolve the same way too
        const a = { ...base, pods: [...base.pods, ...base.pods.map((p) => ({ ...p, status: { ...p.status, podIP: '10.244.7.7', podIPs: [{ ip: '10.244.7.7' }] } }))] };
        const shuffle = <T>(xs: readonly T[]): T[] => [...xs].map((x, i) => ({ x, k: (i * 7919 + seed) % 104729 })).sort((p, q) => p.k - q.k).map((p) => p.x);
        const b = { ...a, pods: shuffle(a.pods), services: shuffle(a.services), endpointSlices: shuffle(a.endpointSlices) };
        const x = desiredPods(a);
        const y = desiredPods(b);
        expect([...y.pods.entries()]).toEqual([...x.pods.entries()]);
        expect(y.skipped).toEqual(x.skipped);
      }),
    );
  });

  test('every VIP is owned, IPv4, and comes from a Service of ours whose slice targets that pod; left-alone pods never appear', () => {
    fc.assert(
      fc.property(arbWorld, (w) => {
        const d = desiredPods(toInput(w));
        for (const t of d.pods.values()) {
          const p = w.pods.find((q) => `uid-${q.name}` === t.uid);
          expect(p).toBeDefined();
          expect(p?.node).toBe(NODE);
          expect(p?.hostNetwork).toBe(false);
          expect(p?.phase).not.toBe('Succeeded');
          expect(p?.ignore === undefined || p.ignore === 'false').toBe(true);
          for (const vip of t.vips) {
            expect(owns(vip)).toBe(true);
            const backing = w.slices.some(
              (s) =>
                s.targets.some((x) => x.pod === p?.name) &&
                w.services.some((svc) => svc.name === s.service && svc.cls === 'balanced.dev/ipvs' && (svc.vips as readonly string[]).includes(vip)),
            );
            expect(backing).toBe(true);
          }
          expect(new Set(t.vips).size).toBe(t.vips.length);
        }
      }),
    );
  });
});
