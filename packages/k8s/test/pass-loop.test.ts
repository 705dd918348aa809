import { describe, expect, it } from '@jest/globals';
import { manualTimers } from '@balanced/testkit';
import { PassLoop, type PassOutcome } from '../src/pass-loop.js';

/** A loop whose passes record when they ran, and answer what the test queued (default: nothing to do). */
function loop(options: { resyncMs?: number } = {}) {
  const clock = manualTimers();
  const passes: { at: number; byPoll: boolean }[] = [];
  const answers: (PassOutcome | Error)[] = [];
  const errors: string[] = [];
  let resyncs = 0;
  const l = new PassLoop({
    pass: async ({ byPoll }) => {
      passes.push({ at: clock.now(), byPoll });
      const a = answers.shift() ?? {};
      if (a instanceof Error) throw a;
      return a;
    },
    onResync: () => void resyncs++,
    resyncMs: options.resyncMs ?? 60_000,
    debounceMs: 50,
    backoffMs: { min: 200, max: 800 },
    timers: clock.timers,
    onError: (e) => errors.push(e.message),
  });
  return { l, clock, passes, answers, errors, resyncs: () => resyncs, at: () => passes.map((p) => p.at) };
}

describe('PassLoop', () => {
  it('nothing runs before start(); start() runs a pass at once', async () => {
    const t = loop();
    t.l.markDirty();
    await t.clock.advance(1000);
    expect(t.at()).toEqual([]);
    t.l.start();
    await t.clock.advance(0);
    expect(t.at()).toEqual([1000]);
  });

  it('a burst merges into one pass; the quiet period counts from the first event, so a stream cannot postpone it', async () => {
    const t = loop();
    t.l.start();
    await t.clock.advance(0);
    for (let i = 0; i < 10; i++) {
      t.l.markDirty();
      await t.clock.advance(10);
    }
    // events at 0, 10, …, 90: a pass at 50 (the first event + the debounce) takes 0..40; the
    // next event, at 50, starts the next quiet period: a pass at 100 takes the rest
    await t.clock.advance(200);
    expect(t.at()).toEqual([0, 50, 100]);
  });

  it('a failed pass (retry or exception) is retried with a doubling, capped backoff that events do not cut short', async () => {
    const t = loop();
    t.answers.push({ retry: true }, new Error('boom'), { retry: true }, { retry: true }, {});
    t.l.start();
    await t.clock.advance(0);
    t.l.markDirty(); // during the backoff: must not bring the retry forward
    await t.clock.advance(5000);
    expect(t.at()).toEqual([0, 200, 600, 1400, 2200]);
    expect(t.errors).toEqual(['boom']);
    // success resets the backoff
    t.answers.push({ retry: true }, {});
    t.l.markDirty();
    await t.clock.advance(1000);
    expect(t.at().slice(5)).toEqual([5050, 5250]); // (the event at 5000: pass at 5050, first retry 200 later)
  });

  it('again: another pass after the debounce; pollMs: a pass later without events, marked byPoll, which an event brings forward', async () => {
    const t = loop();
    t.answers.push({ again: true }, { pollMs: 1000 }, { pollMs: 1000 });
    t.l.start();
    await t.clock.advance(0);
    await t.clock.advance(1100);
    expect(t.passes).toEqual([
      { at: 0, byPoll: false },
      { at: 50, byPoll: false },
      { at: 1050, byPoll: true },
    ]);
    t.l.markDirty(); // the next poll (due at 2050) gives way to the debounce
    await t.clock.advance(100);
    expect(t.passes.at(-1)).toEqual({ at: 1150, byPoll: false });
  });

  it('a resync tells the owner, then runs a pass, every period', async () => {
    const t = loop({ resyncMs: 1000 });
    t.l.start();
    await t.clock.advance(2100);
    expect(t.resyncs()).toBe(2);
    expect(t.at()).toEqual([0, 1050, 2050]);
  });

  it('stop() waits for the pass in progress, and nothing runs afterwards', async () => {
    const clock = manualTimers();
    let release!: () => void;
    let finished = false;
    let runs = 0;
    const l = new PassLoop({
      pass: async () => {
        runs++;
        await new Promise<void>((r) => (release = r));
        finished = true;
        return { again: true, pollMs: 10 };
      },
      resyncMs: 100,
      debounceMs: 5,
      backoffMs: { min: 10, max: 10 },
      timers: clock.timers,
    });
    l.start();
    await clock.advance(0);
    const stopped = l.stop();
    release();
    await stopped;
    expect(finished).toBe(true);
    l.markDirty();
    await clock.advance(1000);
    expect(runs).toBe(1);
  });
});

describe('PassLoop health (readiness and liveness, see health.ts)', () => {
  function healthLoop(pass: () => Promise<PassOutcome | void>) {
    const clock = manualTimers();
    const l = new PassLoop({
      pass,
      resyncMs: 600_000,
      debounceMs: 50,
      backoffMs: { min: 1000, max: 4000 },
      timers: { ...clock.timers, now: clock.now },
      failureGraceMs: 10_000,
      stallMs: 60_000,
    });
    return { l, clock };
  }

  it('not ready before a pass succeeds; ready after; failing passes keep it ready only through the grace period', async () => {
    const answers: (PassOutcome | Error)[] = [new Error('netlink: EPERM'), {}];
    const { l, clock } = healthLoop(async () => {
      const a = answers.shift() ?? {};
      if (a instanceof Error) throw a;
      return a;
    });
    expect(l.readiness()).toEqual({ ok: false, detail: 'no pass has succeeded yet' });
    l.start();
    await clock.advance(0);
    expect(l.readiness()).toEqual({ ok: false, detail: 'no pass has succeeded yet (1 failed; last: netlink: EPERM)' });
    await clock.advance(1000); // the retry succeeds
    expect(l.readiness()).toEqual({ ok: true });

    answers.push(new Error('kernel says no'), new Error('kernel says no'), new Error('kernel says no'), new Error('kernel says no'), new Error('kernel says no'));
    l.markDirty();
    await clock.advance(50); // fails at t=1050; retries at +1 s, +2 s, +4 s, +4 s
    expect(l.readiness()).toMatchObject({ ok: true, detail: expect.stringContaining('within the 10 s grace') });
    await clock.advance(7000); // t=8050: failures at 2050, 4050, 8050
    expect(l.readiness().ok).toBe(true);
    await clock.advance(4000); // t=12050: still failing, 11 s after the first failure
    expect(l.readiness()).toMatchObject({ ok: false, detail: expect.stringMatching(/^5 passes failed in the last 11 s \(last: kernel says no\)$/) });
    await clock.advance(4000); // the next retry succeeds
    expect(l.readiness()).toEqual({ ok: true });
  });

  it('a pass that asks for a retry counts as failed', async () => {
    const { l, clock } = healthLoop(async () => ({ retry: true }));
    l.start();
    await clock.advance(0);
    expect(l.readiness()).toMatchObject({ ok: false, detail: expect.stringContaining('the pass asked for a retry') });
  });

  it('live while passes finish; not live once one pass runs longer than stallMs', async () => {
    let release: () => void = () => undefined;
    let hang = false;
    const { l, clock } = healthLoop(() => (hang ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve()));
    l.start();
    await clock.advance(0);
    expect(l.liveness()).toEqual({ ok: true });
    hang = true;
    l.markDirty();
    await clock.advance(50);
    await clock.advance(60_000);
    expect(l.liveness()).toEqual({ ok: true }); // exactly the limit
    await clock.advance(1000);
    expect(l.liveness()).toEqual({ ok: false, detail: 'a pass has been running for 61 s (limit 60 s)' });
    release();
    await clock.advance(0);
    expect(l.liveness()).toEqual({ ok: true });
    await l.stop();
  });
});
