import { describe, expect, test } from '@jest/globals';
import { manualTimers } from '@balanced/testkit';
import { HealthGate, type ProbeResult } from '../src/health-gate.js';

function gate(results: ProbeResult[], failureThreshold = 3, timeoutMs = 1000) {
  const changes: boolean[] = [];
  const g = new HealthGate({
    probe: async () => {
      const next = results.shift();
      if (next === undefined) throw new Error('script ran out');
      return next;
    },
    intervalMs: 10,
    timeoutMs,
    failureThreshold,
    onChange: (healthy) => changes.push(healthy),
  });
  return { g, changes };
}

describe('HealthGate', () => {
  test('unhealthy (but not known failing) until the first success', async () => {
    const { g, changes } = gate([true]);
    expect(g.healthy).toBe(false);
    expect(g.failing).toBe(false);
    await g.probeOnce();
    expect(g.healthy).toBe(true);
    expect(changes).toEqual([true]);
  });

  test('N failures in a row make it unhealthy; fewer do not; one success heals', async () => {
    const { g, changes } = gate([true, false, false, true, false, false, false, { ok: true, detail: 'ok: fine' }]);
    const states: boolean[] = [];
    for (let i = 0; i < 8; i++) {
      await g.probeOnce();
      states.push(g.healthy);
    }
    expect(states).toEqual([true, true, true, true, true, true, false, true]);
    expect(changes).toEqual([true, false, true]);
    expect(g.detail).toBe('ok: fine');
  });

  test('a probe that throws or hangs counts as a failure, with the reason as detail', async () => {
    const thrown = new HealthGate({ probe: () => Promise.reject(new Error('boom')), intervalMs: 10, timeoutMs: 1000, failureThreshold: 1 });
    await thrown.probeOnce();
    expect([thrown.failing, thrown.detail]).toEqual([true, 'boom']);
    let aborted = false;
    const hung = new HealthGate({
      probe: (signal) => new Promise(() => signal.addEventListener('abort', () => (aborted = true))),
      intervalMs: 10,
      timeoutMs: 20,
      failureThreshold: 1,
    });
    await hung.probeOnce();
    expect([hung.failing, hung.detail, aborted]).toEqual([true, 'no answer within 20 ms', true]);
  });

  test('start() keeps probing until stop()', async () => {
    let calls = 0;
    const g = new HealthGate({ probe: async () => (++calls, true), intervalMs: 5, timeoutMs: 100, failureThreshold: 1 });
    g.start();
    while (calls < 3) await new Promise((r) => setTimeout(r, 5));
    await g.stop();
    const after = calls;
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toBe(after);
    expect(g.healthy).toBe(true);
  });

  test('probes start every intervalMs: a controller that hangs is judged failing after threshold × max(interval, timeout), not threshold × (interval + timeout)', async () => {
    const clock = manualTimers();
    let started = 0;
    const g = new HealthGate({
      // accepts, never answers (gives up when aborted, as the HTTP probe does)
      probe: (signal) => (started++, new Promise<ProbeResult>((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))))),
      intervalMs: 1000,
      timeoutMs: 1000,
      failureThreshold: 3,
      timers: { ...clock.timers, now: clock.now },
    });
    g.start();
    await clock.advance(2999);
    expect([started, g.failing]).toEqual([3, false]); // probes at 0, 1000, 2000; two timed out
    await clock.advance(1);
    expect(g.failing).toBe(true); // the third timed out at 3000 (it was 6000 when each wait followed a timeout)
    await g.stop();
  });

  test('a quick probe still waits out the interval', async () => {
    const clock = manualTimers();
    let started = 0;
    const g = new HealthGate({ probe: async () => (started++, true), intervalMs: 1000, timeoutMs: 1000, failureThreshold: 3, timers: { ...clock.timers, now: clock.now } });
    g.start();
    await clock.advance(2500);
    expect(started).toBe(3); // at 0, 1000, 2000
    await g.stop();
  });

  test('refuses a threshold below 1', () => {
    expect(() => new HealthGate({ probe: async () => true, intervalMs: 1, timeoutMs: 1, failureThreshold: 0 })).toThrow(RangeError);
  });
});
