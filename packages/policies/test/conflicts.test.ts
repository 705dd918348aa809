import { describe, expect, test } from '@jest/globals';

import { claimedBy, parsePolicy, resolveConflicts, resolutionConditions, type Policy } from '../src/index.js';
import { addressFrontend, bp, lrp, serviceFrontend, type Json } from '@balanced/testkit';

function policy(object: Json): Policy {
  const r = parsePolicy(object);
  if (!r.ok) throw new Error(r.refusal.message);
  return r.policy;
}

const at = (iso: string): Json => ({ creationTimestamp: iso });

describe('resolveConflicts', () => {
  test('two policies on one Service: the older wins, the newer is Conflicted naming it', () => {
    const older = policy(lrp('node-dns-b', {}, at('2026-01-01T00:00:00Z')));
    const newer = policy(lrp('node-dns-a', {}, at('2026-01-02T00:00:00Z')));
    const r = resolveConflicts([newer, older]);
    expect(r.map((x) => [x.policy.meta.name, x.state])).toEqual([['node-dns-b', 'Accepted'], ['node-dns-a', 'Conflicted']]);
    const conflicted = r[1];
    expect(conflicted?.state === 'Conflicted' && conflicted.winner).toEqual({ kind: 'LocalRedirectPolicy', name: 'node-dns-b' });
    expect(conflicted?.state === 'Conflicted' && conflicted.frontend).toBe('service kube-system/kube-dns port 53/UDP');
  });

  test('same creationTimestamp: the name decides', () => {
    const r = resolveConflicts([policy(lrp('b', {}, at('2026-01-01T00:00:00Z'))), policy(lrp('a', {}, at('2026-01-01T00:00:00Z')))]);
    expect(r.map((x) => [x.policy.meta.name, x.state])).toEqual([['a', 'Accepted'], ['b', 'Conflicted']]);
  });

  test('a policy without creationTimestamp (not stored yet) is the newest', () => {
    const r = resolveConflicts([policy(lrp('a')), policy(lrp('z', {}, at('2026-01-01T00:00:00Z')))]);
    expect(r.find((x) => x.state === 'Accepted')?.policy.meta.name).toBe('z');
  });

  test('disjoint ports, other targets and other kinds do not conflict; every-port claims overlap any port', () => {
    const t = at('2026-01-01T00:00:00Z');
    const list = [
      policy(bp('p80', { frontend: addressFrontend('10.0.0.1', [{ port: 80 }]) }, t)),
      policy(bp('p81', { frontend: addressFrontend('10.0.0.1', [{ port: 81 }]) }, t)),
      policy(bp('p80udp', { frontend: addressFrontend('10.0.0.1', [{ port: 80, protocol: 'UDP' }]), backend: { addressEndpoint: { addresses: ['192.0.2.1'], toPorts: [{ port: 1, protocol: 'UDP' }] } } }, t)),
      policy(bp('other-ip', { frontend: addressFrontend('10.0.0.2', [{ port: 80 }]) }, t)),
      policy(lrp('svc-all', { frontend: serviceFrontend('default', 'web'), backend: { endpointSelector: { matchLabels: { a: 'b' } }, toPorts: [{ port: 8080 }] } }, at('2026-01-02T00:00:00Z'))),
      policy(lrp('svc-one', { frontend: serviceFrontend('default', 'web', [{ port: 443 }]), backend: { endpointSelector: { matchLabels: { a: 'b' } }, toPorts: [{ port: 8443 }] } }, at('2026-01-03T00:00:00Z'))),
      policy(bp('bp-same-svc', { frontend: serviceFrontend('default', 'web') }, t)),
    ];
    const states = Object.fromEntries(resolveConflicts(list).map((x) => [x.policy.meta.name, x.state]));
    expect(states).toEqual({ p80: 'Accepted', p81: 'Accepted', p80udp: 'Accepted', 'other-ip': 'Accepted', 'svc-all': 'Accepted', 'svc-one': 'Conflicted', 'bp-same-svc': 'Accepted' });
  });

  test('IPv6 frontends compare in canonical form', () => {
    const r = resolveConflicts([policy(bp('a', { frontend: addressFrontend('FD00:0::1') }, at('2026-01-01T00:00:00Z'))), policy(bp('b', { frontend: addressFrontend('fd00::1') }, at('2026-01-02T00:00:00Z')))]);
    expect(r.map((x) => x.state)).toEqual(['Accepted', 'Conflicted']);
  });

  test('a loser does not block a third policy it alone overlaps', () => {
    const a = policy(bp('a', { frontend: addressFrontend('10.0.0.1', [{ port: 80, name: 'x' }]), backend: { addressEndpoint: { addresses: ['192.0.2.1'], toPorts: [{ port: 80, name: 'x' }] } } }, at('2026-01-01T00:00:00Z')));
    const b = policy(bp('b', { frontend: addressFrontend('10.0.0.1', [{ port: 80, name: 'x' }, { port: 81, name: 'y' }]), backend: { addressEndpoint: { addresses: ['192.0.2.1'], toPorts: [{ port: 80, name: 'x' }, { port: 81, name: 'y' }] } } }, at('2026-01-02T00:00:00Z')));
    const c = policy(bp('c', { frontend: addressFrontend('10.0.0.1', [{ port: 81 }]) }, at('2026-01-03T00:00:00Z')));
    expect(resolveConflicts([c, b, a]).map((x) => [x.policy.meta.name, x.state])).toEqual([['a', 'Accepted'], ['b', 'Conflicted'], ['c', 'Accepted']]);
  });
});

describe('claimedBy (the webhook check)', () => {
  test('names every other policy of the same kind that holds an overlapping frontend, oldest first', () => {
    const holders = [policy(lrp('y', {}, at('2026-01-02T00:00:00Z'))), policy(lrp('x', {}, at('2026-01-01T00:00:00Z'))), policy(bp('z', { frontend: serviceFrontend('kube-system', 'kube-dns') }))];
    const found = claimedBy(policy(lrp('new')), holders);
    expect(found.map((f) => [f.holder.meta.name, f.frontend])).toEqual([['x', 'service kube-system/kube-dns port 53/UDP'], ['y', 'service kube-system/kube-dns port 53/UDP']]);
    expect(claimedBy(policy(lrp('x')), holders).map((f) => f.holder.meta.name)).toEqual(['y']);
  });
});

describe('conditions', () => {
  test('Conflicted names the winner in the message (reason cannot hold a name)', () => {
    const [, loser] = resolveConflicts([policy(lrp('old', {}, at('2026-01-01T00:00:00Z'))), policy(lrp('new', {}, { ...at('2026-01-02T00:00:00Z'), generation: 4 }))]);
    const conditions = resolutionConditions(loser!, '2026-02-01T00:00:00Z');
    expect(conditions).toEqual([
      expect.objectContaining({ type: 'Accepted', status: 'False', reason: 'FrontendClaimed', observedGeneration: 4 }),
      expect.objectContaining({ type: 'Conflicted', status: 'True', reason: 'FrontendClaimed', lastTransitionTime: '2026-02-01T00:00:00Z' }),
    ]);
    expect(conditions[1]?.message).toContain('LocalRedirectPolicy/old');
    expect(conditions[1]?.message).toContain('change this policy\'s frontend or delete LocalRedirectPolicy "old"');
    for (const c of conditions) expect(c.reason).toMatch(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/);
  });
});
