// What the resolver agent tells the policy status writer: Programmed from the state its last
// pass applied, backends per node from the pods it caches.
import { describe, expect, it } from '@jest/globals';
import { lrp } from '@balanced/testkit';
import { agentPolicyPorts, backendsPerNode, programmedState } from '../src/policy-status/agent-ports.js';
import { readPolicy } from '../src/desired/policy-read.js';
import type { DesiredState } from '../src/model.js';
import { pod } from './policy-fixtures.js';

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
