import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { KubernetesObject, V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { buildDesired, type DesiredInput } from '../src/desired-state.js';
import { desiredStateTransforms } from '../src/desired-fields.js';
import { keysStartingWith, project } from '../src/projection.js';
import { worldArb } from './world-arbitrary.js';

type World = Omit<DesiredInput, 'ownsVip'>;
const ownsVip = (ip: string): boolean => ip !== '10.96.0.3';

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

/** What a real API server adds that the builder never reads (only where the object is well formed). */
function withClutter<T>(o: T, path: 'service' | 'slice' | 'pod'): T {
  if (!isPlain(o)) return o;
  const out: Record<string, unknown> = { ...o, apiVersion: 'v1', kind: 'Thing' };
  if (isPlain(o.metadata)) {
    const md = o.metadata;
    out.metadata = {
      ...md,
      resourceVersion: '42',
      generation: 3,
      managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }],
      labels: { ...(isPlain(md.labels) ? md.labels : {}), app: 'web', 'kubernetes.io/service-name-not': 'x' },
      annotations: isPlain(md.annotations)
        ? { ...md.annotations, 'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"v1","kind":"Service"}'.repeat(20), 'metallb.universe.tf/ip': '1.2.3.4' }
        : md.annotations,
    };
  }
  if (path === 'service' && isPlain(o.spec)) out.spec = { ...o.spec, clusterIP: '10.0.0.1', selector: { app: 'web' }, sessionAffinity: 'None' };
  if (path === 'slice' && Array.isArray(o.endpoints))
    out.endpoints = o.endpoints.map((e: unknown) => (isPlain(e) ? { ...e, nodeName: 'n1', zone: 'z', hints: { forZones: [{ name: 'z' }] } } : e));
  if (path === 'pod' && isPlain(o.spec)) out.spec = { ...o.spec, containers: [{ name: 'c', image: 'nginx' }] };
  return out as T;
}

function cluttered(w: World): World {
  return {
    ...w,
    services: w.services.map((s) => withClutter(s, 'service')),
    endpointSlices: w.endpointSlices.map((s) => withClutter(s, 'slice')),
    pods: (w.pods ?? []).map((p) => withClutter(p, 'pod')),
  };
}

function projected(w: World): World {
  const t = desiredStateTransforms;
  return {
    ...w,
    services: w.services.map((s) => t.services(s as KubernetesObject) as V1Service),
    endpointSlices: w.endpointSlices.map((s) => t.endpointslices(s as KubernetesObject) as V1EndpointSlice),
    pods: (w.pods ?? []).map((p) => t.pods(p as KubernetesObject) as V1Pod),
  };
}

describe('desiredStateTransforms', () => {
  for (const corrupt of [false, true]) {
    it(`the builder gives the same result on projected objects as on whole ones (${corrupt ? 'malformed' : 'well-formed'} objects)`, () => {
      // Malformed the way an API server can send it: any JSON value in any field.
      fc.assert(
        fc.property(worldArb(corrupt, fc.jsonValue()), (w) => {
          const whole = cluttered(w);
          expect(buildDesired({ ...projected(whole), ownsVip })).toEqual(buildDesired({ ...whole, ownsVip }));
        }),
        { numRuns: corrupt ? 400 : 200 },
      );
    });
  }

  it('drops what the builder does not read', () => {
    const service = withClutter(
      {
        metadata: { namespace: 'a', name: 's', uid: 'u', annotations: { 'balanced.dev/scheduler': 'mh', 'balanced.demonware.net/ip-pool': 'p' } },
        spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80, nodePort: 30000 }] },
        status: { loadBalancer: { ingress: [{ ip: '10.96.0.1', ipMode: 'VIP' }] }, conditions: [] },
      },
      'service',
    );
    expect(desiredStateTransforms.services(service as KubernetesObject)).toEqual({
      metadata: { namespace: 'a', name: 's', uid: 'u', resourceVersion: '42', annotations: { 'balanced.dev/scheduler': 'mh', 'balanced.demonware.net/ip-pool': 'p' } },
      spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80, nodePort: 30000 }] },
      status: { loadBalancer: { ingress: [{ ip: '10.96.0.1' }] } },
    });
    const slice = withClutter(
      {
        metadata: { namespace: 'a', name: 's-1', labels: { 'kubernetes.io/service-name': 's' } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 80, protocol: 'TCP', appProtocol: 'http' }],
        endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: 'a', name: 'p', uid: 'q', resourceVersion: '7' } }],
      },
      'slice',
    );
    expect(desiredStateTransforms.endpointslices(slice as KubernetesObject)).toEqual({
      metadata: { namespace: 'a', name: 's-1', resourceVersion: '42', labels: { 'kubernetes.io/service-name': 's', 'kubernetes.io/service-name-not': 'x' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 80, protocol: 'TCP', appProtocol: 'http' }],
      endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: 'a', name: 'p', uid: 'q' } }],
    });
  });
});

describe('project', () => {
  it('keeps a value that is not what its shape expects, whole', () => {
    expect(project('text', { a: true })).toBe('text');
    expect(project({ a: 'x' }, { a: [true] })).toEqual({ a: 'x' });
    expect(project([1, { b: 2, c: 3 }], [{ b: true }])).toEqual([1, { b: 2 }]);
  });

  it('reads own properties only, and drops undefined ones', () => {
    const proto = { a: 1 };
    const o = Object.assign(Object.create(proto) as object, { b: undefined, c: 2 });
    expect(project(o, { a: true, b: true, c: true })).toEqual({ c: 2 });
  });

  it('keysStartingWith keeps a "__proto__" key as an own property, not a prototype', () => {
    const filtered = keysStartingWith('__')(JSON.parse('{"__proto__": {"x": 1}, "y": 2}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(filtered)).toBe(Object.prototype);
    expect(Object.keys(filtered)).toEqual(['__proto__']);
  });
});
