// The informer caches keep only what resolverTransforms projects (src/cache-fields.ts). The
// builder must see no difference: on any world (well-formed or malformed the way an API server
// can send it), with the clutter a real API server adds, buildResolverState gives the same
// DesiredState on projected objects as on whole ones. A field the builder starts reading that
// the projection drops fails here.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { KubernetesObject, V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { bp, lrp } from '@balanced/testkit';
import { resolverPodsWithEvents, resolverTransforms } from '../src/cache-fields.js';
import { buildResolverState, type ResolverInput } from '../src/desired/index.js';
import type { DesiredState } from '../src/model.js';
import { node, service, slice } from './desired-fixtures.js';
import { worldArb } from './desired-world-arbitrary.js';
import { pod, policyNode } from './policy-fixtures.js';

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** metadata as an API server returns it: identity, managedFields, labels, annotations (only where metadata is a record). */
function clutterMetadata(md: unknown, kind: 'service' | 'slice' | 'node' | 'pod' | 'policy'): unknown {
  if (!isPlain(md)) return md;
  const labels = isPlain(md.labels) ? md.labels : md.labels === undefined ? {} : undefined;
  const annotations = isPlain(md.annotations) ? md.annotations : md.annotations === undefined ? {} : undefined;
  return {
    uid: '5f0c8c2e-0000-4000-8000-000000000001',
    resourceVersion: '4242',
    generation: 3,
    selfLink: '/api/v1/whatever',
    finalizers: ['service.kubernetes.io/load-balancer-cleanup'],
    ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'x', uid: 'y', controller: true }],
    ...md,
    managedFields: [
      { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1', time: '2024-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:ports': {} } } },
    ],
    ...(labels === undefined
      ? {}
      : {
          labels: {
            app: 'web',
            'app.kubernetes.io/managed-by': 'Helm',
            ...(kind === 'slice' ? { 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } : {}),
            ...(kind === 'node' ? { 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/worker': '' } : {}),
            ...(kind === 'pod' ? { 'pod-template-hash': '5d4f8c7b9' } : {}),
            // The object's own labels win: selectors (policies') read them.
            ...labels,
          },
        }),
    ...(annotations === undefined
      ? {}
      : {
          annotations: {
            ...annotations,
            [LAST_APPLIED]: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: md, spec: { ports: [{ port: 80 }] } }).repeat(5),
            'metallb.universe.tf/address-pool': 'default',
            'endpoints.kubernetes.io/last-change-trigger-time': '2024-01-01T00:00:00Z',
            ...(kind === 'node' ? { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' } : {}),
          },
        }),
  };
}

/**
 * What a real API server adds that the builder never reads, only where the object is well
 * formed (a malformed part stays as generated), and never a field the builder reads.
 */
function clutterService(o: unknown): unknown {
  if (!isPlain(o)) return o;
  const out: Record<string, unknown> = { apiVersion: 'v1', kind: 'Service', ...o, metadata: clutterMetadata(o.metadata, 'service'), unknownTopLevel: { x: [1, 2] } };
  if (isPlain(o.spec)) {
    out.spec = {
      ...o.spec,
      ipFamilyPolicy: 'SingleStack',
      allocateLoadBalancerNodePorts: true,
      loadBalancerSourceRanges: ['0.0.0.0/0'],
      publishNotReadyAddresses: false,
      trafficDistribution: 'PreferClose',
      healthCheckNodePort: 31000,
      someFutureField: { enabled: true },
    };
  }
  if (o.status === undefined) out.status = { conditions: [{ type: 'Ready', status: 'True' }] };
  else if (isPlain(o.status)) {
    const lb = o.status.loadBalancer;
    out.status = {
      ...o.status,
      conditions: [{ type: 'LoadBalancerReady', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z', reason: 'Ok', message: '' }],
      ...(isPlain(lb) && Array.isArray(lb.ingress)
        ? { loadBalancer: { ...lb, ingress: lb.ingress.map((i: unknown) => (isPlain(i) ? { hostname: 'lb.example.com', ports: [{ port: 80, protocol: 'TCP' }], ...i } : i)) } }
        : {}),
    };
  }
  return out;
}

function clutterSlice(o: unknown): unknown {
  if (!isPlain(o)) return o;
  const out: Record<string, unknown> = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', ...o, metadata: clutterMetadata(o.metadata, 'slice'), unknownTopLevel: 'x' };
  if (Array.isArray(o.ports)) out.ports = o.ports.map((p: unknown) => (isPlain(p) ? { appProtocol: 'http', ...p } : p));
  if (Array.isArray(o.endpoints)) {
    out.endpoints = o.endpoints.map((e: unknown) =>
      isPlain(e)
        ? {
            ...e,
            hostname: 'web-0',
            zone: 'zone-a',
            hints: { forZones: [{ name: 'zone-a' }] },
            targetRef: { kind: 'Pod', namespace: 'a', name: 'web-0', uid: 'q', resourceVersion: '7' },
            deprecatedTopology: { 'kubernetes.io/hostname': 'n1' },
            ...(isPlain(e.conditions) ? { conditions: { ...e.conditions, somethingNew: true } } : {}),
          }
        : e,
    );
  }
  return out;
}

function clutterNode(o: unknown): unknown {
  if (!isPlain(o)) return o;
  const out: Record<string, unknown> = { apiVersion: 'v1', kind: 'Node', ...o, metadata: clutterMetadata(o.metadata, 'node'), spec: { podCIDR: '10.244.1.0/24', taints: [{ key: 'k', effect: 'NoSchedule' }] } };
  const status = o.status === undefined ? {} : o.status;
  if (isPlain(status)) {
    out.status = {
      ...status,
      capacity: { cpu: '4', memory: '16Gi' },
      conditions: [{ type: 'Ready', status: 'True' }],
      nodeInfo: { kubeletVersion: 'v1.31.0', kernelVersion: '6.1.0' },
      images: [{ names: ['registry.k8s.io/pause:3.9'], sizeBytes: 1 }],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    };
  }
  return out;
}

function clutterPod(o: unknown): unknown {
  if (!isPlain(o)) return o;
  const out: Record<string, unknown> = { apiVersion: 'v1', kind: 'Pod', ...o, metadata: clutterMetadata(o.metadata, 'pod') };
  if (isPlain(o.spec)) {
    const containers = Array.isArray(o.spec.containers)
      ? o.spec.containers.map((c: unknown) =>
          isPlain(c)
            ? {
                name: 'c',
                image: 'registry.k8s.io/dns/k8s-dns-node-cache:1.23.0',
                env: [{ name: 'X', value: 'y' }],
                resources: { requests: { cpu: '25m' } },
                ...c,
                ...(Array.isArray(c.ports) ? { ports: c.ports.map((p: unknown) => (isPlain(p) ? { hostIP: '0.0.0.0', ...p } : p)) } : {}),
              }
            : c,
        )
      : o.spec.containers;
    out.spec = { ...o.spec, containers, volumes: [{ name: 'v', emptyDir: {} }], serviceAccountName: 'default', tolerations: [{ operator: 'Exists' }], priority: 0 };
  }
  if (isPlain(o.status)) {
    out.status = {
      ...o.status,
      phase: 'Running',
      qosClass: 'Burstable',
      startTime: '2024-01-01T00:00:00Z',
      containerStatuses: [{ name: 'c', containerID: 'containerd://abc', image: 'x', imageID: 'y', ready: true, restartCount: 0, state: { running: {} } }],
      ...(Array.isArray(o.status.conditions) ? { conditions: o.status.conditions.map((c: unknown) => (isPlain(c) ? { lastTransitionTime: '2024-01-01T00:00:00Z', lastProbeTime: null, ...c } : c)) } : {}),
    };
  }
  return out;
}

function clutterPolicy(o: unknown): unknown {
  if (!isPlain(o)) return o;
  return { ...o, metadata: clutterMetadata(o.metadata, 'policy'), status: { observedGeneration: 3, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '', lastTransitionTime: '2024-01-01T00:00:00Z' }] } };
}

function cluttered(w: ResolverInput): ResolverInput {
  return {
    ...w,
    services: w.services.map((s) => clutterService(s) as V1Service),
    endpointSlices: w.endpointSlices.map((s) => clutterSlice(s) as V1EndpointSlice),
    nodes: w.nodes.map((n) => clutterNode(n) as V1Node),
    ...(w.pods === undefined ? {} : { pods: w.pods.map((p) => clutterPod(p) as V1Pod) }),
    ...(w.localRedirectPolicies === undefined ? {} : { localRedirectPolicies: w.localRedirectPolicies.map(clutterPolicy) }),
    ...(w.balancingPolicies === undefined ? {} : { balancingPolicies: w.balancingPolicies.map(clutterPolicy) }),
  };
}

function projected(w: ResolverInput, pods = resolverTransforms.pods): ResolverInput {
  const t = resolverTransforms;
  return {
    ...w,
    services: w.services.map((s) => t.services(s as KubernetesObject) as V1Service),
    endpointSlices: w.endpointSlices.map((s) => t.endpointslices(s as KubernetesObject) as V1EndpointSlice),
    nodes: w.nodes.map((n) => t.nodes(n as KubernetesObject) as V1Node),
    ...(w.pods === undefined ? {} : { pods: w.pods.map((p) => pods(p as KubernetesObject) as V1Pod) }),
    ...(w.localRedirectPolicies === undefined ? {} : { localRedirectPolicies: w.localRedirectPolicies.map((p) => t.localredirectpolicies(p as KubernetesObject)) }),
    ...(w.balancingPolicies === undefined ? {} : { balancingPolicies: w.balancingPolicies.map((p) => t.balancingpolicies(p as KubernetesObject)) }),
  };
}

/** The whole DesiredState, services in their Map order. */
const plainState = (d: DesiredState) => ({ services: [...d.services.entries()], frontends: d.frontends, refusals: d.refusals });

describe('resolverTransforms', () => {
  for (const corrupt of [false, true]) {
    it(`the builder gives the same DesiredState on projected objects as on whole ones (${corrupt ? 'malformed' : 'well-formed'} worlds, with API-server clutter)`, () => {
      // Malformed the way an API server (or a broken cache) can send it: any JSON value in any field.
      fc.assert(
        fc.property(worldArb(corrupt, fc.jsonValue()), (w) => {
          const whole = cluttered(w);
          expect(plainState(buildResolverState(projected(whole)))).toStrictEqual(plainState(buildResolverState(whole)));
        }),
        { numRuns: corrupt ? 500 : 300 },
      );
    });
  }

  for (const corrupt of [false, true]) {
    it(`the same with pods and policies (${corrupt ? 'malformed' : 'well-formed'} worlds, with API-server clutter; pods also as the events transform keeps them)`, () => {
      fc.assert(
        fc.property(worldArb(corrupt, fc.jsonValue(), { policies: true }), (w) => {
          const whole = cluttered(w);
          const expected = plainState(buildResolverState(whole));
          expect(plainState(buildResolverState(projected(whole)))).toStrictEqual(expected);
          expect(plainState(buildResolverState(projected(whole, resolverPodsWithEvents)))).toStrictEqual(expected);
        }),
        { numRuns: corrupt ? 400 : 300 },
      );
    });
  }

  it('keeps every field the policies read (pods, nodes, both policy kinds, every mode)', () => {
    const db = { app: 'db' };
    const ports = [{ containerPort: 5432, hostPort: 15432, protocol: 'TCP' }];
    const frontend = (ip: string) => ({ addressMatcher: { ip, toPorts: [{ port: 5432, protocol: 'TCP', name: 'pg' }] } });
    const backend = (redirectMode: string) => ({ serviceEndpoint: { endpointSelector: { matchLabels: db }, toPorts: [{ port: 5432, protocol: 'TCP', name: 'pg' }], redirectMode } });
    const world: ResolverInput = {
      services: [],
      endpointSlices: [],
      nodes: [policyNode('n1', { zone: 'z1' }, { 'balanced.dev/node-proxy-ip': '192.168.9.1' }), policyNode('n2', {}, { 'balanced.dev/node-proxy-ip': '192.168.9.2,fd09::2' })],
      pods: [
        pod('a', { uid: 'uid-a', ips: ['10.0.1.1', 'fd00::1:1'] }),
        pod('gone', { uid: 'uid-gone', deleting: true }),
        pod('db-1', { namespace: 'data', labels: db, ips: ['10.0.1.2'], ports }),
        pod('db-2', { namespace: 'data', labels: db, node: 'n2', ips: ['10.0.2.1'], hostIPs: ['192.168.0.2', 'fd01::2'], ports }),
        pod('db-3', { namespace: 'data', labels: db, node: 'n2', ready: false, ips: ['10.0.2.2'], ports }),
      ],
      localRedirectPolicies: [lrp('dns', { frontend: { addressMatcher: { ip: '169.254.20.10', toPorts: [{ port: 53, protocol: 'UDP' }] } }, backend: { endpointSelector: { matchLabels: { 'k8s-app': 'node-local-dns' } }, toPorts: [{ port: 53, protocol: 'UDP' }] }, config: { nodeLabelSelector: { matchLabels: { zone: 'z1' } } } }, { creationTimestamp: '2024-01-01T00:00:00Z', generation: 2, uid: 'p-1' })],
      balancingPolicies: [
        bp('pods', { frontend: frontend('10.96.50.1'), backend: backend('podEndpoint') }),
        bp('host', { frontend: frontend('10.96.50.2'), backend: backend('hostPort') }),
        bp('proxy', { frontend: frontend('10.96.50.3'), backend: backend('nodeProxy') }),
        bp('legacy', {}, { creationTimestamp: '2024-01-01T00:00:00Z' }),
      ],
      nodeName: 'n1',
      podCgroups: (uid) => (uid === 'uid-a' ? [11n] : undefined),
    };
    const whole = cluttered(world);
    const state = buildResolverState(whole);
    const backendsOf = (address: string) => state.services.get(state.frontends.find((f) => f.address === address)?.service ?? '')?.backends.map((b) => `${b.address}:${b.port}${b.local ? ' local' : ''}`);
    expect(backendsOf('169.254.20.10')).toEqual(['10.0.1.1:53 local']);
    expect(backendsOf('10.96.50.1')).toEqual(['10.0.1.2:5432 local', '10.0.2.1:5432']);
    expect(backendsOf('10.96.50.2')).toEqual(['192.168.0.1:15432 local', '192.168.0.2:15432']);
    expect(backendsOf('10.96.50.3')).toEqual(['192.168.9.1:5432 local', '192.168.9.2:5432']);
    expect(plainState(buildResolverState(projected(whole)))).toStrictEqual(plainState(state));
    expect(plainState(buildResolverState(projected(whole, resolverPodsWithEvents)))).toStrictEqual(plainState(state));
  });

  it('drops what the policies do not read of a pod (and keeps what events read only with the events transform)', () => {
    const whole = clutterPod(pod('a', { ports: [{ containerPort: 53, hostPort: 53, protocol: 'UDP' }] })) as KubernetesObject;
    const p = resolverTransforms.pods(whole);
    const text = JSON.stringify(p);
    for (const dropped of ['managedFields', LAST_APPLIED, 'image', 'env', 'volumes', 'phase', 'containerStatuses', 'lastTransitionTime', 'hostIP":"0.0.0.0', 'tolerations']) {
      expect({ dropped, kept: text.includes(dropped) }).toEqual({ dropped, kept: false });
    }
    expect(p).toMatchObject({ spec: { nodeName: 'n1', containers: [{ ports: [{ containerPort: 53, hostPort: 53, protocol: 'UDP' }] }] }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    expect(JSON.stringify(resolverPodsWithEvents(whole))).toContain('"containerStatuses":[{"name":"c","containerID":"containerd://abc"}]');
  });

  it('the property has teeth: the generated worlds resolve something, with affinity, local endpoints and refusals', () => {
    const states = fc.sample(worldArb(false, fc.jsonValue()), { numRuns: 300, seed: 7 }).map((w) => buildResolverState(cluttered(w)));
    const services = states.flatMap((s) => [...s.services.values()]);
    expect(states.filter((s) => s.frontends.length > 0).length).toBeGreaterThan(100);
    expect(services.some((s) => s.options.affinityTimeoutSeconds !== undefined)).toBe(true);
    expect(services.some((s) => s.backends.some((b) => b.local))).toBe(true);
    expect(states.some((s) => s.refusals.length > 0)).toBe(true);
  });

  it('keeps every field the builder reads (one object of each kind, every read field set)', () => {
    const world: ResolverInput = {
      services: [
        service(
          'web',
          {
            type: 'LoadBalancer',
            clusterIP: '10.96.0.10',
            clusterIPs: ['10.96.0.10', 'fd00::10'],
            ipFamilies: ['IPv4', 'IPv6'],
            externalIPs: ['198.51.100.7'],
            ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }],
            sessionAffinity: 'ClientIP',
            sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
            internalTrafficPolicy: 'Local',
            externalTrafficPolicy: 'Local',
          },
          { status: { loadBalancer: { ingress: [{ ip: '203.0.113.1', ipMode: 'VIP' }, { ip: '203.0.113.2', ipMode: 'Proxy' }] } } },
        ),
      ],
      endpointSlices: [
        slice('web', 'web-4', 'IPv4', [{ name: 'http', port: 8080 }], [
          { ip: '10.0.0.1', ready: true, node: 'n1' },
          { ip: '10.0.0.2', ready: false, serving: true, terminating: true, node: 'n2' },
        ]),
        slice('web', 'web-6', 'IPv6', [{ name: 'http', port: 8080 }], [{ ip: 'fd00::a', ready: true, node: 'n1' }]),
      ],
      nodes: [node('n1', [{ type: 'InternalIP', address: '192.168.0.1' }, { type: 'ExternalIP', address: '203.0.113.9' }])],
      nodeName: 'n1',
    };
    const whole = cluttered(world);
    const state = buildResolverState(whole);
    expect(state.frontends.length).toBeGreaterThan(4);
    expect(plainState(buildResolverState(projected(whole)))).toStrictEqual(plainState(state));
  });

  it('drops what the builder does not read', () => {
    const p = projected(
      cluttered({
        services: [service('web', { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }, { status: { loadBalancer: { ingress: [{ ip: '203.0.113.1' }] } } })],
        endpointSlices: [slice('web', 'web-1', 'IPv4', [{ name: 'http', port: 8080 }], [{ ip: '10.0.0.1', ready: true, node: 'n1' }])],
        nodes: [node('n1', [{ type: 'InternalIP', address: '192.168.0.1' }])],
      }),
    );
    const text = JSON.stringify(p);
    for (const dropped of ['managedFields', LAST_APPLIED, 'metallb.universe.tf', 'conditions":[', 'unknownTopLevel', 'someFutureField', 'hints', 'targetRef', 'zone', 'capacity', 'nodeInfo', 'podCIDR', 'hostname']) {
      expect({ dropped, kept: text.includes(dropped) }).toEqual({ dropped, kept: false });
    }
    expect(p.services[0]).toEqual({
      metadata: { namespace: 'default', name: 'web', uid: '5f0c8c2e-0000-4000-8000-000000000001', resourceVersion: '4242', creationTimestamp: '2024-01-01T00:00:00Z' },
      spec: expect.objectContaining({ type: 'ClusterIP', clusterIP: '10.96.0.10', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }),
      status: { loadBalancer: { ingress: [{ ip: '203.0.113.1' }] } },
    });
  });

  it('keeps one shared object per combination of endpoint conditions, and a copy when they are not plain booleans in API order', () => {
    const endpoints = [
      { addresses: ['10.0.0.1'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1', targetRef: { kind: 'Pod', name: 'a' } },
      { addresses: ['10.0.0.2'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n2', targetRef: { kind: 'Pod', name: 'b' } },
      { addresses: ['10.0.0.3'], conditions: { serving: true, ready: false }, nodeName: 'n2' },
      { addresses: ['10.0.0.4'], conditions: { ready: 'yes', hint: 1 }, nodeName: 'n2' },
      { addresses: ['10.0.0.5'], conditions: { zone: 'a' }, nodeName: 'n2' },
    ];
    const raw = JSON.parse(JSON.stringify({ metadata: { name: 's', namespace: 'n', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', endpoints })) as { endpoints: unknown[] };
    const out = resolverTransforms.endpointslices(raw as KubernetesObject) as unknown as { endpoints: { addresses: unknown; conditions: object }[] };
    const [a, b, c, d, e] = out.endpoints as [(typeof out.endpoints)[0], (typeof out.endpoints)[0], (typeof out.endpoints)[0], (typeof out.endpoints)[0], (typeof out.endpoints)[0]];
    expect(a.conditions).toBe(b.conditions);
    expect(Object.isFrozen(a.conditions)).toBe(true);
    expect(a.conditions).toStrictEqual({ ready: true, serving: true, terminating: false });
    expect(Object.keys(c.conditions)).toEqual(['serving', 'ready']); // out of API order: projected as it is
    expect(Object.isFrozen(c.conditions)).toBe(false);
    expect(d.conditions).toStrictEqual({ ready: 'yes' });
    expect(e.conditions).toStrictEqual({});
    // what the projection keeps as it is is the parsed value itself (no copy)
    expect(a.addresses).toBe((raw.endpoints[0] as { addresses: unknown }).addresses);
    expect(JSON.stringify(out.endpoints)).toBe(JSON.stringify(endpoints.map(({ targetRef: _t, ...rest }) => ({ ...rest, conditions: Object.fromEntries(Object.entries(rest.conditions).filter(([k]) => ['ready', 'serving', 'terminating'].includes(k))) }))));
  });
});
