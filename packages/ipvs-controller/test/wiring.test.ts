import { describe, expect, test } from '@jest/globals';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { Refusal } from '@balanced/k8s';
import { cidrOwnership, desiredSource, serviceOwnership } from '../src/index.js';
import { InvalidCidrError } from '../src/ownership.js';
import { RefusalReporter, type EventSink } from '@balanced/k8s';

describe('cidrOwnership', () => {
  const owns = cidrOwnership(['10.96.0.0/24', 'fd96::/64']);
  test.each([
    ['10.96.0.1', true],
    ['10.96.1.1', false],
    ['fd96::5', true],
    ['fd97::5', false],
    ['not-an-ip', false],
    ['::ffff:10.96.0.1', false],
  ])('%s → %s', (ip, expected) => expect(owns(ip)).toBe(expected));
  test('bad CIDRs are refused with a clear error; no CIDRs own nothing', () => {
    expect(() => cidrOwnership(['10.96.0.0/33'])).toThrow(InvalidCidrError);
    expect(cidrOwnership([])('10.96.0.1')).toBe(false);
    expect(serviceOwnership(owns)({ fwmark: 3, family: 'inet' })).toBe(false);
  });
});

describe('RefusalReporter', () => {
  const refusal = (reason: string): Refusal => ({ object: { kind: 'Service', namespace: 'shop', name: 'web' }, reason, message: `bad ${reason}` });
  test('sends each refusal once per appearance', () => {
    const sent: string[] = [];
    const sink: EventSink = { record: async (_o, _t, reason) => void sent.push(reason) };
    const r = new RefusalReporter(sink);
    r.report([refusal('A')]);
    r.report([refusal('A'), refusal('B')]);
    r.report([refusal('B')]);
    r.report([refusal('A'), refusal('B')]);
    expect(sent).toEqual(['A', 'B', 'A']);
  });
});

describe('desiredSource', () => {
  const svc = (annotations: Record<string, string>): V1Service => ({
    metadata: { name: 'web', namespace: 'shop', uid: 'u1', annotations },
    spec: { type: 'LoadBalancer', loadBalancerClass: 'balanced.dev/ipvs', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80 }] },
    status: { loadBalancer: { ingress: [{ ip: '10.96.0.10' }] } },
  });
  const slice: V1EndpointSlice = {
    metadata: { name: 'web-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
    endpoints: [{ addresses: ['10.244.0.1'], conditions: { ready: true } }],
  };

  test('a live Service whose annotation turns invalid keeps its last good state; deleting it drops it', () => {
    let services = [svc({})];
    const source = desiredSource({ cluster: { services: () => services, endpointSlices: () => [slice], pods: () => [] }, ownsVip: () => true, defaultClass: false, defaultDrainSeconds: 30 });
    const good = source();
    expect(good.map((s) => s.spec.key)).toEqual([{ protocol: 'tcp', address: '10.96.0.10', port: 80 }]);
    services = [svc({ 'balanced.dev/scheduler': 'nonsense' })];
    expect(source()).toEqual(good);
    services = [];
    expect(source()).toEqual([]);
  });

  test('a Service that was never valid programs nothing', () => {
    const source = desiredSource({ cluster: { services: () => [svc({ 'balanced.dev/scheduler': 'nonsense' })], endpointSlices: () => [slice], pods: () => [] }, ownsVip: () => true, defaultClass: false, defaultDrainSeconds: 30 });
    expect(source()).toEqual([]);
  });
});
