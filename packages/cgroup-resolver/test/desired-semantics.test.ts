// One example per row of DESIGN.md's semantics table that the Service resolver implements.
import { describe, expect, it } from '@jest/globals';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import type { DesiredService, DesiredState } from '../src/model.js';
import { buildResolverState } from '../src/desired/index.js';
import { endpoint, node, service, slice } from './desired-fixtures.js';

function build(services: V1Service[], endpointSlices: V1EndpointSlice[], nodes: V1Node[] = [], nodeName: string | null = 'n1'): DesiredState {
  // null: out of cluster (no nodeName)
  return buildResolverState({ services, endpointSlices, nodes, ...(nodeName === null ? {} : { nodeName }) });
}

/** The service a frontend resolves to (throws when there is no such frontend). */
function at(state: DesiredState, address: string, port: number, protocol = 'TCP'): DesiredService {
  const f = state.frontends.find((x) => x.address === address && x.port === port && x.protocol === protocol);
  if (f === undefined) throw new Error(`no frontend ${address}:${port}/${protocol}`);
  const s = state.services.get(f.service);
  if (s === undefined) throw new Error(`frontend names unknown service ${f.service}`);
  return s;
}

const ips = (s: DesiredService): string[] => s.backends.map((b) => `${b.address}:${b.port}`);
const frontends = (state: DesiredState): string[] => state.frontends.map((f) => `${f.address}:${f.port}/${f.protocol}`);

describe('readiness (ClusterIP, in-cluster client)', () => {
  it('uses ready endpoints; a missing ready condition means ready', () => {
    const state = build(
      [service('web', {})],
      [slice('web', 'w1', 'IPv4', [{ name: 'http', port: 8080 }], [endpoint('10.0.0.1', { ready: true }), endpoint('10.0.0.2'), endpoint('10.0.0.3', { ready: false }), endpoint('10.0.0.4', { ready: null })])],
    );
    expect(ips(at(state, '10.96.0.10', 80))).toEqual(['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.4:8080']);
    expect(at(state, '10.96.0.10', 80).backends.every((b) => b.weight === 1)).toBe(true);
  });

  it('falls back to serving-and-terminating endpoints when none is ready', () => {
    const state = build(
      [service('web', {})],
      [
        slice('web', 'w1', 'IPv4', [{ name: 'http', port: 8080 }], [
          endpoint('10.0.0.1', { ready: false, serving: true, terminating: true }),
          endpoint('10.0.0.2', { ready: false, serving: false, terminating: true }),
          endpoint('10.0.0.3', { ready: false, serving: true, terminating: false }),
        ]),
      ],
    );
    expect(ips(at(state, '10.96.0.10', 80))).toEqual(['10.0.0.1:8080']);
  });

  it('does not fall back while one endpoint is ready', () => {
    const state = build(
      [service('web', {})],
      [slice('web', 'w1', 'IPv4', [{ name: 'http', port: 8080 }], [endpoint('10.0.0.1', { ready: false, serving: true, terminating: true }), endpoint('10.0.0.2', { ready: true })])],
    );
    expect(ips(at(state, '10.96.0.10', 80))).toEqual(['10.0.0.2:8080']);
  });

  it('none usable → the frontend stays, with an empty set that refuses', () => {
    const state = build([service('web', {})], [slice('web', 'w1', 'IPv4', [{ name: 'http', port: 8080 }], [endpoint('10.0.0.1', { ready: false })])]);
    const s = at(state, '10.96.0.10', 80);
    expect(s.backends).toEqual([]);
    expect(s.options.refuseWhenEmpty).toBe(true);
    // a Service with a selector and no slice yet: same
    expect(at(build([service('web', {})], []), '10.96.0.10', 80).backends).toEqual([]);
  });

  it('one address in two slices is one backend, ready (and local) when any copy is, in any order', () => {
    const twoCopies = [
      slice('web', 'w1', 'IPv4', [{ name: 'http', port: 8080 }], [endpoint('10.0.0.1', { ready: false })]),
      slice('web', 'w2', 'IPv4', [{ name: 'http', port: 8080 }], [endpoint('10.0.0.1', { ready: true }, 'n1')]),
    ];
    const state = build([service('web', {})], twoCopies);
    expect(at(state, '10.96.0.10', 80).backends).toEqual([{ address: '10.0.0.1', port: 8080, weight: 1, local: true }]);
    const reversed = build([service('web', {})], [...twoCopies].reverse());
    expect(at(reversed, '10.96.0.10', 80).backends).toEqual([{ address: '10.0.0.1', port: 8080, weight: 1, local: true }]);
  });
});

describe('internalTrafficPolicy: Local', () => {
  const slices = [
    slice('web', 'w1', 'IPv4', [{ name: 'http', port: 8080 }], [endpoint('10.0.0.1', {}, 'n1'), endpoint('10.0.0.2', {}, 'n2'), endpoint('10.0.0.3', { ready: false, serving: true, terminating: true }, 'n1')]),
  ];
  it("the ClusterIP uses only this node's endpoints", () => {
    const s = at(build([service('web', { internalTrafficPolicy: 'Local' })], slices), '10.96.0.10', 80);
    expect(ips(s)).toEqual(['10.0.0.1:8080']);
    expect(s.options).toEqual({ refuseWhenEmpty: true, localOnly: true });
    expect(s.key).toBe('default/web:http/TCP IPv4 node-local');
  });
  it('no local endpoint → empty, refused: no fallback to other nodes', () => {
    const s = at(build([service('web', { internalTrafficPolicy: 'Local' })], slices, [], 'n3'), '10.96.0.10', 80);
    expect(s.backends).toEqual([]);
    expect(s.options.refuseWhenEmpty).toBe(true);
  });
  it('falls back to local serving-terminating endpoints only', () => {
    const only = [slice('web', 'w1', 'IPv4', [{ name: 'http', port: 8080 }], [endpoint('10.0.0.2', {}, 'n2'), endpoint('10.0.0.3', { ready: false, serving: true, terminating: true }, 'n1')])];
    expect(ips(at(build([service('web', { internalTrafficPolicy: 'Local' })], only), '10.96.0.10', 80))).toEqual(['10.0.0.3:8080']);
  });
  it('outside the cluster nothing is local: empty', () => {
    expect(at(build([service('web', { internalTrafficPolicy: 'Local' })], slices, [], null), '10.96.0.10', 80).backends).toEqual([]);
  });
  it('Cluster (the default) uses every endpoint and marks local ones', () => {
    const s = at(build([service('web', {})], slices), '10.96.0.10', 80);
    expect(s.backends.map((b) => [b.address, b.local])).toEqual([['10.0.0.1', true], ['10.0.0.2', false]]);
    expect(s.options.localOnly).toBe(false);
  });
});

describe('LB IP, externalIP, NodePort from a client on this node', () => {
  const slices = [slice('web', 'w1', 'IPv4', [{ name: 'http', port: 8080 }], [endpoint('10.0.0.1', {}, 'n1'), endpoint('10.0.0.2', {}, 'n2')])];
  const nodes = [
    node('n1', [
      { type: 'InternalIP', address: '192.168.0.1' },
      { type: 'ExternalIP', address: '203.0.113.1' },
      { type: 'Hostname', address: '192.168.9.9' },
    ]),
    node('n2', [{ type: 'InternalIP', address: '192.168.0.2' }]),
  ];
  const lb = (spec: Record<string, unknown>): V1Service =>
    service(
      'web',
      { type: 'LoadBalancer', externalIPs: ['198.51.100.7'], ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }], ...spec },
      { status: { loadBalancer: { ingress: [{ ip: '198.51.100.1' }, { hostname: 'lb.example' }, { ip: '198.51.100.2', ipMode: 'Proxy' }] } } },
    );

  it('externalTrafficPolicy: Local still resolves to every endpoint', () => {
    const state = build([lb({ externalTrafficPolicy: 'Local' })], slices, nodes);
    expect(frontends(state)).toEqual(['10.96.0.10:80/TCP', '127.0.0.1:30080/TCP', '192.168.0.1:30080/TCP', '198.51.100.1:80/TCP', '198.51.100.7:80/TCP', '203.0.113.1:30080/TCP']);
    for (const [a, p] of [['198.51.100.7', 80], ['198.51.100.1', 80], ['192.168.0.1', 30080], ['203.0.113.1', 30080], ['127.0.0.1', 30080]] as const) {
      expect(ips(at(state, a, p))).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    }
    // internalTrafficPolicy Cluster: one set serves every frontend
    expect(state.services.size).toBe(1);
  });

  it('with internalTrafficPolicy: Local the ClusterIP and the external frontends get two sets', () => {
    const state = build([lb({ internalTrafficPolicy: 'Local', externalTrafficPolicy: 'Local' })], slices, nodes);
    expect(ips(at(state, '10.96.0.10', 80))).toEqual(['10.0.0.1:8080']);
    expect(ips(at(state, '192.168.0.1', 30080))).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    expect([...state.services.keys()]).toEqual(['default/web:http/TCP IPv4', 'default/web:http/TCP IPv4 node-local']);
  });

  it('no NodePort frontends outside the cluster; external addresses still', () => {
    expect(frontends(build([lb({})], slices, nodes, null))).toEqual(['10.96.0.10:80/TCP', '198.51.100.1:80/TCP', '198.51.100.7:80/TCP']);
  });

  it('no NodePort frontends for a ClusterIP Service, even with a nodePort field', () => {
    expect(frontends(build([lb({ type: 'ClusterIP' })], slices, nodes))).toEqual(['10.96.0.10:80/TCP', '198.51.100.1:80/TCP', '198.51.100.7:80/TCP']);
  });
});

describe('sessionAffinity: ClientIP', () => {
  const slices = [slice('web', 'w1', 'IPv4', [{ name: 'http', port: 8080 }], [endpoint('10.0.0.1')])];
  it('defaults the timeout to 10800 s', () => {
    const state = build([service('web', { sessionAffinity: 'ClientIP' })], slices);
    expect(at(state, '10.96.0.10', 80).options.affinityTimeoutSeconds).toBe(10800);
    expect(state.refusals).toEqual([]);
  });
  it('takes sessionAffinityConfig.clientIP.timeoutSeconds', () => {
    const state = build([service('web', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } })], slices);
    expect(at(state, '10.96.0.10', 80).options.affinityTimeoutSeconds).toBe(60);
  });
  it('clamps an out-of-range timeout into 1..86400, with a refusal', () => {
    for (const [given, used] of [[0, 1], [100000, 86400], [-5, 1], [2.5, 2]] as const) {
      const state = build([service('web', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: given } } })], slices);
      expect(at(state, '10.96.0.10', 80).options.affinityTimeoutSeconds).toBe(used);
      expect(state.refusals).toEqual([expect.objectContaining({ reason: 'InvalidSessionAffinity', object: { kind: 'Service', namespace: 'default', name: 'web' } })]);
    }
  });
  it('a non-number timeout takes the default, with a refusal', () => {
    const state = build([service('web', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: '60' } } })], slices);
    expect(at(state, '10.96.0.10', 80).options.affinityTimeoutSeconds).toBe(10800);
    expect(state.refusals.map((r) => r.reason)).toEqual(['InvalidSessionAffinity']);
  });
  it('None: no affinity', () => {
    expect(at(build([service('web', { sessionAffinity: 'None' })], slices), '10.96.0.10', 80).options.affinityTimeoutSeconds).toBeUndefined();
  });
});

describe('named target ports, several slices', () => {
  it('resolves a port name per slice, and only with the same protocol', () => {
    const state = build(
      [service('web', { ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }, { port: 9, protocol: 'SCTP' }] })],
      [
        slice('web', 'w1', 'IPv4', [{ name: 'http', port: 8080 }, { name: 'dns', port: 5353, protocol: 'UDP' }], [endpoint('10.0.0.1')]),
        slice('web', 'w2', 'IPv4', [{ name: 'http', port: 9090 }, { name: 'dns', port: 5353, protocol: 'TCP' }], [endpoint('10.0.0.2')]),
        slice('web', 'w3', 'IPv4', [{ name: 'other', port: 7070 }], [endpoint('10.0.0.3')]),
      ],
    );
    expect(ips(at(state, '10.96.0.10', 80))).toEqual(['10.0.0.1:8080', '10.0.0.2:9090']);
    expect(ips(at(state, '10.96.0.10', 53, 'UDP'))).toEqual(['10.0.0.1:5353']);
    expect(frontends(state)).toEqual(['10.96.0.10:53/UDP', '10.96.0.10:80/TCP']); // SCTP: skipped
  });
  it('an unnamed port matches the unnamed slice port', () => {
    const state = build([service('web', { ports: [{ port: 80 }] })], [slice('web', 'w1', 'IPv4', [{ port: 8080 }], [endpoint('10.0.0.1')])]);
    expect(ips(at(state, '10.96.0.10', 80))).toEqual(['10.0.0.1:8080']);
    expect([...state.services.keys()]).toEqual(['default/web:80/TCP IPv4']);
  });
});

describe('dual-stack and IPv6', () => {
  const slices = [
    slice('web', 'w4', 'IPv4', [{ name: 'http', port: 8080 }], [endpoint('10.0.0.1')]),
    slice('web', 'w6', 'IPv6', [{ name: 'http', port: 8080 }], [endpoint('FD00:0:0::0A'), endpoint('10.0.0.9')]),
    slice('web', 'wf', 'FQDN', [{ name: 'http', port: 8080 }], [endpoint('example.com')]),
  ];
  it('each family resolves to its own endpoints, in canonical text', () => {
    const state = build([service('web', { clusterIPs: ['10.96.0.10', 'FD00::0010'], ipFamilies: ['IPv4', 'IPv6'] })], slices);
    expect(ips(at(state, '10.96.0.10', 80))).toEqual(['10.0.0.1:8080']);
    expect(ips(at(state, 'fd00::10', 80))).toEqual(['fd00::a:8080']);
  });
  it('an IPv6-only Service gets IPv6 endpoints and ::1 for NodePorts', () => {
    const state = build(
      [service('web', { type: 'NodePort', clusterIP: 'fd00::10', clusterIPs: ['fd00::10'], ports: [{ name: 'http', port: 80, nodePort: 30080 }] })],
      slices,
      [node('n1', [{ type: 'InternalIP', address: '192.168.0.1' }, { type: 'InternalIP', address: 'fd01::1' }])],
    );
    expect(frontends(state)).toEqual(['::1:30080/TCP', 'fd00::10:80/TCP', 'fd01::1:30080/TCP']);
    expect(ips(at(state, 'fd01::1', 30080))).toEqual(['fd00::a:8080']);
  });
  it('an external address of a family the Service lacks is skipped with a refusal', () => {
    const state = build([service('web', { externalIPs: ['2001:db8::1'] })], slices);
    expect(frontends(state)).toEqual(['10.96.0.10:80/TCP']);
    expect(state.refusals.map((r) => r.reason)).toEqual(['AddressFamilyNotServed']);
  });
});

describe('Services that are not resolved', () => {
  const slices = [slice('web', 'w1', 'IPv4', [{ name: 'http', port: 8080 }], [endpoint('10.0.0.1')])];
  it('headless, ExternalName, no ClusterIP yet: nothing', () => {
    for (const spec of [{ clusterIP: 'None' }, { clusterIP: 'None', clusterIPs: ['None'] }, { type: 'ExternalName', externalName: 'x.example' }, { clusterIP: '' }, { clusterIP: undefined }]) {
      const state = build([service('web', spec)], slices);
      expect(state).toEqual({ services: new Map(), frontends: [], refusals: [] });
    }
  });
  it('no selector and no slice: nothing', () => {
    expect(build([service('web', { selector: undefined })], []).frontends).toEqual([]);
    expect(build([service('web', { selector: {} })], []).frontends).toEqual([]);
  });
  it('no selector but manually managed slices: resolved', () => {
    expect(ips(at(build([service('web', { selector: undefined })], slices), '10.96.0.10', 80))).toEqual(['10.0.0.1:8080']);
  });
});

describe('two Services on one frontend (a malformed cache)', () => {
  it('the older keeps it; the younger is told who has it', () => {
    const older = service('b-old', {}, { metadata: { creationTimestamp: '2020-01-01T00:00:00Z' } });
    const younger = service('a-new', { ports: [{ name: 'http', port: 80 }, { name: 'x', port: 81 }] });
    const state = build(
      [younger, older],
      [slice('b-old', 's1', 'IPv4', [{ name: 'http', port: 1 }], [endpoint('10.0.0.1')]), slice('a-new', 's2', 'IPv4', [{ name: 'x', port: 2 }], [endpoint('10.0.0.2')])],
    );
    expect(ips(at(state, '10.96.0.10', 80))).toEqual(['10.0.0.1:1']);
    expect(ips(at(state, '10.96.0.10', 81))).toEqual(['10.0.0.2:2']); // its other frontend is kept
    expect(state.refusals).toEqual([
      {
        object: { kind: 'Service', namespace: 'default', name: 'a-new' },
        reason: 'FrontendConflict',
        message: '10.96.0.10:80/TCP is already resolved for the older Service default/b-old; it is not resolved for this one',
        held: { frontend: '10.96.0.10:80/TCP', by: { kind: 'Service', namespace: 'default', name: 'b-old' } },
      },
    ]);
    expect([...state.services.keys()]).toEqual(['default/a-new:x/TCP IPv4', 'default/b-old:http/TCP IPv4']);
  });
});
