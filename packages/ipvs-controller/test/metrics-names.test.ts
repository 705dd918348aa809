import { describe, expect, test } from '@jest/globals';
import type { KubernetesObject, V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { applyToModel, ControllerMetrics, DesiredIndex, desiredNames, dumpModel } from '../src/index.js';
import { podsByAddress } from '../src/metric-names.js';

// Metrics labels from the desired state the controller already holds (no second cache).

function service(name: string, vips: string[], created = '2024-01-01T00:00:00Z'): V1Service {
  return {
    metadata: { namespace: 'shop', name, uid: `uid-${name}`, creationTimestamp: new Date(created) },
    spec: {
      type: 'LoadBalancer',
      loadBalancerClass: 'balanced.dev/ipvs',
      ports: [
        { name: 'http', protocol: 'TCP', port: 80 },
        { protocol: 'UDP', port: 53 }, // unnamed: the label is the number
      ],
    },
    status: { loadBalancer: { ingress: vips.map((ip) => ({ ip })) } },
  };
}
function slice(name: string, owner: string, family: 'IPv4' | 'IPv6', endpoints: [address: string, pod: string, kind?: string][]): V1EndpointSlice {
  return {
    metadata: { namespace: 'shop', name, labels: { 'kubernetes.io/service-name': owner } },
    addressType: family,
    ports: [
      { name: 'http', protocol: 'TCP', port: 80 },
      { name: '', protocol: 'UDP', port: 53 },
    ],
    endpoints: endpoints.map(([address, pod, kind = 'Pod']) => ({ addresses: [address], conditions: { ready: true }, targetRef: { kind, namespace: 'shop', name: pod } })),
  };
}

function index(objects: { services: V1Service[]; slices: V1EndpointSlice[] }): DesiredIndex {
  const i = new DesiredIndex({
    cluster: { services: () => objects.services, endpointSlices: () => objects.slices, pods: (): V1Pod[] => [] },
    ownsVip: (ip) => ip.startsWith('10.96.') || ip.startsWith('fd96:'),
    defaultClass: false,
    defaultDrainSeconds: 30,
  });
  for (const kind of ['services', 'endpointslices', 'pods']) i.observe(kind);
  i.snapshot();
  return i;
}

describe('desiredNames', () => {
  const objects = {
    services: [service('web', ['10.96.0.1', 'fd96::1'])],
    slices: [
      slice('web-v4', 'web', 'IPv4', [['10.244.0.7', 'web-0'], ['10.244.0.8', 'web-1'], ['10.244.0.9', 'vm-1', 'VirtualMachine']]),
      // a non-canonical address in the slice names the destination the kernel reports canonically
      slice('web-v6', 'web', 'IPv6', [['FD44:0:0::7', 'web-0']]),
    ],
  };
  const built = index(objects);
  const names = desiredNames((id) => built.owner(id));

  test('namespace, Service and port name of each virtual service; the port number when unnamed', () => {
    expect(names('tcp/10.96.0.1:80')).toMatchObject({ namespace: 'shop', service: 'web', port: 'http' });
    expect(names('udp/10.96.0.1:53')).toMatchObject({ namespace: 'shop', service: 'web', port: '53' });
    expect(names('tcp/[fd96::1]:80')).toMatchObject({ namespace: 'shop', service: 'web', port: 'http' });
    expect(names('tcp/10.96.0.2:80')).toBeUndefined();
  });

  test('the pod of each destination from its endpoint targetRef', () => {
    const v4 = names('tcp/10.96.0.1:80');
    expect([v4?.pod('10.244.0.7'), v4?.pod('10.244.0.8'), v4?.pod('10.244.0.9'), v4?.pod('10.244.0.99')]).toEqual(['web-0', 'web-1', '', '']);
    expect(names('tcp/[fd96::1]:80')?.pod('fd44::7')).toBe('web-0');
  });

  test('follow the index: a slice change is named after the next snapshot; the older Service keeps a contested VIP:port', () => {
    const live = { services: [service('web', ['10.96.0.1'])], slices: [slice('web-v4', 'web', 'IPv4', [['10.244.0.7', 'web-0']])] };
    const i = index(live);
    const n = desiredNames((id) => i.owner(id));
    expect(n('tcp/10.96.0.1:80')?.pod('10.244.0.7')).toBe('web-0');
    const change = (kind: string, object: KubernetesObject) => i.observe(kind, { type: 'update', object });
    change('endpointslices', slice('web-v4', 'web', 'IPv4', [['10.244.0.7', 'web-5']]));
    change('services', service('api', ['10.96.0.1'], '2025-01-01T00:00:00Z'));
    i.snapshot();
    expect(n('tcp/10.96.0.1:80')).toMatchObject({ service: 'web', port: 'http' });
    expect(n('tcp/10.96.0.1:80')?.pod('10.244.0.7')).toBe('web-5');
  });
});

test('podsByAddress: the first slice that names an address wins; endpoints without a pod are skipped', () => {
  const pods = podsByAddress([
    slice('a', 'web', 'IPv4', [['10.244.0.7', 'web-0']]),
    slice('b', 'web', 'IPv4', [['10.244.0.7', 'other'], ['not-an-ip', 'x']]),
    { endpoints: [{ addresses: ['10.244.0.8'] }, { addresses: ['10.244.0.9'], targetRef: { name: '' } }, 'junk'] },
  ]);
  expect([...pods]).toEqual([['10.244.0.7', 'web-0']]);
});

test('a director\'s /metrics text names its series from the desired state', async () => {
  const i = index({ services: [service('web', ['10.96.0.1'])], slices: [slice('web-v4', 'web', 'IPv4', [['10.244.0.7', 'web-0']])] });
  const key = { protocol: 'tcp' as const, address: '10.96.0.1', port: 80 };
  const gone = { protocol: 'tcp' as const, address: '10.96.0.9', port: 80 }; // still in the kernel, no longer desired
  const table = dumpModel(
    applyToModel(
      [],
      [
        { op: 'add-service', service: { key, scheduler: 'mh' } },
        { op: 'add-destination', service: key, destination: { address: '10.244.0.7', port: 80, forwarding: 'tunnel', weight: 1 } },
        { op: 'add-service', service: { key: gone, scheduler: 'mh' } },
      ],
    ),
  );
  const m = new ControllerMetrics();
  m.nameWith(desiredNames((id) => i.owner(id)));
  m.recordKernel(table);
  const text = await m.registry.metrics();
  expect(text).toContain('balanced_ipvs_destination_weight{virtual_service="tcp/10.96.0.1:80",namespace="shop",service="web",port="http",destination="10.244.0.7:80",pod="web-0"} 1');
  expect(text).toContain('balanced_ipvs_service_connections_total{virtual_service="tcp/10.96.0.9:80",namespace="",service="",port=""} 0');
});
