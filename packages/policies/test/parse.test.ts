import { describe, expect, test } from '@jest/globals';

import { parsePolicy, type Policy, type PolicyRefusal } from '../src/index.js';
import { addressFrontend, bp, lrp, serviceFrontend, type Json } from '@balanced/testkit';

function ok(object: unknown): Policy {
  const r = parsePolicy(object);
  if (!r.ok) throw new Error(`refused: ${r.refusal.message}`);
  return r.policy;
}

function refused(object: unknown): PolicyRefusal {
  const r = parsePolicy(object);
  if (r.ok) throw new Error('accepted');
  return r.refusal;
}

/** The refusal has a problem at `field` whose message contains every `words`. */
function expectProblem(object: unknown, field: string, ...words: string[]): void {
  const r = refused(object);
  const p = r.problems.find((x) => x.field === field);
  expect({ field, message: p?.message, all: r.message }).toEqual(expect.objectContaining({ field, message: expect.any(String) }));
  for (const w of words) expect(p?.message).toContain(w);
}

describe('valid policies', () => {
  test('node-local DNS: LocalRedirectPolicy on a Service, ports paired by name and protocol', () => {
    const p = ok(lrp('node-dns', {}, { uid: 'u1', generation: 3, creationTimestamp: '2026-01-02T03:04:05Z' }));
    expect(p.kind).toBe('LocalRedirectPolicy');
    expect(p.meta).toEqual({ name: 'node-dns', uid: 'u1', generation: 3, createdAt: Date.parse('2026-01-02T03:04:05Z') });
    expect(p.frontend).toMatchObject({ type: 'service', namespace: 'kube-system', serviceName: 'kube-dns' });
    expect(p.pairs?.map((x) => [x.frontend.name, x.backend.name, x.backend.protocol])).toEqual([['dns', 'dns', 'UDP'], ['dns-tcp', 'dns-tcp', 'TCP']]);
    expect(p.config).toEqual({ enableOutCluster: false });
  });

  test('a Date creationTimestamp (client-node typed list) reads like the string', () => {
    expect(ok(lrp('a', {}, { creationTimestamp: new Date('2026-01-02T03:04:05Z') })).meta.createdAt).toBe(Date.parse('2026-01-02T03:04:05Z'));
  });

  test('BalancingPolicy to fixed addresses: one unnamed port each side pairs; addresses canonical', () => {
    const p = ok(bp('ext', { backend: { addressEndpoint: { addresses: ['192.0.2.10', 'FD00:0:0::A'], toPorts: [{ port: 8080 }] } } }));
    expect(p.kind === 'BalancingPolicy' && p.backend).toEqual({ type: 'addressEndpoint', addresses: ['192.0.2.10', 'fd00::a'], toPorts: [{ port: 8080, protocol: 'TCP' }] });
    expect(p.pairs).toEqual([{ frontend: { port: 80, protocol: 'TCP' }, backend: { port: 8080, protocol: 'TCP' } }]);
  });

  test('serviceEndpoint: redirectMode defaults to podEndpoint; node selection read', () => {
    const p = ok(bp('pods', {
      backend: { serviceEndpoint: { endpointSelector: { matchLabels: { app: 'web' } }, toPorts: [{ port: 8080, name: 'http' }] } },
      config: { enableOutCluster: true, nodeLabelSelector: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } },
    }));
    expect(p.kind === 'BalancingPolicy' && p.backend.type === 'serviceEndpoint' && p.backend.redirectMode).toBe('podEndpoint');
    expect(p.config).toEqual({ enableOutCluster: true, nodeLabelSelector: { matchLabels: {}, matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } });
  });

  test('serviceMatcher without toPorts takes every Service port (pairs come later, from the Service)', () => {
    const p = ok(lrp('all', { frontend: serviceFrontend('default', 'web'), backend: { endpointSelector: { matchLabels: { a: 'b' } }, toPorts: [{ port: 8080, name: 'http' }, { port: 8443, name: 'https' }] } }));
    expect(p.frontend).toEqual({ type: 'service', namespace: 'default', serviceName: 'web' });
    expect(p.pairs).toBeUndefined();
  });
});

describe('refusals say what to change', () => {
  test('not an object, wrong kind, wrong apiVersion, no name, no spec', () => {
    expect(refused(null).problems[0]?.message).toContain('must be a JSON object');
    expectProblem({ kind: 'Service' }, 'kind', 'LocalRedirectPolicy or BalancingPolicy');
    expectProblem({ ...lrp('x'), apiVersion: 'balancing.elf.io/v1beta1' }, 'apiVersion', 'balanced.dev/v1alpha1');
    expectProblem({ ...lrp('x'), metadata: {} }, 'metadata.name', 'give the policy a name');
    expectProblem({ ...lrp('x'), spec: undefined }, 'spec', 'add spec.frontend');
  });

  test('exactly one frontend kind', () => {
    expectProblem(lrp('x', { frontend: {} }), 'spec.frontend', 'set exactly one');
    expectProblem(lrp('x', { frontend: { ...addressFrontend('10.0.0.1'), ...serviceFrontend('a', 'b') } }), 'spec.frontend', 'keep exactly one');
  });

  test('exactly one backend kind (BalancingPolicy)', () => {
    expectProblem(bp('x', { backend: {} }), 'spec.backend', 'set exactly one');
    expectProblem(bp('x', { backend: { serviceEndpoint: { endpointSelector: { matchLabels: { a: 'b' } }, toPorts: [{ port: 1 }] }, addressEndpoint: { addresses: ['192.0.2.1'], toPorts: [{ port: 1 }] } } }), 'spec.backend', 'keep exactly one');
  });

  test('addresses: not an IP, a CIDR, a zone, leading zeros, duplicates', () => {
    for (const bad of ['10.0.0', '10.0.0.0/24', 'fe80::1%eth0', '010.0.0.1', 'dns.local', 7]) {
      expectProblem(bp('x', { frontend: { addressMatcher: { ip: bad, toPorts: [{ port: 80 }] } } }), 'spec.frontend.addressMatcher.ip', 'is not an IP address', 'no prefix length');
    }
    expectProblem(bp('x', { backend: { addressEndpoint: { addresses: ['fd00::a', 'FD00::A'], toPorts: [{ port: 1 }] } } }), 'spec.backend.addressEndpoint.addresses[1]', 'remove the duplicate');
    expectProblem(bp('x', { backend: { addressEndpoint: { addresses: [], toPorts: [{ port: 1 }] } } }), 'spec.backend.addressEndpoint.addresses', 'list the backend IP addresses');
  });

  test('ports: range, protocol, names, duplicates, empty lists', () => {
    const withPorts = (ports: Json[]): Json => bp('x', { frontend: addressFrontend('10.0.0.1', ports), backend: { addressEndpoint: { addresses: ['192.0.2.1'], toPorts: ports } } });
    expectProblem(withPorts([{ port: 0 }]), 'spec.frontend.addressMatcher.toPorts[0].port', '1 to 65535');
    expectProblem(withPorts([{ port: 65536 }]), 'spec.frontend.addressMatcher.toPorts[0].port', '1 to 65535');
    expectProblem(withPorts([{ port: '80' }]), 'spec.frontend.addressMatcher.toPorts[0].port', '1 to 65535');
    expectProblem(withPorts([{ port: 80, protocol: 'SCTP' }]), 'spec.frontend.addressMatcher.toPorts[0].protocol', 'TCP or UDP');
    expectProblem(withPorts([{ port: 80, name: 'HTTP' }]), 'spec.frontend.addressMatcher.toPorts[0].name', 'DNS label');
    expectProblem(withPorts([{ port: 80, name: 'a' }, { port: 80, name: 'b' }]), 'spec.frontend.addressMatcher.toPorts', '80/TCP twice', 'remove the duplicate');
    expectProblem(withPorts([{ port: 80, name: 'a' }, { port: 81, name: 'a' }]), 'spec.frontend.addressMatcher.toPorts', 'own name');
    expectProblem(withPorts([]), 'spec.frontend.addressMatcher.toPorts', 'at least one port');
    expectProblem(lrp('x', { frontend: serviceFrontend('a', 'b', []) }), 'spec.frontend.serviceMatcher.toPorts', 'leave toPorts out');
  });

  test('port pairing by name and protocol', () => {
    const pair = (front: Json[], back: Json[]): Json => lrp('x', { frontend: serviceFrontend('kube-system', 'kube-dns', front), backend: { endpointSelector: { matchLabels: { a: 'b' } }, toPorts: back } });
    expectProblem(pair([{ port: 53, protocol: 'UDP' }], [{ port: 53, protocol: 'TCP' }]), 'spec.backend.toPorts[0].protocol', 'use the same protocol');
    expectProblem(pair([{ port: 53, name: 'dns' }], [{ port: 53, name: 'domain' }]), 'spec.backend.toPorts[0].name', 'use the same name');
    expectProblem(pair([{ port: 53, name: 'a' }, { port: 54 }], [{ port: 53, name: 'a' }, { port: 54, name: 'b' }]), 'spec.frontend.serviceMatcher.toPorts[1].name', 'name every frontend and backend port');
    expectProblem(pair([{ port: 53, name: 'a' }, { port: 54, name: 'b' }], [{ port: 53, name: 'a' }, { port: 54, name: 'c' }]), 'spec.frontend.serviceMatcher.toPorts[1]', 'no backend port with the same name and protocol');
    expectProblem(pair([{ port: 53, name: 'a' }, { port: 54, name: 'b' }], [{ port: 53, name: 'a' }, { port: 54, name: 'c' }]), 'spec.backend.toPorts[1]', 'remove it or add a matching port');
    expectProblem(pair([{ port: 53, name: 'a', protocol: 'UDP' }, { port: 54, name: 'b' }], [{ port: 53, name: 'a' }, { port: 54, name: 'b' }]), 'spec.frontend.serviceMatcher.toPorts[0]', 'same name and protocol');
    expectProblem(lrp('x', { frontend: serviceFrontend('a', 'b'), backend: { endpointSelector: { matchLabels: { a: 'b' } }, toPorts: [{ port: 1 }, { port: 2 }] } }), 'spec.backend.toPorts[0].name', 'name each backend port after the Service port');
  });

  test('selectors: missing, empty (would select every pod), malformed', () => {
    expectProblem(lrp('x', { backend: { toPorts: [{ port: 53 }] } }), 'spec.backend.endpointSelector', 'is missing', 'every namespace');
    expectProblem(lrp('x', { backend: { endpointSelector: {}, toPorts: [{ port: 53 }] } }), 'spec.backend.endpointSelector', 'add matchLabels');
    expectProblem(lrp('x', { backend: { endpointSelector: { matchExpressions: [{ key: 'a', operator: 'Near' }] }, toPorts: [{ port: 53 }] } }), 'spec.backend.endpointSelector.matchExpressions[0].operator', 'In, NotIn', 'write a label selector');
    expectProblem(bp('x', { config: { nodeLabelSelector: 'zone=a' } }), 'spec.config.nodeLabelSelector', 'write a label selector');
  });

  test('service matcher names, redirectMode, enableOutCluster', () => {
    expectProblem(lrp('x', { frontend: serviceFrontend('Kube_System', 'kube-dns') }), 'spec.frontend.serviceMatcher.namespace', "Service's namespace");
    expectProblem(lrp('x', { frontend: serviceFrontend('default', '1web') }), 'spec.frontend.serviceMatcher.serviceName', 'DNS-1035');
    expectProblem(bp('x', { backend: { serviceEndpoint: { endpointSelector: { matchLabels: { a: 'b' } }, toPorts: [{ port: 1 }], redirectMode: 'nodePort' } } }), 'spec.backend.serviceEndpoint.redirectMode', 'podEndpoint, hostPort, nodeProxy');
    expectProblem(bp('x', { config: { enableOutCluster: 'yes' } }), 'spec.config.enableOutCluster', 'true or false');
  });

  test('every problem is listed at once, and the one-line message joins them', () => {
    const r = refused(bp('x', { frontend: { addressMatcher: { ip: 'nope', toPorts: [{ port: 0 }] } }, config: { enableOutCluster: 1 } }));
    expect(r.problems.map((p) => p.field).sort()).toEqual(['spec.config.enableOutCluster', 'spec.frontend.addressMatcher.ip', 'spec.frontend.addressMatcher.toPorts[0].port']);
    expect(r.message.split('; ')).toHaveLength(3);
    expect(r).toMatchObject({ kind: 'BalancingPolicy', name: 'x' });
  });

  test('own properties only: __proto__ tricks read as absent', () => {
    const object = JSON.parse('{"apiVersion":"balanced.dev/v1alpha1","kind":"LocalRedirectPolicy","metadata":{"name":"x"},"spec":{"__proto__":{"frontend":{}}}}') as unknown;
    expectProblem(object, 'spec.frontend', 'is missing');
  });
});

describe('addresses as the CRD\'s isIP() takes them', () => {
  test('IPv4-mapped IPv6 is refused; IPv6 is kept canonical', () => {
    expectProblem(bp('x', { frontend: addressFrontend('::ffff:10.0.0.1') }), 'spec.frontend.addressMatcher.ip', 'not IPv4-mapped');
    const p = ok(bp('x', { frontend: addressFrontend('2001:DB8:0:0::1') }));
    expect(p.frontend.type === 'address' && p.frontend.ip).toBe('2001:db8::1');
  });
});
