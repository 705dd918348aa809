import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { InvalidArgument, IpvsUnavailable, OutcomeUnknown, PermissionDenied, SchedulerMissing } from '@balanced/ipvs';
import { isDirectorLevel, ProgrammingHealth } from '../src/programming-health.js';
import { ServiceBackoff } from '../src/service-backoff.js';

const KEY = { protocol: 'tcp', address: '10.96.0.1', port: 80 } as const;

describe('ServiceBackoff', () => {
  test('each service doubles its own delay from min up to max; others are unaffected; success forgets', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1000, max: 60_000 }), (failures, min, max) => {
        const b = new ServiceBackoff({ minMs: min, maxMs: max });
        let now = 0;
        for (let i = 0; i < failures; i++) b.fail('a', KEY, now);
        const delay = b.nextDueIn(now) as number;
        expect(delay).toBe(Math.min(min * 2 ** (failures - 1), max));
        expect([...b.deferred(now)]).toEqual(['a']);
        expect(b.due(now).size).toBe(0);
        now += delay;
        expect([...b.due(now).keys()]).toEqual(['a']);
        expect(b.deferred(now).size).toBe(0);
        b.succeed('a');
        expect(b.size).toBe(0);
        expect(b.nextDueIn(now)).toBeUndefined();
      }),
    );
  });
});

describe('ProgrammingHealth', () => {
  test('unready until the first programmed pass, after N director-level failures in a row, and while a pass is stuck; live until stuck long', () => {
    const h = new ProgrammingHealth({ failuresToUnready: 3, stallMs: 1000, liveStallMs: 5000 });
    expect(h.ready(0).ok).toBe(false);
    h.passStarted(0);
    h.passSucceeded();
    expect(h.ready(0).ok).toBe(true);
    h.passFailed('a');
    h.passFailed('b');
    expect(h.ready(0).ok).toBe(true);
    h.passFailed('c');
    expect(h.ready(0)).toEqual({ ok: false, detail: expect.stringContaining('last error: c') });
    h.passSucceeded();
    expect(h.ready(0).ok).toBe(true);
    h.passStarted(10);
    expect(h.ready(1010).ok).toBe(true);
    expect(h.ready(1011).ok).toBe(false);
    expect(h.live(5010).ok).toBe(true);
    expect(h.live(5011).ok).toBe(false);
    h.passSucceeded();
    expect(h.live(99_999).ok).toBe(true);
  });

  test('what counts as director-level: transport, permission, unknown outcome; not one service refused', () => {
    expect(isDirectorLevel(new OutcomeUnknown('x', 'y'))).toBe(true);
    expect(isDirectorLevel(new IpvsUnavailable('x', 'y'))).toBe(true);
    expect(isDirectorLevel(new PermissionDenied('x', 'y'))).toBe(true);
    expect(isDirectorLevel(new Error('socket closed'))).toBe(true);
    expect(isDirectorLevel(new InvalidArgument('x', 'y'))).toBe(false);
    expect(isDirectorLevel(new SchedulerMissing('x', 'y'))).toBe(false);
  });
});
