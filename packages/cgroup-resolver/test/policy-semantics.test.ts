// LocalRedirectPolicy and BalancingPolicy in the resolver's desired state, one rule per test
// (DESIGN.md "CRDs" and the cgroup-resolver semantics table; src/desired/policy-candidates.ts).
import { describe, expect, it } from '@jest/globals';
import { addressFrontend, bp, lrp, serviceFrontend } from '@balanced/testkit';
import { MAX_SKIP_CGROUPS } from '../src/maps/layout.js';
import { service } from './desired-fixtures.js';
import { at, backends, build, cgroupsOf, kubeDns, NODE_LOCAL_DNS, pod, policyFrontends, policyNode, reasons } from './policy-fixtures.js';

const DNS_PORTS = [
  { port: 53, protocol: 'UDP', name: 'dns' },
  { port: 53, protocol: 'TCP', name: 'dns-tcp' },
];
const nodeLocalDns = (spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) => lrp('node-local-dns', spec, { creationTimestamp: '2024-01-01T00:00:00Z', ...meta });
const CG = cgroupsOf({ 'uid-a': [1001n], 'uid-b': [1002n], 'uid-c': [1003n], 'uid-d': [1004n], 'uid-e': [1005n], 'uid-v6': [1006n] });

describe('LocalRedirectPolicy', () => {
  it('takes over the Service ClusterIPs (every family) on the listed ports: this node’s ready pods, the fallback when none, never itself', () => {
    const state = build({ lrps: [nodeLocalDns()], pods: [pod('a', { ips: ['10.0.1.1', 'fd00::1:1'] })], podCgroups: CG });
    expect(policyFrontends(state)).toEqual([
      'redirect 10.96.0.10:53/TCP → policy LocalRedirectPolicy/node-local-dns:53/TCP IPv4',
      'redirect 10.96.0.10:53/UDP → policy LocalRedirectPolicy/node-local-dns:53/UDP IPv4',
      'redirect [fd00::10]:53/TCP → policy LocalRedirectPolicy/node-local-dns:53/TCP IPv6',
      'redirect [fd00::10]:53/UDP → policy LocalRedirectPolicy/node-local-dns:53/UDP IPv6',
    ]);
    const v4 = at(state, '10.96.0.10', 53, 'UDP', 'redirect');
    expect(backends(v4)).toEqual(['10.0.1.1:53 local']);
    expect(backends(at(state, 'fd00::10', 53, 'UDP', 'redirect'))).toEqual(['[fd00::1:1]:53 local']);
    expect(v4?.options).toEqual({ refuseWhenEmpty: false, localOnly: true });
    expect(v4?.skipCgroups).toEqual([1001n]);
    // The Service keeps its own frontends: the redirect kind is looked up first, the Service after.
    expect(at(state, '10.96.0.10', 53, 'UDP', 'service')).toBeDefined();
    expect(state.refusals).toEqual([]);
  });

  it.each([
    ['on another node', pod('a', { node: 'n2' })],
    ['not ready', pod('a', { ready: false })],
    ['terminating', pod('a', { deleting: true })],
    ['not matching the selector', pod('a', { labels: { 'k8s-app': 'kube-dns' } })],
    ['with an unknown cgroup (it could be redirected to itself)', pod('a', { uid: 'uid-unknown' })],
  ])('leaves out a pod %s: the frontend stays, empty, and falls through to the Service', (_why, p) => {
    const state = build({ lrps: [nodeLocalDns()], pods: [p], podCgroups: CG });
    const s = at(state, '10.96.0.10', 53, 'UDP', 'redirect');
    expect(s?.backends).toEqual([]);
    expect(s?.options.refuseWhenEmpty).toBe(false);
    expect(s?.skipCgroups).toBeUndefined();
    expect(state.refusals).toEqual([]);
  });

  it('selects pods in every namespace; each family gets its pods, every frontend skips every chosen pod', () => {
    const state = build({
      lrps: [nodeLocalDns()],
      pods: [pod('a', { ips: ['10.0.1.1'] }), pod('v6', { namespace: 'other', uid: 'uid-v6', ips: ['fd00::1:6'] })],
      podCgroups: CG,
    });
    expect(backends(at(state, '10.96.0.10', 53, 'TCP', 'redirect'))).toEqual(['10.0.1.1:53 local']);
    expect(backends(at(state, 'fd00::10', 53, 'TCP', 'redirect'))).toEqual(['[fd00::1:6]:53 local']);
    for (const s of state.services.values()) if (s.key.startsWith('policy ')) expect(s.skipCgroups).toEqual([1001n, 1006n]);
  });

  it(`keeps at most the pods whose cgroups fit one skip list (${MAX_SKIP_CGROUPS}), by namespace/name, and says so`, () => {
    const names = ['e', 'd', 'c', 'b', 'a'];
    const state = build({ lrps: [nodeLocalDns()], pods: names.map((n, i) => pod(n, { ips: [`10.0.1.${i + 1}`] })), podCgroups: CG });
    const s = at(state, '10.96.0.10', 53, 'UDP', 'redirect');
    expect(s?.skipCgroups).toEqual([1001n, 1002n, 1003n, 1004n]);
    expect(backends(s)).toEqual(['10.0.1.2:53 local', '10.0.1.3:53 local', '10.0.1.4:53 local', '10.0.1.5:53 local']);
    expect(reasons(state)).toEqual(['LocalRedirectPolicy/node-local-dns TooManyLocalBackends']);
  });

  it('pairs frontend and backend ports by name (an address frontend, another backend port)', () => {
    const state = build({
      lrps: [nodeLocalDns({ frontend: addressFrontend('169.254.20.10', DNS_PORTS), backend: { endpointSelector: { matchLabels: NODE_LOCAL_DNS }, toPorts: [{ port: 8053, protocol: 'TCP', name: 'dns-tcp' }, { port: 5353, protocol: 'UDP', name: 'dns' }] } })],
      pods: [pod('a')],
      podCgroups: CG,
    });
    expect(policyFrontends(state)).toEqual([
      'redirect 169.254.20.10:53/TCP → policy LocalRedirectPolicy/node-local-dns:53/TCP IPv4',
      'redirect 169.254.20.10:53/UDP → policy LocalRedirectPolicy/node-local-dns:53/UDP IPv4',
    ]);
    expect(backends(at(state, '169.254.20.10', 53, 'TCP', 'redirect'))).toEqual(['10.0.1.1:8053 local']);
    expect(backends(at(state, '169.254.20.10', 53, 'UDP', 'redirect'))).toEqual(['10.0.1.1:5353 local']);
  });

  it.each([
    ['one unnamed backend port pairs with every Service port of its protocol', [{ port: 5353, protocol: 'UDP' }], ['53/UDP→5353']],
    ['one named backend port pairs with the Service port of its name', [{ port: 8053, protocol: 'TCP', name: 'dns-tcp' }], ['53/TCP→8053']],
    ['named backend ports pair with Service ports by name and protocol; the rest are not taken over', DNS_PORTS, ['53/TCP→53', '53/UDP→53']],
  ])('serviceMatcher without toPorts: %s', (_rule, toPorts, pairs) => {
    const state = build({
      lrps: [nodeLocalDns({ frontend: serviceFrontend('kube-system', 'kube-dns'), backend: { endpointSelector: { matchLabels: NODE_LOCAL_DNS }, toPorts } })],
      pods: [pod('a', { ips: ['10.0.1.1'] })],
      podCgroups: CG,
    });
    const v4 = state.frontends.filter((f) => f.kind === 'redirect' && f.address === '10.96.0.10');
    expect(v4.map((f) => `${f.port}/${f.protocol}→${state.services.get(f.service)?.backends[0]?.port}`)).toEqual(pairs);
    expect(state.refusals).toEqual([]);
  });

  it('serviceMatcher without toPorts whose backend ports pair with no Service port: nothing, and a refusal', () => {
    const state = build({ lrps: [nodeLocalDns({ frontend: serviceFrontend('kube-system', 'kube-dns'), backend: { endpointSelector: { matchLabels: NODE_LOCAL_DNS }, toPorts: [{ port: 80, protocol: 'TCP', name: 'http' }] } })], podCgroups: CG });
    expect(policyFrontends(state)).toEqual([]);
    expect(reasons(state)).toEqual(['LocalRedirectPolicy/node-local-dns NoPortPairs']);
  });

  it.each([
    ['a missing Service', [], 'ServiceNotFound'],
    ['a headless Service', [kubeDns({ clusterIP: 'None', clusterIPs: ['None'] })], 'ServiceHasNoClusterIP'],
    ['an ExternalName Service', [kubeDns({ type: 'ExternalName', externalName: 'dns.example.com' })], 'ServiceHasNoClusterIP'],
  ])('a serviceMatcher naming %s takes over nothing', (_what, services, reason) => {
    const state = build({ services, lrps: [nodeLocalDns()], pods: [pod('a')], podCgroups: CG });
    expect(policyFrontends(state)).toEqual([]);
    expect(reasons(state)).toEqual([`LocalRedirectPolicy/node-local-dns ${reason}`]);
  });

  it('a malformed cache with two Services of one name, of one age and one output: the policy reads the same one whatever their order', () => {
    const headless = kubeDns({ clusterIP: 'None', clusterIPs: ['None'] });
    const sctpOnly = kubeDns({ ports: [{ name: 'dns', port: 53, protocol: 'SCTP' }] });
    const one = build({ services: [headless, sctpOnly], lrps: [nodeLocalDns()], pods: [pod('a')], podCgroups: CG });
    const other = build({ services: [sctpOnly, headless], lrps: [nodeLocalDns()], pods: [pod('a')], podCgroups: CG });
    expect(reasons(other)).toEqual(reasons(one));
    expect(other.frontends).toEqual(one.frontends);
  });

  it('a listed port the Service does not have is not taken over (the others are)', () => {
    const ports = [...DNS_PORTS, { port: 5353, protocol: 'UDP', name: 'mdns' }];
    const state = build({ lrps: [nodeLocalDns({ frontend: serviceFrontend('kube-system', 'kube-dns', ports), backend: { endpointSelector: { matchLabels: NODE_LOCAL_DNS }, toPorts: ports } })], services: [kubeDns({ clusterIPs: ['10.96.0.10'] })], podCgroups: CG });
    expect(policyFrontends(state).map((f) => f.split(' → ')[0])).toEqual(['redirect 10.96.0.10:53/TCP', 'redirect 10.96.0.10:53/UDP']);
    expect(reasons(state)).toEqual(['LocalRedirectPolicy/node-local-dns ServicePortNotFound']);
  });

  it('never applies outside the cluster (no local pods there), enableOutCluster or not', () => {
    for (const config of [{}, { enableOutCluster: true }]) {
      const state = build({ nodeName: null, lrps: [nodeLocalDns({ config })], pods: [pod('a')], podCgroups: CG });
      expect(policyFrontends(state)).toEqual([]);
      expect(state.refusals).toEqual([]);
    }
  });
});

describe('config.nodeLabelSelector', () => {
  const policy = nodeLocalDns({ config: { nodeLabelSelector: { matchLabels: { 'node-local-dns': 'on' } } } });
  it.each([
    ['this node’s labels match', [policyNode('n1', { 'node-local-dns': 'on' })], true],
    ['this node’s labels do not match', [policyNode('n1', { 'node-local-dns': 'off' })], false],
    ['another node matches, not this one', [policyNode('n1'), policyNode('n2', { 'node-local-dns': 'on' })], false],
    ['this node is not cached (no labels)', [], false],
  ])('applies only where %s', (_case, nodes, applies) => {
    const state = build({ nodes, lrps: [policy], pods: [pod('a')], podCgroups: CG });
    expect(policyFrontends(state).length > 0).toBe(applies);
  });

  it('a selector that matches no label (DoesNotExist) applies on a node that is not cached', () => {
    const state = build({ nodes: [], lrps: [nodeLocalDns({ config: { nodeLabelSelector: { matchExpressions: [{ key: 'no-dns', operator: 'DoesNotExist' }] } } })], pods: [pod('a')], podCgroups: CG });
    expect(policyFrontends(state).length).toBe(4);
  });
});

describe('BalancingPolicy', () => {
  const selector = { endpointSelector: { matchLabels: { app: 'db' } } };
  const dbPods = [
    pod('db-1', { namespace: 'data', labels: { app: 'db' }, node: 'n1', ips: ['10.0.1.1'], hostIPs: ['192.168.0.1'], ports: [{ containerPort: 5432, hostPort: 15432 }] }),
    pod('db-2', { namespace: 'data', labels: { app: 'db' }, node: 'n2', ips: ['10.0.2.1'], hostIPs: ['192.168.0.2'], ports: [{ containerPort: 5432, hostPort: 15432 }] }),
    pod('db-3', { namespace: 'data', labels: { app: 'db' }, node: 'n2', ips: ['10.0.2.2'], hostIPs: ['192.168.0.2'] }),
    pod('db-4', { namespace: 'data', labels: { app: 'db' }, node: 'n3', ips: ['10.0.3.1'], ready: false }),
  ];
  const frontend = addressFrontend('10.96.50.5', [{ port: 5432, protocol: 'TCP' }]);
  const toPorts = [{ port: 5432, protocol: 'TCP' }];

  it('podEndpoint (the default): ready pods on any node, pod IP : backend port, refuses when empty', () => {
    const state = build({ bps: [bp('db', { frontend, backend: { serviceEndpoint: { ...selector, toPorts } } })], pods: dbPods });
    const s = at(state, '10.96.50.5', 5432, 'TCP', 'balancing');
    expect(s?.key).toBe('policy BalancingPolicy/db:5432/TCP IPv4');
    expect(backends(s)).toEqual(['10.0.1.1:5432 local', '10.0.2.1:5432', '10.0.2.2:5432']);
    expect(s?.options).toEqual({ refuseWhenEmpty: true, localOnly: false });
    expect(s?.skipCgroups).toBeUndefined();
    const none = build({ bps: [bp('db', { frontend, backend: { serviceEndpoint: { ...selector, toPorts } } })], pods: [] });
    expect(at(none, '10.96.50.5', 5432, 'TCP', 'balancing')?.backends).toEqual([]);
  });

  it('hostPort: the pod’s node address : the container’s hostPort for the backend port; pods without one are left out, with a refusal', () => {
    const state = build({ bps: [bp('db', { frontend, backend: { serviceEndpoint: { ...selector, toPorts, redirectMode: 'hostPort' } } })], pods: dbPods });
    expect(backends(at(state, '10.96.50.5', 5432, 'TCP', 'balancing'))).toEqual(['192.168.0.1:15432 local', '192.168.0.2:15432']);
    expect(reasons(state)).toEqual(['BalancingPolicy/db NoHostPort']);
  });

  it('nodeProxy: the node annotation balanced.dev/node-proxy-ip (one address per family, comma list) : backend port, one backend per node', () => {
    const nodes = [policyNode('n1', {}, { 'balanced.dev/node-proxy-ip': '192.168.9.1, fd09::1' }), policyNode('n2', {}, { 'balanced.dev/node-proxy-ip': '192.168.9.2' })];
    const state = build({ nodes, bps: [bp('db', { frontend, backend: { serviceEndpoint: { ...selector, toPorts, redirectMode: 'nodeProxy' } } })], pods: dbPods });
    expect(backends(at(state, '10.96.50.5', 5432, 'TCP', 'balancing'))).toEqual(['192.168.9.1:5432 local', '192.168.9.2:5432']);
    expect(state.refusals).toEqual([]);
    const without = build({ nodes: [nodes[0]!], bps: [bp('db', { frontend, backend: { serviceEndpoint: { ...selector, toPorts, redirectMode: 'nodeProxy' } } })], pods: dbPods });
    expect(backends(at(without, '10.96.50.5', 5432, 'TCP', 'balancing'))).toEqual(['192.168.9.1:5432 local']);
    expect(reasons(without)).toEqual(['BalancingPolicy/db NoNodeProxyAddress']);
  });

  it('addressEndpoint: the fixed addresses of the frontend family × the backend port; a family without one refuses, and says so', () => {
    const state = build({
      services: [kubeDns()],
      bps: [bp('dns', { frontend: serviceFrontend('kube-system', 'kube-dns', [{ port: 53, protocol: 'UDP', name: 'dns' }]), backend: { addressEndpoint: { addresses: ['192.0.2.10', '192.0.2.11'], toPorts: [{ port: 5353, protocol: 'UDP', name: 'dns' }] } } })],
    });
    expect(backends(at(state, '10.96.0.10', 53, 'UDP', 'balancing'))).toEqual(['192.0.2.10:5353', '192.0.2.11:5353']);
    expect(at(state, 'fd00::10', 53, 'UDP', 'balancing')?.backends).toEqual([]);
    expect(reasons(state)).toEqual(['BalancingPolicy/dns AddressFamilyNotServed']);
  });

  it('outside the cluster only with enableOutCluster (whatever the node selector says)', () => {
    const policy = (config: Record<string, unknown>) => bp('legacy', { config });
    expect(policyFrontends(build({ nodeName: null, bps: [policy({})] }))).toEqual([]);
    expect(policyFrontends(build({ nodeName: null, bps: [policy({ enableOutCluster: true, nodeLabelSelector: { matchLabels: { a: 'b' } } })] }))).toEqual([
      'balancing 169.254.20.10:80/TCP → policy BalancingPolicy/legacy:80/TCP IPv4',
    ]);
  });
});

describe('policies between themselves', () => {
  it('an invalid policy is refused (the parser’s message) and takes over nothing', () => {
    const state = build({ lrps: [nodeLocalDns({ frontend: addressFrontend('not-an-ip') })], pods: [pod('a')], podCgroups: CG });
    expect(policyFrontends(state)).toEqual([]);
    expect(state.refusals).toEqual([expect.objectContaining({ object: { kind: 'LocalRedirectPolicy', name: 'node-local-dns' }, reason: 'InvalidPolicy', message: expect.stringContaining('spec.frontend.addressMatcher.ip') })]);
  });

  it('two policies of one kind on one frontend: the older holds it, the other is refused naming it', () => {
    const older = nodeLocalDns({}, { creationTimestamp: '2024-01-01T00:00:00Z' });
    const younger = lrp('dns-cache', {}, { creationTimestamp: '2024-06-01T00:00:00Z' });
    const state = build({ lrps: [younger, older], pods: [pod('a')], podCgroups: CG });
    expect(new Set(state.frontends.filter((f) => f.kind === 'redirect').map((f) => f.service.split(':')[0]))).toEqual(new Set(['policy LocalRedirectPolicy/node-local-dns']));
    expect(state.refusals).toEqual([{ object: { kind: 'LocalRedirectPolicy', name: 'dns-cache' }, reason: 'PolicyConflict', message: expect.stringContaining('held by the older LocalRedirectPolicy node-local-dns') }]);
  });

  it('a LocalRedirectPolicy and a BalancingPolicy on one frontend both hold it (redirect is looked up first)', () => {
    const state = build({
      lrps: [nodeLocalDns()],
      bps: [bp('dns', { frontend: serviceFrontend('kube-system', 'kube-dns', [{ port: 53, protocol: 'UDP', name: 'dns' }]), backend: { addressEndpoint: { addresses: ['192.0.2.10'], toPorts: [{ port: 53, protocol: 'UDP', name: 'dns' }] } } })],
      services: [kubeDns({ clusterIPs: ['10.96.0.10'] })],
      pods: [pod('a')],
      podCgroups: CG,
    });
    expect(at(state, '10.96.0.10', 53, 'UDP', 'redirect')).toBeDefined();
    expect(at(state, '10.96.0.10', 53, 'UDP', 'balancing')).toBeDefined();
  });

  it('an address frontend on a Service’s ClusterIP and a serviceMatcher on that Service (seen only here): the older keeps the frontend', () => {
    const byAddress = bp('by-address', { frontend: addressFrontend('10.96.0.10', [{ port: 53, protocol: 'UDP' }]), backend: { addressEndpoint: { addresses: ['192.0.2.10'], toPorts: [{ port: 53, protocol: 'UDP' }] } } }, { creationTimestamp: '2024-01-01T00:00:00Z' });
    const byService = bp('by-service', { frontend: serviceFrontend('kube-system', 'kube-dns', [{ port: 53, protocol: 'UDP' }]), backend: { addressEndpoint: { addresses: ['192.0.2.20'], toPorts: [{ port: 53, protocol: 'UDP' }] } } }, { creationTimestamp: '2024-02-01T00:00:00Z' });
    const state = build({ bps: [byService, byAddress], services: [kubeDns({ clusterIPs: ['10.96.0.10'] })] });
    expect(backends(at(state, '10.96.0.10', 53, 'UDP', 'balancing'))).toEqual(['192.0.2.10:53']);
    expect(state.refusals).toEqual([
      { object: { kind: 'BalancingPolicy', name: 'by-service' }, reason: 'FrontendConflict', message: '10.96.0.10:53/UDP is already resolved for the older BalancingPolicy by-address; it is not resolved for this one', held: { frontend: '10.96.0.10:53/UDP', by: { kind: 'BalancingPolicy', name: 'by-address' } } },
    ]);
    // The loser's unused service is not listed.
    expect([...state.services.keys()].filter((k) => k.includes('by-service'))).toEqual([]);
  });

  it('list items without kind or apiVersion read as the list’s kind', () => {
    const { kind: _k, apiVersion: _a, ...bare } = nodeLocalDns();
    const state = build({ lrps: [bare], pods: [pod('a')], podCgroups: CG });
    expect(policyFrontends(state).length).toBe(4);
  });

  it('a Service key and a policy key never collide, and the Service frontends stay', () => {
    const state = build({ services: [kubeDns(), service('web', { clusterIP: '10.96.0.20' })], lrps: [nodeLocalDns()], pods: [pod('a')], podCgroups: CG });
    const keys = [...state.services.keys()];
    expect(keys.filter((k) => k.startsWith('policy '))).toHaveLength(4);
    expect(keys.filter((k) => !k.startsWith('policy ')).length).toBeGreaterThan(0);
  });
});
