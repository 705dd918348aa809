import { describe, expect, test } from '@jest/globals';
import { HealthGate, type GateTimers, type ProbeResult } from '../src/health-gate.js';

/**
 * Timers of a process that can be stalled: `stall` moves the clock without running anything
 * (the process got no CPU); `turn` runs what is due, as one turn of the event loop's timers
 * phase does, before any I/O of that turn; `advance` runs timers in order as time passes.
 */
function stallableTimers() {
  let now = 0;
  /** What the wall clock reads minus the time timers run on (a stepped clock). */
  let offset = 0;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 100; i++) await Promise.resolve();
  };
  const due = (until: number) => [...pending.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at);
  const timers: GateTimers = {
    setTimeout: (fn, ms) => (pending.set(++seq, { at: now + ms, fn }), seq),
    clearTimeout: (h) => void pending.delete(h as number),
    now: () => now + offset,
  };
  return {
    timers,
    /** The wall clock is set by `ms` (NTP stepping it); timers are not affected. */
    stepClock(ms: number): void {
      offset += ms;
    },
    stall(ms: number): void {
      now += ms;
    },
    async turn(): Promise<void> {
      for (const [id, t] of due(now)) {
        pending.delete(id);
        t.fn();
      }
      await settle();
    },
    async advance(ms: number): Promise<void> {
      const until = now + ms;
      for (let next = due(until)[0]; next !== undefined; next = due(until)[0]) {
        pending.delete(next[0]);
        now = Math.max(now, next[1].at);
        next[1].fn();
        await settle();
      }
      now = until;
      await settle();
    },
  };
}

function answerOnDemand() {
  let answer: ((r: ProbeResult) => void) | undefined;
  return {
    probe: () =>
      new Promise<ProbeResult>((resolve) => {
        answer = resolve;
      }),
    answer: (r: ProbeResult) => answer?.(r),
  };
}

describe('HealthGate when the announcer itself is stalled', () => {
  test('an answer that arrived while this process was stalled past the timeout counts (the stall is not the controller’s fault)', async () => {
    const clock = stallableTimers();
    const controller = answerOnDemand();
    const g = new HealthGate({ probe: controller.probe, intervalMs: 200, timeoutMs: 1000, failureThreshold: 1, timers: clock.timers });
    const probed = g.probeOnce();
    clock.stall(3000); // the process got no CPU for 3 s; the controller answered meanwhile
    await clock.turn(); // timers run first when the process resumes ...
    controller.answer({ ok: true, detail: 'ok: kernel programmed' }); // ... then the waiting answer is read
    await probed;
    expect([g.healthy, g.failing, g.detail]).toEqual([true, false, 'ok: kernel programmed']);
  });

  test('a controller that does not answer still fails after timeoutMs of running time, stall or not', async () => {
    const clock = stallableTimers();
    const controller = answerOnDemand();
    const g = new HealthGate({ probe: controller.probe, intervalMs: 200, timeoutMs: 1000, failureThreshold: 1, timers: clock.timers });
    const probed = g.probeOnce();
    clock.stall(3000);
    await clock.turn(); // the late first step counts as 200 ms at most
    await clock.advance(799);
    expect(g.failing).toBe(false);
    await clock.advance(1);
    await probed;
    expect([g.failing, g.detail]).toEqual([true, 'no answer within 1000 ms']);
  });

  test('a wall clock stepped back during a probe gives the controller no extra time', async () => {
    const clock = stallableTimers();
    const controller = answerOnDemand();
    const g = new HealthGate({ probe: controller.probe, intervalMs: 200, timeoutMs: 1000, failureThreshold: 1, timers: clock.timers });
    const probed = g.probeOnce();
    await clock.advance(50);
    clock.stepClock(-3_600_000);
    await clock.advance(949);
    expect(g.failing).toBe(false);
    await clock.advance(1);
    await probed;
    expect([g.failing, g.detail]).toEqual([true, 'no answer within 1000 ms']);
  });
});
