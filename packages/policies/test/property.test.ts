import { describe, expect, jest, test } from '@jest/globals';
import fc from 'fast-check';

import { defaultingPatch, parsePolicy, resolveConflicts, type Policy } from '../src/index.js';

// Hundreds of generated cases on a shared 2-core machine: a deadline, not a timing.
jest.setTimeout(60_000);

const portArb = fc.record({ port: fc.constantFrom(53, 80, 443), protocol: fc.constantFrom('TCP', 'UDP') });
const frontendArb = fc.oneof(
  fc.record({ addressMatcher: fc.record({ ip: fc.constantFrom('10.0.0.1', '10.0.0.2', 'fd00::1', 'FD00::0:1'), toPorts: fc.tuple(portArb) }) }),
  fc.record({ serviceMatcher: fc.record({ namespace: fc.constantFrom('default', 'kube-system'), serviceName: fc.constantFrom('web', 'dns') }, { requiredKeys: ['namespace', 'serviceName'] }) }),
);
const policyArb = fc.record({
  kind: fc.constantFrom('LocalRedirectPolicy', 'BalancingPolicy'),
  name: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
  created: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  frontend: frontendArb,
});

function toObject(p: { kind: string; name: string; created: number | undefined; frontend: Record<string, unknown> }): unknown {
  const ports = [{ port: 8080 }];
  const backend = p.kind === 'LocalRedirectPolicy' ? { endpointSelector: { matchLabels: { app: 'x' } }, toPorts: ports } : { addressEndpoint: { addresses: ['192.0.2.1'], toPorts: ports } };
  const frontend = p.frontend as { addressMatcher?: { ip: string; toPorts: { port: number; protocol: string }[] } };
  // backend protocol follows the frontend's so the single ports pair
  if (frontend.addressMatcher?.toPorts[0] !== undefined) Object.assign(ports[0]!, { protocol: frontend.addressMatcher.toPorts[0].protocol });
  return {
    apiVersion: 'balanced.dev/v1alpha1',
    kind: p.kind,
    metadata: { name: p.name, ...(p.created !== undefined ? { creationTimestamp: new Date(Date.UTC(2026, 0, 1 + p.created)).toISOString() } : {}) },
    spec: { frontend: p.frontend, backend },
  };
}

function parsed(list: readonly unknown[]): Policy[] {
  return list.flatMap((o) => {
    const r = parsePolicy(o);
    return r.ok ? [r.policy] : [];
  });
}

const summary = (policies: readonly Policy[]): string[] =>
  resolveConflicts(policies).map((r) => `${r.policy.kind}/${r.policy.meta.name}:${r.state}${r.state === 'Conflicted' ? `<${r.winner.name}` : ''}`).sort();

describe('resolveConflicts properties', () => {
  test('the result does not depend on the order policies arrive in', () => {
    fc.assert(
      fc.property(fc.uniqueArray(policyArb, { selector: (p) => `${p.kind}/${p.name}`, maxLength: 8 }).chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length }))), ([list, shuffled]) => {
        const policies = parsed(list.map(toObject));
        expect(policies).toHaveLength(list.length);
        expect(summary(parsed(shuffled.map(toObject)))).toEqual(summary(policies));
      }),
      { numRuns: 300 },
    );
  });

  test('accepted policies of one kind never overlap, and every conflicted one names an accepted older-or-equal winner', () => {
    fc.assert(
      fc.property(fc.uniqueArray(policyArb, { selector: (p) => `${p.kind}/${p.name}`, maxLength: 8 }), (list) => {
        const result = resolveConflicts(parsed(list.map(toObject)));
        const accepted = new Map(result.filter((r) => r.state === 'Accepted').map((r) => [`${r.policy.kind}/${r.policy.meta.name}`, r.policy]));
        for (const r of result) {
          if (r.state !== 'Conflicted') continue;
          const winner = accepted.get(`${r.winner.kind}/${r.winner.name}`);
          expect(winner).toBeDefined();
          expect(winner!.meta.createdAt ?? Infinity).toBeLessThanOrEqual(r.policy.meta.createdAt ?? Infinity);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('parse and defaults never throw', () => {
  test('on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const r = parsePolicy(value);
        if (!r.ok) expect(r.refusal.problems.length).toBeGreaterThan(0);
        expect(Array.isArray(defaultingPatch(value))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  test('on arbitrary JSON inside a policy-shaped object', () => {
    const anything = fc.jsonValue();
    fc.assert(
      fc.property(fc.constantFrom('LocalRedirectPolicy', 'BalancingPolicy'), anything, anything, anything, anything, (kind, frontend, backend, config, metadata) => {
        const object = { apiVersion: 'balanced.dev/v1alpha1', kind, metadata, spec: { frontend, backend, config } };
        const r = parsePolicy(object);
        expect(typeof r.ok).toBe('boolean');
        if (!r.ok) for (const p of r.refusal.problems) expect(p.message.length).toBeGreaterThan(0);
        defaultingPatch(object);
      }),
      { numRuns: 1000 },
    );
  });
});
