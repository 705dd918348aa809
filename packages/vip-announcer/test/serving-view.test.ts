// The announcer's view of endpoints (issue 13, item 7): a VIP stays announced while anything
// still serves it (terminating pods carry draining connections); withdrawn only when nothing does.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import type { KubernetesObject, V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { cidrOwnership, parseCidr } from '@balanced/net';
import { planAnnouncements } from '../src/index.js';
import { announcerTransforms, endpointServes, servingView } from '../src/serving-view.js';
import { service, slice } from './k8s-objects.js';

const ownsVip = cidrOwnership([parseCidr('10.96.100.0/24')]);
const VIP = '10.96.100.10';

type Conditions = { ready?: unknown; serving?: unknown; terminating?: unknown };

function sliceWith(conditions: readonly Conditions[]): V1EndpointSlice {
  const base = slice({ service: 'web', endpoints: {} });
  return { ...base, endpoints: conditions.map((c, i) => ({ addresses: [`10.244.0.${i + 1}`], conditions: c as never })) };
}

/** The plan as the announcer makes it: slices through the cache transform it installs. */
function announced(slices: readonly V1EndpointSlice[], services: readonly V1Service[] = [service({ name: 'web', vips: [VIP] })]): string[] {
  const seen = slices.map((s) => announcerTransforms.endpointslices(s as KubernetesObject) as V1EndpointSlice);
  const viewServices = services.map((s) => announcerTransforms.services(s as KubernetesObject) as V1Service);
  const { plan } = planAnnouncements({ services: viewServices, endpointSlices: seen, pools: [], ownsVip, defaultClass: false, controllerHealthy: true, lastGood: new Map() });
  return plan.announced.map((a) => a.vip);
}

describe('serving view', () => {
  test('every endpoint terminating but still serving (a rolling update draining): the VIP stays announced', () => {
    expect(announced([sliceWith([{ ready: false, serving: true, terminating: true }, { ready: false, serving: true, terminating: true }])])).toEqual([VIP]);
  });

  test('nothing serving (terminating and no longer serving, or not ready): withdrawn', () => {
    expect(announced([sliceWith([{ ready: false, serving: false, terminating: true }, { ready: false, serving: false, terminating: false }])])).toEqual([]);
  });

  test('serving absent (an older producer): defers to ready; ready absent counts as ready', () => {
    expect(endpointServes({ ready: true })).toBe(true);
    expect(endpointServes({ ready: false, terminating: true })).toBe(false);
    expect(endpointServes({})).toBe(true);
    expect(endpointServes(undefined)).toBe(true);
    expect(endpointServes({ ready: false, serving: 'yes' })).toBe(false); // not a boolean: ignored
    expect(announced([sliceWith([{ terminating: true, ready: false }])])).toEqual([]);
    expect(announced([sliceWith([{}])])).toEqual([VIP]);
  });

  test('malformed slices are left for the builder to judge', () => {
    const noEndpoints = { ...sliceWith([]), endpoints: 'many' } as unknown as KubernetesObject;
    expect(servingView(noEndpoints)).toBe(noEndpoints);
    const odd = sliceWith([]);
    const withJunk = { ...odd, endpoints: [null, 7, ['x']] } as unknown as KubernetesObject;
    expect((servingView(withJunk) as unknown as { endpoints: unknown[] }).endpoints).toEqual([null, 7, ['x']]);
  });

  test('property: announced exactly when some endpoint serves (serving, else ready, else true)', () => {
    const flag = fc.constantFrom<unknown>(true, false, undefined, 'true', null);
    const conditions = fc.record({ ready: flag, serving: flag, terminating: flag }, { requiredKeys: [] });
    fc.assert(
      fc.property(fc.array(conditions, { maxLength: 6 }), (list) => {
        const serves = list.some((c) => (typeof c.serving === 'boolean' ? c.serving : typeof c.ready === 'boolean' ? c.ready : true));
        expect(announced([sliceWith(list)])).toEqual(serves ? [VIP] : []);
      }),
      { numRuns: 300 },
    );
  });
});
