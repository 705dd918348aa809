import { describe, expect, test } from '@jest/globals';
import type { DesiredPods, PodTarget } from '../src/index.js';
import { EndpointController, type PassReport, type PodOutcome } from '../src/controller.js';
import { PodTunnelError } from '../src/errors.js';
import type { PodProgrammer } from '../src/programmer.js';
import { manualTimers } from '@balanced/testkit';


const target = (name: string, vips: string[], uid = `uid-${name}`, podIP = '10.244.0.2'): PodTarget => ({ namespace: 'shop', name, uid, podIP, vips, services: vips.length ? ['shop/web'] : [] });
const desired = (...pods: PodTarget[]): DesiredPods => ({ pods: new Map(pods.map((p) => [p.uid, p])), skipped: [] });

/** Programmer seam: records visits; a pod can be made to fail with a given reason. */
function recordingProgrammer() {
  const visits: string[] = [];
  const failing = new Map<string, PodTunnelError['reason']>();
  const programmer: PodProgrammer = {
    program: async (t) => {
      visits.push(`${t.name}:${t.vips.join(',')}`);
      const reason = failing.get(t.name);
      if (reason) throw new PodTunnelError(reason, `${t.name} failed: ${reason}`);
      return { netns: `/run/netns/${t.name}`, ops: t.vips.map((v) => ({ op: 'add-address' as const, prefix: `${v}/32` })), mtu: 1480, mss: 1440 };
    },
  };
  return { programmer, visits, failing };
}

function setup(initial: DesiredPods) {
  const clock = manualTimers();
  const prog = recordingProgrammer();
  let state = initial;
  const outcomes: PodOutcome[] = [];
  const passes: PassReport[] = [];
  const c = new EndpointController({
    desired: () => state,
    programmer: prog.programmer,
    resyncMs: 60_000,
    debounceMs: 10,
    retryMs: { min: 1000, max: 8000 },
    timers: clock.timers,
    now: clock.now,
    onPod: (o) => outcomes.push(o),
    onPass: (r) => passes.push(r),
  });
  return { c, clock, ...prog, outcomes, passes, set: (d: DesiredPods) => (state = d) };
}

describe('EndpointController', () => {
  test('first pass programs pods with VIPs and checks the others once (leftovers from before a restart); then only changes', async () => {
    const t = setup(desired(target('a', ['10.96.0.10']), target('idle', [])));
    t.c.start();
    expect(t.c.ready).toBe(false);
    await t.clock.advance(0);
    expect(t.visits.sort()).toEqual(['a:10.96.0.10', 'idle:']);
    expect(t.c.ready).toBe(true);
    expect(t.passes.at(-1)?.pods).toEqual({ programmed: 1, failing: 0, vips: 1 });

    t.visits.length = 0;
    t.c.markDirty();
    await t.clock.advance(100);
    expect(t.visits).toEqual([]);

    t.set(desired(target('a', ['10.96.0.10', '10.96.0.11']), target('idle', [])));
    t.c.markDirty();
    await t.clock.advance(100);
    expect(t.visits).toEqual(['a:10.96.0.10,10.96.0.11']);
    expect(t.passes.at(-1)?.pods).toEqual({ programmed: 1, failing: 0, vips: 2 });
    await t.c.stop();
  });

  test('a resync re-reads every pod that holds VIPs, not the idle ones', async () => {
    const t = setup(desired(target('a', ['10.96.0.10']), target('b', ['10.96.0.10']), target('idle', [])));
    t.c.start();
    await t.clock.advance(0);
    t.visits.length = 0;
    await t.clock.advance(60_000 + 50);
    expect(t.visits.sort()).toEqual(['a:10.96.0.10', 'b:10.96.0.10']);
    await t.c.stop();
  });

  test('a touched pod (its object changed) is looked at again even when its VIPs and IP did not change', async () => {
    const t = setup(desired(target('a', ['10.96.0.10']), target('b', ['10.96.0.10']), target('idle', [])));
    t.c.start();
    await t.clock.advance(0);
    t.visits.length = 0;
    t.c.touch('uid-a');
    t.c.touch('uid-idle');
    t.c.touch('uid-gone');
    await t.clock.advance(50);
    expect(t.visits).toEqual(['a:10.96.0.10']);
    t.visits.length = 0;
    t.c.markDirty();
    await t.clock.advance(50);
    expect(t.visits).toEqual([]);
    await t.c.stop();
  });

  test('a pod whose namespace is gone: one Warning-worthy failure, retries on its own backoff only, forgotten once the pod is deleted', async () => {
    const t = setup(desired(target('a', ['10.96.0.10']), target('b', ['10.96.0.10'])));
    t.failing.set('a', 'NetnsNotFound');
    t.c.start();
    await t.clock.advance(0);
    const failures = () => t.outcomes.filter((o) => o.kind === 'failed');
    expect(failures().map((o) => o.kind === 'failed' && [o.attempts, o.retryInMs, o.changed])).toEqual([[1, 1000, true]]);

    // unrelated events before the retry is due do not retry it
    t.visits.length = 0;
    t.c.markDirty();
    await t.clock.advance(500);
    expect(t.visits).toEqual([]);

    // retries at 1 s, then 2 s, 4 s, 8 s, 8 s: the same failure is not "changed" again
    await t.clock.advance(500 + 2000 + 4000 + 8000 + 8000 + 100); // (+ the debounce after each retry)
    expect(failures().map((o) => o.kind === 'failed' && [o.attempts, o.retryInMs, o.changed])).toEqual([
      [1, 1000, true],
      [2, 2000, false],
      [3, 4000, false],
      [4, 8000, false],
      [5, 8000, false],
      [6, 8000, false],
    ]);
    expect(t.passes.at(-1)?.pods).toEqual({ programmed: 1, failing: 1, vips: 1 });

    // the pod is deleted: state dropped, no more attempts
    t.set(desired(target('b', ['10.96.0.10'])));
    t.c.markDirty();
    await t.clock.advance(100);
    const before = failures().length;
    await t.clock.advance(120_000);
    expect(failures().length).toBe(before);
    expect(t.passes.at(-1)?.pods).toEqual({ programmed: 1, failing: 0, vips: 1 });
    await t.c.stop();
  });

  test('a changed desired state retries a failing pod at once; recovery clears the failure', async () => {
    const t = setup(desired(target('a', ['10.96.0.10'])));
    t.failing.set('a', 'PodIpNotFound');
    t.c.start();
    await t.clock.advance(0);
    t.failing.delete('a');
    t.set(desired(target('a', ['10.96.0.10'], 'uid-a', '10.244.0.9')));
    t.c.markDirty();
    await t.clock.advance(50);
    expect(t.visits).toEqual(['a:10.96.0.10', 'a:10.96.0.10']);
    expect(t.passes.at(-1)?.pods).toEqual({ programmed: 1, failing: 0, vips: 1 });
    await t.c.stop();
  });

  test('cleanup of a pod whose namespace is gone counts as done (its VIPs went with it)', async () => {
    const t = setup(desired(target('a', ['10.96.0.10'])));
    t.c.start();
    await t.clock.advance(0);
    t.failing.set('a', 'NetnsNotFound');
    t.set(desired(target('a', [])));
    t.c.markDirty();
    await t.clock.advance(50);
    expect(t.outcomes.filter((o) => o.kind === 'failed')).toEqual([]);
    expect(t.passes.at(-1)?.pods).toEqual({ programmed: 0, failing: 0, vips: 0 });
    t.visits.length = 0;
    await t.clock.advance(120_000);
    expect(t.visits).toEqual([]);
    await t.c.stop();
  });

  test('a restarted pod (same name, new UID) is programmed as a new pod; the old one is forgotten', async () => {
    const t = setup(desired(target('a', ['10.96.0.10'], 'uid-1')));
    t.c.start();
    await t.clock.advance(0);
    t.set(desired(target('a', ['10.96.0.10'], 'uid-2', '10.244.0.7')));
    t.c.markDirty();
    await t.clock.advance(50);
    expect(t.outcomes.map((o) => `${o.kind}:${o.target.uid}`)).toEqual(['programmed:uid-1', 'programmed:uid-2']);
    expect(t.passes.at(-1)?.pods).toEqual({ programmed: 1, failing: 0, vips: 1 });
    await t.c.stop();
  });

  test('a desired() that throws is reported and retried with backoff; stop() ends all timers', async () => {
    const clock = manualTimers();
    let calls = 0;
    const errors: string[] = [];
    const c = new EndpointController({
      desired: () => {
        calls++;
        if (calls < 3) throw new Error('cache exploded');
        return desired();
      },
      programmer: recordingProgrammer().programmer,
      resyncMs: 60_000,
      retryMs: { min: 1000, max: 8000 },
      timers: clock.timers,
      now: clock.now,
      onError: (e) => errors.push(e.message),
    });
    c.start();
    await clock.advance(0);
    await clock.advance(1000);
    expect(c.ready).toBe(false);
    await clock.advance(2000);
    expect(errors).toEqual(['cache exploded', 'cache exploded']);
    expect(c.ready).toBe(true);
    await c.stop();
    await clock.advance(600_000);
    expect(calls).toBe(3);
  });
});
