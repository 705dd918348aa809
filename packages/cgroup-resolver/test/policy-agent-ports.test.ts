// What the resolver agent tells the policy status writer: Programmed and frontend conflicts from
// the state its last pass applied, backends per node from the pods it caches.
import { describe, expect, it } from '@jest/globals';
import { addressFrontend, bp, lrp, serviceFrontend } from '@balanced/testkit';
import { agentPolicyPorts, backendsPerNode, programmedState } from '../src/policy-status/agent-ports.js';
import { desiredStatuses } from '../src/policy-status/compute.js';
import { readPolicy } from '../src/desired/policy-read.js';
import type { DesiredState } from '../src/model.js';
import { build, kubeDns, pod } from './policy-fixtures.js';

const ref = { kind: 'LocalRedirectPolicy', name: 'dns' } as const;
const key = 'policy LocalRedirectPolicy/dns:53/UDP IPv4';
const state = (backends: number, refusals: DesiredState['refusals'] = []): DesiredState => ({
  services: new Map([
    [key, { key, backends: Array.from({ length: backends }, (_, i) => ({ address: `10.0.1.${i + 1}`, port: 53, weight: 1, local: true })), options: { refuseWhenEmpty: false, localOnly: true } }],
    ['kube-system/kube-dns:dns/UDP IPv4', { key: 'x', backends: [], options: { refuseWhenEmpty: true, localOnly: false } }],
  ]),
  frontends: [
    { address: '10.96.0.10', port: 53, protocol: 'UDP', kind: 'redirect', service: key },
    { address: '10.96.0.10', port: 53, protocol: 'UDP', kind: 'service', service: 'kube-system/kube-dns:dns/UDP IPv4' },
  ],
  refusals,
});

describe('programmedState', () => {
  it('True with the counts when the applied state holds the policy; says when a redirect falls back', () => {
    expect(programmedState(state(2), ref, 'n1')).toMatchObject({ status: 'True', reason: 'Programmed', message: 'node n1 resolves 1 frontend(s) of this policy to 2 backend(s)' });
    expect(programmedState(state(0), ref, 'n1').message).toContain('falls back to the Service');
  });
  it('False with the agent\'s refusal; Unknown when the policy does not apply here or no pass succeeded', () => {
    const refused = { services: new Map(), frontends: [], refusals: [{ object: { kind: 'LocalRedirectPolicy', name: 'dns' }, reason: 'ServiceNotFound', message: 'no Service kube-system/kube-dns' }] } satisfies DesiredState;
    expect(programmedState(refused, ref, 'n1')).toEqual({ status: 'False', reason: 'NotProgrammed', message: 'node n1: no Service kube-system/kube-dns' });
    expect(programmedState({ services: new Map(), frontends: [], refusals: [] }, ref, 'n1')).toMatchObject({ status: 'Unknown', reason: 'NotOnThisNode' });
    expect(programmedState(undefined, ref, 'n1')).toMatchObject({ status: 'Unknown', reason: 'NoGoodPass' });
  });
  it('reasons are valid condition reasons', () => {
    for (const s of [programmedState(state(1), ref, 'n1'), programmedState(undefined, ref, undefined)]) expect(s.reason).toMatch(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/);
  });
});

describe('backendsPerNode', () => {
  const policy = readPolicy(lrp('dns'), 'LocalRedirectPolicy');
  it('counts usable selected pods per node (not-ready, deleting and unselected pods are not counted)', () => {
    if (!policy.ok) throw new Error(policy.refusal.message);
    const pods = [pod('a', { node: 'n1' }), pod('b', { node: 'n1' }), pod('c', { node: 'n2' }), pod('d', { node: 'n2', ready: false }), pod('e', { node: 'n2', deleting: true }), pod('f', { node: 'n3', labels: { app: 'other' } })];
    expect(Object.fromEntries(backendsPerNode(policy.policy, pods)!)).toEqual({ n1: 2, n2: 1 });
  });
  it('the ports find the policy by kind and name in the cache', () => {
    const ports = agentPolicyPorts({ nodeName: 'n1', applied: () => undefined, policies: (kind) => (kind === 'LocalRedirectPolicy' ? [lrp('dns')] : []), pods: () => [pod('a', { node: 'n1' })] });
    expect(Object.fromEntries(ports.backendsPerNode(ref)!)).toEqual({ n1: 1 });
    expect(ports.backendsPerNode({ kind: 'BalancingPolicy', name: 'dns' })).toBeUndefined();
  });
});

describe('frontendConflicts: an addressMatcher on a Service’s ClusterIP vs a serviceMatcher on that Service', () => {
  const dnsOnly = (ports: Record<string, unknown>[]) => ({ addressEndpoint: { addresses: ['192.0.2.10'], toPorts: ports } });
  const udp = [{ port: 53, protocol: 'UDP', name: 'dns' }];
  const both = [...udp, { port: 53, protocol: 'TCP', name: 'dns-tcp' }];
  const byAddress = bp('by-address', { frontend: addressFrontend('10.96.0.10', [{ port: 53, protocol: 'UDP' }]), backend: dnsOnly([{ port: 53, protocol: 'UDP' }]) }, { creationTimestamp: '2024-01-01T00:00:00Z', generation: 1 });
  const byService = (toPorts: Record<string, unknown>[]) =>
    bp('by-service', { frontend: serviceFrontend('kube-system', 'kube-dns', toPorts), backend: dnsOnly(toPorts) }, { creationTimestamp: '2024-02-01T00:00:00Z', generation: 4 });
  const portsFor = (policies: unknown[]) => {
    const state = build({ bps: policies, services: [kubeDns({ clusterIPs: ['10.96.0.10'] })] });
    return agentPolicyPorts({ nodeName: 'n1', applied: () => state, policies: (kind) => (kind === 'BalancingPolicy' ? policies : []), pods: () => [] });
  };
  const conditionsOf = (policies: unknown[], name: string) => {
    const planned = desiredStatuses(policies, portsFor(policies), Date.parse('2026-01-01T00:00:00Z')).find((p) => p.target.name === name);
    return Object.fromEntries((planned?.desired.conditions ?? []).map((c) => [c.type, c]));
  };

  it('the agent’s settled state names the older winner for the newer policy, nothing for the winner', () => {
    const ports = portsFor([byService(both), byAddress]);
    expect(ports.frontendConflicts?.({ kind: 'BalancingPolicy', name: 'by-service' })).toEqual([{ frontend: '10.96.0.10:53/UDP', winner: { kind: 'BalancingPolicy', name: 'by-address' } }]);
    expect(ports.frontendConflicts?.({ kind: 'BalancingPolicy', name: 'by-address' })).toEqual([]);
    expect(agentPolicyPorts({ nodeName: 'n1', applied: () => undefined, policies: () => [], pods: () => [] }).frontendConflicts?.({ kind: 'BalancingPolicy', name: 'by-service' })).toEqual([]);
  });

  it('status: the newer is Conflicted (FrontendClaimed, naming the winner), still Accepted and Programmed for what it holds; the older is not Conflicted', () => {
    const policies = [byService(both), byAddress];
    const loser = conditionsOf(policies, 'by-service');
    expect(loser['Conflicted']).toMatchObject({ status: 'True', reason: 'FrontendClaimed', observedGeneration: 4 });
    expect(loser['Conflicted']?.message).toContain('10.96.0.10:53/UDP is held by BalancingPolicy/by-address, which is older');
    expect(loser['Accepted']).toMatchObject({ status: 'True', reason: 'Accepted' });
    // 53/TCP is not contested: the policy resolves it.
    expect(loser['Programmed']).toMatchObject({ status: 'True', reason: 'Programmed' });
    expect(conditionsOf(policies, 'by-address')['Conflicted']).toMatchObject({ status: 'False', reason: 'NoConflict' });
  });

  it('status: a newer policy that lost its whole frontend is Conflicted and not Programmed, both naming the winner', () => {
    const loser = conditionsOf([byAddress, byService(udp)], 'by-service');
    expect(loser['Conflicted']).toMatchObject({ status: 'True', reason: 'FrontendClaimed', message: expect.stringContaining('BalancingPolicy/by-address') });
    expect(loser['Programmed']).toMatchObject({ status: 'False', reason: 'NotProgrammed', message: expect.stringContaining('older BalancingPolicy by-address') });
  });
});
