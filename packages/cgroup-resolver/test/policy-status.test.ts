// The policy status computation (src/policy-status/compute.ts, patch.ts): pure, from raw
// objects and the two agent ports.

import { describe, expect, test } from '@jest/globals';
import { addressFrontend, bp, lrp, type Json } from '@balanced/testkit';
import type { PolicyRef } from '@balanced/policies';

import { desiredStatuses, statusPatch, statusUpToDate, type PolicyStatus, type PolicyStatusPorts, type ProgrammedState } from '../src/policy-status/index.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const T1 = Date.parse('2026-01-02T00:00:00Z');
const T0S = '2026-01-01T00:00:00Z';
const T1S = '2026-01-02T00:00:00Z';
const CREATED = '2025-12-01T00:00:00Z';

const PROGRAMMED: ProgrammedState = { status: 'True', reason: 'Programmed', message: 'the maps hold its frontends' };

interface FakePorts extends PolicyStatusPorts {
  readonly asked: string[];
}

function fakePorts(programmed: Record<string, ProgrammedState> = {}, backends: Record<string, Record<string, number>> = {}): FakePorts {
  const asked: string[] = [];
  return {
    asked,
    programmed(ref: PolicyRef) {
      asked.push(`programmed ${ref.kind}/${ref.name}`);
      return programmed[ref.name] ?? PROGRAMMED;
    },
    backendsPerNode(ref: PolicyRef) {
      asked.push(`backends ${ref.kind}/${ref.name}`);
      const b = backends[ref.name];
      return b === undefined ? undefined : new Map(Object.entries(b));
    },
  };
}

function meta(extra: Json = {}): Json {
  return { creationTimestamp: CREATED, generation: 1, resourceVersion: '10', ...extra };
}

function only(objects: unknown[], ports: PolicyStatusPorts = fakePorts(), now = T0): PolicyStatus {
  const [planned] = desiredStatuses(objects, ports, now);
  if (planned === undefined) throw new Error('no status planned');
  return planned.desired;
}

function withStatus(object: Json, status: PolicyStatus): Json {
  return { ...object, status: JSON.parse(JSON.stringify(status)) as Json };
}

describe('desiredStatuses', () => {
  test('a valid policy: Accepted, not Conflicted, Programmed and nodes from the ports, at its generation', () => {
    const ports = fakePorts({}, { a: { 'node-b': 0, 'node-a': 2 } });
    const status = only([lrp('a', {}, meta({ generation: 3 }))], ports);
    const at3 = { observedGeneration: 3, lastTransitionTime: T0S };
    expect(status).toEqual({
      observedGeneration: 3,
      conditions: [
        { type: 'Accepted', status: 'True', reason: 'Accepted', message: expect.any(String), ...at3 },
        { type: 'Conflicted', status: 'False', reason: 'NoConflict', message: expect.any(String), ...at3 },
        { type: 'Programmed', status: 'True', reason: 'Programmed', message: 'the maps hold its frontends', ...at3 },
      ],
      nodes: [
        { node: 'node-a', backends: 2 },
        { node: 'node-b', backends: 0 },
      ],
    });
    expect(ports.asked).toEqual(['programmed LocalRedirectPolicy/a', 'backends LocalRedirectPolicy/a']);
  });

  test('the Programmed answer is the port’s, whatever it is', () => {
    const pending: ProgrammedState = { status: 'Unknown', reason: 'Pending', message: 'not yet planned' };
    const status = only([bp('b', {}, meta())], fakePorts({ b: pending }));
    expect(status.conditions.find((c) => c.type === 'Programmed')).toEqual({ type: 'Programmed', ...pending, observedGeneration: 1, lastTransitionTime: T0S });
  });

  test('nodes not computed (undefined): the field is left out, not written empty', () => {
    const status = only([lrp('a', {}, meta())]);
    expect('nodes' in status).toBe(false);
  });

  test('no generation on the object: no observedGeneration anywhere', () => {
    const status = only([lrp('a', {}, { creationTimestamp: CREATED })]);
    expect('observedGeneration' in status).toBe(false);
    expect(status.conditions.every((c) => !('observedGeneration' in c))).toBe(true);
  });

  test('an invalid object: Accepted=False reason Invalid naming the field, not programmed, no Conflicted; the ports are not asked', () => {
    const ports = fakePorts();
    const status = only([bp('broken', { frontend: addressFrontend('10.0.0.300') }, meta({ generation: 4 }))], ports);
    expect(status.observedGeneration).toBe(4);
    expect(status.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Accepted', 'False', 'Invalid'],
      ['Programmed', 'False', 'NotAccepted'],
    ]);
    expect(status.conditions[0]?.message).toContain('spec.frontend.addressMatcher.ip');
    expect('nodes' in status).toBe(false);
    expect(ports.asked).toEqual([]);
  });

  test('two policies claiming one frontend, created in the same second: the first by name wins, the other is Conflicted naming it', () => {
    for (const order of [
      ['alpha', 'beta'],
      ['beta', 'alpha'],
    ]) {
      const ports = fakePorts();
      const planned = desiredStatuses(
        order.map((n) => lrp(n, {}, meta())),
        ports,
        T0,
      );
      const byName = new Map(planned.map((p) => [p.target.name, p.desired]));
      expect(byName.get('alpha')?.conditions.map((c) => [c.type, c.status])).toEqual([
        ['Accepted', 'True'],
        ['Conflicted', 'False'],
        ['Programmed', 'True'],
      ]);
      const beta = byName.get('beta');
      expect(beta?.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
        ['Accepted', 'False', 'FrontendClaimed'],
        ['Conflicted', 'True', 'FrontendClaimed'],
        ['Programmed', 'False', 'NotAccepted'],
      ]);
      expect(beta?.conditions.find((c) => c.type === 'Conflicted')?.message).toContain('LocalRedirectPolicy/alpha');
      expect('nodes' in (beta ?? {})).toBe(false);
      expect(ports.asked.filter((a) => a.includes('beta'))).toEqual([]);
    }
  });

  test('an older policy wins over a newer one whatever the names', () => {
    const planned = desiredStatuses([lrp('alpha', {}, meta({ creationTimestamp: '2025-12-02T00:00:00Z' })), lrp('zulu', {}, meta())], fakePorts(), T0);
    const alpha = planned.find((p) => p.target.name === 'alpha')?.desired;
    expect(alpha?.conditions.find((c) => c.type === 'Conflicted')).toMatchObject({ status: 'True', message: expect.stringContaining('LocalRedirectPolicy/zulu') });
  });

  test('a frontend the agent gave to an older policy (a conflict the specs do not show): Conflicted naming each winner once, still Accepted, Programmed as the agent says; the conflict clears with the agent’s answer', () => {
    const held = [
      { frontend: '10.96.0.10:53/UDP', winner: { kind: 'LocalRedirectPolicy', name: 'by-address' } },
      { frontend: '10.96.0.10:53/TCP', winner: { kind: 'LocalRedirectPolicy', name: 'by-address' } },
      { frontend: '[fd00::10]:53/UDP', winner: { kind: 'LocalRedirectPolicy', name: 'other' } },
    ] as const;
    const ports: PolicyStatusPorts = { ...fakePorts({ loser: { status: 'False', reason: 'NotProgrammed', message: 'node n1: refused' } }), frontendConflicts: (ref) => (ref.name === 'loser' ? held : []) };
    const object = lrp('loser', {}, meta({ generation: 2 }));
    const status = only([object], ports);
    const at2 = { observedGeneration: 2, lastTransitionTime: T0S };
    expect(status.conditions).toEqual([
      { type: 'Accepted', status: 'True', reason: 'Accepted', message: expect.stringContaining('see Conflicted'), ...at2 },
      {
        type: 'Conflicted',
        status: 'True',
        reason: 'FrontendClaimed',
        message: expect.stringMatching(/^10\.96\.0\.10:53\/UDP, 10\.96\.0\.10:53\/TCP are held by LocalRedirectPolicy\/by-address, which is older .*; \[fd00::10\]:53\/UDP is held by LocalRedirectPolicy\/other, which is older .*delete LocalRedirectPolicy "other"$/),
        ...at2,
      },
      { type: 'Programmed', status: 'False', reason: 'NotProgrammed', message: 'node n1: refused', ...at2 },
    ]);
    // The agent settles it no more (the winner deleted): Conflicted flips back, with a new time.
    const cleared = only([withStatus(object, status)], { ...ports, frontendConflicts: () => [] }, T1);
    expect(cleared.conditions.find((c) => c.type === 'Conflicted')).toMatchObject({ status: 'False', reason: 'NoConflict', lastTransitionTime: T1S });
    expect(cleared.conditions.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'True', lastTransitionTime: T0S });
  });

  test('a LocalRedirectPolicy and a BalancingPolicy on one frontend do not conflict', () => {
    const frontend = addressFrontend('169.254.20.10');
    const backend = { endpointSelector: { matchLabels: { app: 'cache' } }, toPorts: [{ port: 8080, protocol: 'TCP' }] };
    const planned = desiredStatuses([lrp('a', { frontend, backend }, meta()), bp('a', { frontend }, meta())], fakePorts(), T0);
    expect(planned.map((p) => [p.target.kind, p.desired.conditions[0]?.status])).toEqual([
      ['LocalRedirectPolicy', 'True'],
      ['BalancingPolicy', 'True'],
    ]);
  });

  test('the target carries kind, name and the resourceVersion the status was computed from', () => {
    const [planned] = desiredStatuses([lrp('a', {}, meta({ resourceVersion: '42' }))], fakePorts(), T0);
    expect(planned?.target).toEqual({ kind: 'LocalRedirectPolicy', name: 'a', resourceVersion: '42' });
  });

  test('objects that are not a policy of ours, or have no name, get no status', () => {
    const planned = desiredStatuses([{ kind: 'Service', metadata: { name: 'x' } }, lrp('', {}, meta()), null, 'text'], fakePorts(), T0);
    expect(planned).toEqual([]);
  });

  test('lastTransitionTime is kept while a condition’s status stays, moves when it flips', () => {
    const object = lrp('a', {}, meta());
    const first = only([object], fakePorts(), T0);
    // Nothing changed a day later: the same status, times included.
    const again = only([withStatus(object, first)], fakePorts(), T1);
    expect(again).toEqual(first);
    // Programmed flips: its time moves, the others keep theirs.
    const flipped = only([withStatus(object, first)], fakePorts({ a: { status: 'False', reason: 'MapsFull', message: 'the maps are full' } }), T1);
    expect(flipped.conditions.map((c) => [c.type, c.lastTransitionTime])).toEqual([
      ['Accepted', T0S],
      ['Conflicted', T0S],
      ['Programmed', T1S],
    ]);
    // Same status, new message: the time stays (and the status is no longer up to date).
    const reworded = only([withStatus(object, first)], fakePorts({ a: { ...PROGRAMMED, message: 'reworded' } }), T1);
    expect(reworded.conditions.find((c) => c.type === 'Programmed')).toMatchObject({ message: 'reworded', lastTransitionTime: T0S });
    expect(statusUpToDate(withStatus(object, first)['status'], reworded)).toBe(false);
  });

  test('a policy that turns invalid loses its stale Conflicted condition', () => {
    const older = lrp('alpha', {}, meta());
    const newer = lrp('beta', {}, meta({ creationTimestamp: '2025-12-05T00:00:00Z' }));
    const conflicted = desiredStatuses([older, newer], fakePorts(), T0).find((p) => p.target.name === 'beta')?.desired;
    if (conflicted === undefined) throw new Error('no status for beta');
    const broken = withStatus(lrp('beta', { frontend: addressFrontend('not-an-ip') }, meta({ creationTimestamp: '2025-12-05T00:00:00Z', generation: 2 })), conflicted);
    const status = desiredStatuses([older, broken], fakePorts(), T1).find((p) => p.target.name === 'beta')?.desired;
    expect(status?.conditions.map((c) => [c.type, c.status, c.reason, c.lastTransitionTime])).toEqual([
      ['Accepted', 'False', 'Invalid', T0S], // was False (FrontendClaimed): status unchanged, time kept
      ['Programmed', 'False', 'NotAccepted', T0S],
    ]);
    expect(status?.observedGeneration).toBe(2);
  });

  test('a message longer than metav1.Condition allows is cut to 32768 characters', () => {
    const status = only([lrp('a', {}, meta())], fakePorts({ a: { ...PROGRAMMED, message: 'x'.repeat(40_000) } }));
    expect(status.conditions.find((c) => c.type === 'Programmed')?.message).toHaveLength(32_768);
  });
});

describe('statusUpToDate / statusPatch', () => {
  test('100 policies holding the status computed earlier: none needs a write', () => {
    const objects = Array.from({ length: 100 }, (_, i) => lrp(`p${i}`, { frontend: addressFrontend(`10.0.${i >> 8}.${i & 255}`) }, meta()));
    const ports = fakePorts({}, { p7: { n1: 3 } });
    const first = desiredStatuses(objects, ports, T0);
    expect(first.filter((p) => !statusUpToDate(p.current, p.desired))).toHaveLength(100);
    const stored = objects.map((o, i) => withStatus(o, first[i]!.desired));
    const second = desiredStatuses(stored, ports, T1);
    expect(second.filter((p) => !statusUpToDate(p.current, p.desired))).toHaveLength(0);
  });

  test('a stored status that differs only in key order is up to date', () => {
    const status = only([lrp('a', {}, meta())]);
    const reordered = JSON.parse(JSON.stringify({ conditions: status.conditions.map((c) => Object.fromEntries(Object.entries(c).reverse())), observedGeneration: status.observedGeneration })) as unknown;
    expect(statusUpToDate(reordered, status)).toBe(true);
  });

  test('the patch carries the whole status and nulls every stored field the desired status lacks', () => {
    const desired = only([lrp('a', {}, meta())]);
    const patch = statusPatch({ observedGeneration: 1, conditions: [], nodes: [{ node: 'n1', backends: 1 }], stray: 'x' }, desired);
    expect(patch).toEqual({ observedGeneration: 1, conditions: JSON.parse(JSON.stringify(desired.conditions)) as unknown, nodes: null, stray: null });
    // Applied as a merge patch, it leaves exactly the desired status.
    const applied = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== null));
    expect(statusUpToDate(applied, desired)).toBe(true);
  });

  test('no stored status: the patch is the desired status', () => {
    const desired = only([lrp('a', {}, meta())]);
    expect(statusPatch(undefined, desired)).toEqual(JSON.parse(JSON.stringify(desired)));
    expect(statusUpToDate(undefined, desired)).toBe(false);
  });
});
