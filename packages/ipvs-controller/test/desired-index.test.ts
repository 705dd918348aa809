import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { KubernetesObject, V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { serviceKeyString, type ServiceKey } from '@balanced/ipvs';
import type { Refusal } from '@balanced/k8s';
import { applyToModel, DesiredIndex, desiredSource, Reconciler, dumpModel, type DesiredService, type IpvsKernel, type ModelService } from '../src/index.js';

// A small universe so that events collide: Services sharing VIP:ports, slices moving between
// Services, pods shared by slices, annotations that become invalid and valid again.
const NAMESPACES = ['a', 'b'];
const SERVICES = ['s1', 's2', 's3'];
const VIPS = ['10.96.0.1', '10.96.0.2', '10.97.0.1'];
const IPS = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.10', '10.0.1.1'];
const ANNOTATIONS: Record<string, string>[] = [{}, {}, { 'balanced.dev/scheduler-flags': 'mh-port' }, { 'balanced.dev/scheduler': 'bogus' }];
const ownsVip = (ip: string): boolean => ip.startsWith('10.96.');

type Kind = 'services' | 'endpointslices' | 'pods';
type Step = { kind: Kind; put: KubernetesObject } | { kind: Kind; remove: KubernetesObject } | { kind: Kind; relist: true };

const service: fc.Arbitrary<V1Service> = fc
  .record({
    ns: fc.constantFrom(...NAMESPACES),
    name: fc.constantFrom(...SERVICES),
    annotations: fc.constantFrom(...ANNOTATIONS),
    created: fc.constantFrom('2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z'),
    vips: fc.subarray(VIPS, { minLength: 1 }),
    udp: fc.boolean(),
  })
  .map((s) => ({
    metadata: { namespace: s.ns, name: s.name, annotations: s.annotations, creationTimestamp: new Date(s.created) },
    spec: { type: 'LoadBalancer', loadBalancerClass: 'balanced.dev/ipvs', ports: [{ name: 'p', port: s.udp ? 53 : 80, protocol: s.udp ? 'UDP' : 'TCP' }] },
    status: { loadBalancer: { ingress: s.vips.map((ip) => ({ ip })) } },
  }));

const slice: fc.Arbitrary<V1EndpointSlice> = fc
  .record({
    ns: fc.constantFrom(...NAMESPACES),
    name: fc.constantFrom('e1', 'e2', 'e3', 'e4'),
    owner: fc.constantFrom(...SERVICES),
    udp: fc.boolean(),
    endpoints: fc.array(fc.record({ ip: fc.constantFrom(...IPS), ready: fc.boolean(), pod: fc.constantFrom('p1', 'p2', 'p3') }), { maxLength: 5 }),
  })
  .map((e) => ({
    metadata: { namespace: e.ns, name: e.name, labels: { 'kubernetes.io/service-name': e.owner } },
    addressType: 'IPv4',
    ports: [{ name: 'p', port: e.udp ? 53 : 80, protocol: e.udp ? 'UDP' : 'TCP' }],
    endpoints: e.endpoints.map((x) => ({ addresses: [x.ip], conditions: { ready: x.ready }, targetRef: { kind: 'Pod', namespace: e.ns, name: x.pod } })),
  }));

const pod: fc.Arbitrary<V1Pod> = fc
  .record({ ns: fc.constantFrom(...NAMESPACES), name: fc.constantFrom('p1', 'p2', 'p3'), grace: fc.constantFrom(0, 30, 90) })
  .map((p) => ({ metadata: { namespace: p.ns, name: p.name }, spec: { containers: [], terminationGracePeriodSeconds: p.grace } }));

const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: service.map((put): Step => ({ kind: 'services', put })), weight: 3 },
  { arbitrary: slice.map((put): Step => ({ kind: 'endpointslices', put })), weight: 5 },
  { arbitrary: pod.map((put): Step => ({ kind: 'pods', put })), weight: 1 },
  { arbitrary: fc.tuple(fc.constantFrom<Kind>('services', 'endpointslices', 'pods'), fc.oneof(service, slice, pod)).map(([kind, remove]): Step => ({ kind, remove })), weight: 2 },
  { arbitrary: fc.constantFrom<Kind>('services', 'endpointslices', 'pods').map((kind): Step => ({ kind, relist: true })), weight: 1 },
);

/** The informer caches: one object per namespace/name and kind. */
function cluster() {
  const kinds: Record<Kind, Map<string, KubernetesObject>> = { services: new Map(), endpointslices: new Map(), pods: new Map() };
  const id = (o: KubernetesObject) => `${o.metadata?.namespace}/${o.metadata?.name}`;
  return {
    snapshot: {
      services: () => [...kinds.services.values()] as V1Service[],
      endpointSlices: () => [...kinds.endpointslices.values()] as V1EndpointSlice[],
      pods: () => [...kinds.pods.values()] as V1Pod[],
    },
    /** Apply a step to the caches; returns what the informer would report. */
    apply(s: Step): { kind: Kind; change?: { type: 'add' | 'update' | 'delete'; object: KubernetesObject } } {
      const map = kinds[s.kind];
      if ('relist' in s) return { kind: s.kind };
      if ('put' in s) {
        const existed = map.has(id(s.put));
        map.set(id(s.put), s.put);
        return { kind: s.kind, change: { type: existed ? 'update' : 'add', object: s.put } };
      }
      const had = map.get(id(s.remove));
      if (had === undefined) return { kind: s.kind };
      map.delete(id(s.remove));
      return { kind: s.kind, change: { type: 'delete', object: had } };
    },
  };
}

const byId = (list: Iterable<DesiredService>) => new Map([...list].map((d) => [serviceKeyString(d.spec.key), JSON.stringify(d)]));
const refusalIds = (list: readonly Refusal[]) => [...new Set(list.map((r) => JSON.stringify(r)))].sort();

describe('DesiredIndex', () => {
  it('after any event history it holds what a rebuild of the whole cache gives, and reports every change', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), (steps, snapshotAt) => {
        const c = cluster();
        let incrementalRefusals: readonly Refusal[] = [];
        let wholeRefusals: readonly Refusal[] = [];
        const index = new DesiredIndex({ cluster: c.snapshot, ownsVip, defaultClass: false, defaultDrainSeconds: 30, onRefusals: (r) => (incrementalRefusals = r) });
        const whole = desiredSource({ cluster: c.snapshot, ownsVip, defaultClass: false, defaultDrainSeconds: 30, onRefusals: (r) => (wholeRefusals = r) });
        let previous = new Map<string, string>();
        steps.forEach((s, i) => {
          const { kind, change } = c.apply(s);
          index.observe(kind, change);
          if (!snapshotAt[i] && i !== steps.length - 1) return;
          const snap = index.snapshot();
          const expected = whole();
          const now = byId(snap.services.values());
          expect(now).toEqual(byId(expected));
          expect(refusalIds(incrementalRefusals)).toEqual(refusalIds(wholeRefusals));
          expect([...snap.vips]).toEqual([...new Set(expected.map((d) => (d.spec.key as { address: string }).address))].sort());
          if (snap.changed !== 'all') {
            for (const k of new Set([...now.keys(), ...previous.keys()])) {
              if (now.get(k) !== previous.get(k)) expect(snap.changed.has(k)).toBe(true);
            }
          }
          previous = now;
        });
      }),
      { numRuns: 300 },
    );
  });

  it('the generator is not vacuous: conflicts, kept states and several services happen', () => {
    const seen = new Set<string>();
    for (const steps of fc.sample(fc.array(step, { minLength: 10, maxLength: 40 }), { numRuns: 200, seed: 7 })) {
      const c = cluster();
      let refusals: readonly Refusal[] = [];
      const index = new DesiredIndex({ cluster: c.snapshot, ownsVip, defaultClass: false, defaultDrainSeconds: 30, onRefusals: (r) => (refusals = r) });
      for (const s of steps) {
        const { kind, change } = c.apply(s);
        index.observe(kind, change);
        const snap = index.snapshot();
        for (const r of refusals) seen.add(r.reason);
        if (snap.services.size >= 2) seen.add('several');
        if ([...snap.services.values()].some((d) => d.destinations.length >= 2)) seen.add('destinations');
      }
    }
    for (const r of ['VipPortConflict', 'InvalidScheduler', 'VipNotOwned', 'several', 'destinations']) expect(seen).toContain(r);
  });
});

/** The pure kernel model behind the IpvsKernel seam. */
function modelKernel() {
  let state: ModelService[] = [];
  const kernel: IpvsKernel = {
    dump: async () => dumpModel(state),
    read: async (keys) => {
      const ids = new Set(keys.map((k) => serviceKeyString(k)));
      return dumpModel(state).filter((s) => ids.has(serviceKeyString(s.service.key)));
    },
    apply: async (ops) => {
      state = applyToModel(state, ops);
      return ops.map(() => ({ ok: true as const }));
    },
  };
  return { kernel, state: () => state };
}

const tables = (state: readonly ModelService[]) =>
  new Map(state.map((s) => [serviceKeyString(s.service.key), JSON.stringify([s.service.scheduler, s.service.flags, s.destinations.map((d) => [d.address, d.port, d.weight, d.lastWeight])])]));

describe('Reconciler on DesiredIndex snapshots', () => {
  it('event-driven passes on the cached view end with the table a fresh director builds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), fc.constantFrom(1, 2, 1000), async (steps, chunkServices) => {
        const c = cluster();
        const index = new DesiredIndex({ cluster: c.snapshot, ownsVip, defaultClass: false, defaultDrainSeconds: 0 });
        const k = modelKernel();
        let now = 0;
        const owns = (key: ServiceKey): boolean => 'address' in key && ownsVip(key.address);
        const live = new Reconciler({ kernel: k.kernel, owns, defaultDrainSeconds: 0, now: () => now, chunkServices });
        for (const s of steps) {
          const { kind, change } = c.apply(s);
          index.observe(kind, change);
          const report = await live.reconcile(index.snapshot());
          expect(report.failed).toEqual([]);
          now += 1000;
        }
        // Drains end (drain period 0 for unannotated, pods' grace at most 90 s): poll until quiet.
        for (let i = 0; i < 3; i++) {
          now += 100_000;
          await live.reconcile(index.snapshot(), { refreshDraining: true });
        }
        // (The same desired state: a fresh director without this history would not keep a
        // Service's last good state through an annotation error.)
        const fresh = modelKernel();
        await new Reconciler({ kernel: fresh.kernel, owns, defaultDrainSeconds: 0, now: () => now }).reconcile([...index.snapshot().services.values()]);
        expect(tables(k.state())).toEqual(tables(fresh.state()));
      }),
      { numRuns: 200 },
    );
  });
});
