import { describe, expect, test } from '@jest/globals';

import { heldFrontendConditions, mergeConditions, parsePolicy, refusalConditions, resolutionConditions, resolveConflicts, type PolicyCondition } from '../src/index.js';
import { lrp } from '@balanced/testkit';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-02T00:00:00Z';

describe('status conditions', () => {
  test('an accepted policy: Accepted True, Conflicted False, at its generation', () => {
    const r = parsePolicy(lrp('a', {}, { generation: 7 }));
    if (!r.ok) throw new Error(r.refusal.message);
    const [resolution] = resolveConflicts([r.policy]);
    expect(resolutionConditions(resolution!, T0)).toEqual([
      { type: 'Accepted', status: 'True', reason: 'Accepted', message: expect.any(String), observedGeneration: 7, lastTransitionTime: T0 },
      { type: 'Conflicted', status: 'False', reason: 'NoConflict', message: expect.any(String), observedGeneration: 7, lastTransitionTime: T0 },
    ]);
  });

  test('frontends an agent found held by older policies: Accepted True, Conflicted True (FrontendClaimed), each winner named once with what it holds', () => {
    const r = parsePolicy(lrp('b', {}, { generation: 3 }));
    if (!r.ok) throw new Error(r.refusal.message);
    const a = { kind: 'LocalRedirectPolicy', name: 'a' } as const;
    const [accepted, conflicted] = heldFrontendConditions(r.policy, [{ frontend: '10.96.0.10:53/UDP', winner: a }, { frontend: '10.96.0.10:53/UDP', winner: a }], T0);
    expect(accepted).toMatchObject({ type: 'Accepted', status: 'True', reason: 'Accepted', observedGeneration: 3, lastTransitionTime: T0 });
    expect(conflicted).toMatchObject({ type: 'Conflicted', status: 'True', reason: 'FrontendClaimed', observedGeneration: 3, lastTransitionTime: T0 });
    expect(conflicted!.message).toMatch(/^10\.96\.0\.10:53\/UDP is held by LocalRedirectPolicy\/a, which is older .*delete LocalRedirectPolicy "a"$/);
  });

  test('an invalid object: Accepted False, reason Invalid, the refusal as message', () => {
    const r = parsePolicy(lrp('a', { frontend: {} }));
    if (r.ok) throw new Error('accepted');
    expect(refusalConditions(r.refusal, 2, T0)).toEqual([{ type: 'Accepted', status: 'False', reason: 'Invalid', message: r.refusal.message, observedGeneration: 2, lastTransitionTime: T0 }]);
  });

  test('mergeConditions keeps lastTransitionTime while a status stays, moves it when it flips, keeps other types', () => {
    const old: PolicyCondition[] = [
      { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'old', lastTransitionTime: T0 },
      { type: 'Programmed', status: 'True', reason: 'Programmed', message: 'maps hold it', lastTransitionTime: T0 },
    ];
    const merged = mergeConditions(old, [
      { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'new', lastTransitionTime: T1 },
      { type: 'Conflicted', status: 'False', reason: 'NoConflict', message: 'none', lastTransitionTime: T1 },
    ]);
    expect(merged.map((c) => [c.type, c.message, c.lastTransitionTime])).toEqual([
      ['Accepted', 'new', T0],
      ['Conflicted', 'none', T1],
      ['Programmed', 'maps hold it', T0],
    ]);
    const flipped = mergeConditions(merged, [{ type: 'Accepted', status: 'False', reason: 'FrontendClaimed', message: 'x', lastTransitionTime: T1 }]);
    expect(flipped.find((c) => c.type === 'Accepted')?.lastTransitionTime).toBe(T1);
  });
});
