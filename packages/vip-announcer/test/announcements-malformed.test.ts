// Found by the fault-matrix fuzz (issue 13): planAnnouncements keyed Services by their raw
// metadata.namespace/name, so a name that is not a string either threw (an object without a
// prototype cannot be put in a template string) or, as an array, took a well-formed Service's key
// and hid it ("a cache listing one Service twice: first wins").
import { describe, expect, test } from '@jest/globals';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { cidrOwnership, parseCidr } from '@balanced/net';
import { planAnnouncements } from '../src/index.js';
import { service, slice } from './k8s-objects.js';

const ownsVip = cidrOwnership([parseCidr('10.96.100.0/24')]);

function announced(services: V1Service[], slices: V1EndpointSlice[]): string[] {
  const { plan } = planAnnouncements({ services, endpointSlices: slices, pools: [], ownsVip, defaultClass: false, controllerHealthy: true, lastGood: new Map() });
  return plan.announced.map((a) => `${a.vip} ${a.services.join(',')}`);
}

function withName(name: unknown, vip: string): V1Service {
  const s = service({ name: 'placeholder', vips: [vip] });
  (s.metadata as Record<string, unknown>).name = name;
  return s;
}

describe('Services whose metadata is not what the schema says', () => {
  const web = service({ name: 'web', vips: ['10.96.100.10'] });
  const webSlice = slice({ service: 'web', endpoints: { '10.244.0.1': true } });

  test('a name that is an object without a prototype: no throw, the neighbour is announced', () => {
    expect(announced([withName(Object.create(null), '10.96.100.11'), web], [webSlice])).toEqual(['10.96.100.10 default/web']);
  });

  test("a name that is an array spelling a neighbour's name does not hide that neighbour", () => {
    expect(announced([withName(['web'], '10.96.100.11'), web], [webSlice])).toEqual(['10.96.100.10 default/web']);
  });

  test('metadata that is not an object: no throw, the neighbour is announced', () => {
    const odd = service({ name: 'odd', vips: ['10.96.100.12'] });
    (odd as unknown as Record<string, unknown>).metadata = 42;
    expect(announced([odd, web], [webSlice])).toEqual(['10.96.100.10 default/web']);
  });
});
