// The Lease elector against the test API server, over HTTP with the real client-node.
// Time is a manual clock wherever expiry or deadlines matter: the tests advance it, so no
// assertion depends on how fast this machine is.

import { createServer } from 'node:http';

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { TestApiServer } from '@balanced/testkit';

import { LeaderElector, type LeaderElectionTimers, type LeaderElectorOptions } from '../src/leader-election.js';
import { waitFor } from './poll.js';

let server: TestApiServer;
const electors: LeaderElector[] = [];

beforeEach(async () => {
  server = await TestApiServer.start();
});
afterEach(async () => {
  for (const e of electors.splice(0)) await e.stop();
  await server.stop();
});

/** Timers that fire only when the test advances the clock. */
function manualClock(start = 1_000_000) {
  let now = start;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers: LeaderElectionTimers = {
    now: () => now,
    setTimeout: (fn, ms) => {
      pending.set(++seq, { at: now + ms, fn });
      return seq;
    },
    clearTimeout: (h) => void pending.delete(h as number),
  };
  /** Move the clock forward, firing every timer that falls due, in order. */
  function advance(ms: number): void {
    const until = now + ms;
    for (;;) {
      const next = [...pending.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (next === undefined) break;
      pending.delete(next[0]);
      now = next[1].at;
      next[1].fn();
    }
    now = until;
  }
  return { timers, advance, now: () => now };
}

interface Log {
  events: string[];
}

function elector(identity: string, options: Partial<LeaderElectorOptions> = {}, log: Log = { events: [] }): LeaderElector {
  const e = new LeaderElector(server.kubeConfig(), {
    namespace: 'kube-system',
    name: 'vip-allocator',
    identity,
    leaseDurationSeconds: 15,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    random: () => 0,
    onStartedLeading: () => log.events.push(`${identity} started`),
    onStoppedLeading: () => log.events.push(`${identity} stopped`),
    onNewLeader: (holder) => log.events.push(`${identity} sees ${holder === '' ? '(nobody)' : holder}`),
    ...options,
  });
  electors.push(e);
  return e;
}

type LeaseSpec = { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
const lease = (): { metadata: { resourceVersion: string }; spec: LeaseSpec } | undefined =>
  server.store.get('leases', 'vip-allocator', 'kube-system') as unknown as { metadata: { resourceVersion: string }; spec: LeaseSpec } | undefined;

/** Run the elector's next attempt: advance the clock by `ms` and wait until the attempt completed. */
async function step(e: LeaderElector, clock: ReturnType<typeof manualClock>, ms: number): Promise<void> {
  const before = e.stats().attempts;
  clock.advance(ms);
  await waitFor(() => e.stats().attempts > before, `attempt ${before + 1} of ${e.identity}`);
}

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

describe('LeaderElector', () => {
  it('creates the Lease when there is none and leads; renewals keep acquireTime, move renewTime', async () => {
    const clock = manualClock();
    const log: Log = { events: [] };
    const a = elector('a', { timers: clock.timers }, log);
    a.start();
    await step(a, clock, 0);
    expect(a.isLeader()).toBe(true);
    const first = lease();
    expect(first?.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    // MicroTime: the API server parses exactly six fractional digits.
    expect(first?.spec.acquireTime).toMatch(MICRO_TIME);
    expect(first?.spec.renewTime).toMatch(MICRO_TIME);

    await step(a, clock, 2_000);
    const second = lease();
    expect(second?.spec.holderIdentity).toBe('a');
    expect(second?.spec.acquireTime).toBe(first?.spec.acquireTime);
    expect(new Date(second?.spec.renewTime ?? '').getTime() - new Date(first?.spec.renewTime ?? '').getTime()).toBe(2_000);
    expect(second?.spec.renewTime).toMatch(MICRO_TIME);
    expect(a.stats()).toMatchObject({ acquisitions: 1, renewals: 1, losses: 0 });
    expect(log.events).toEqual(['a sees a', 'a started']);
  });

  it('every Lease write is optimistic: the body carries the resourceVersion that was read', async () => {
    const clock = manualClock();
    const a = elector('a', { timers: clock.timers });
    a.start();
    await step(a, clock, 0);
    await step(a, clock, 2_000);
    await step(a, clock, 2_000);
    await a.stop();
    const puts = server.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/leases/vip-allocator'));
    expect(puts).toHaveLength(3); // two renewals and the release
    for (const put of puts) {
      expect((put.body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion).toMatch(/^\d+$/);
    }
  });

  it('a candidate waits until the holder has not renewed for leaseDuration, measured on its own clock', async () => {
    // Another replica holds the Lease; its renewTime is far in the past by our clock, which
    // must not matter: we only trust how long we have watched it stay unchanged.
    server.store.put('leases', {
      metadata: { name: 'vip-allocator', namespace: 'kube-system' },
      spec: { holderIdentity: 'ghost', leaseDurationSeconds: 15, renewTime: '2001-01-01T00:00:00.000000Z', leaseTransitions: 4 },
    });
    const clock = manualClock();
    const log: Log = { events: [] };
    const b = elector('b', { timers: clock.timers }, log);
    b.start();
    // Each step runs one attempt: the next is due retryPeriod (2 s) after the previous one
    // completed, on the manual clock. T = the first attempt.
    await step(b, clock, 0); // T: b sees the ghost's Lease for the first time
    expect(b.isLeader()).toBe(false);
    expect(b.leader()).toBe('ghost');
    await step(b, clock, 12_000); // attempt at T+2 s; the clock moves on to T+12 s
    expect(b.isLeader()).toBe(false);
    // The ghost renews: the wait starts over from the attempt that sees it.
    const held = lease();
    server.store.put('leases', { ...held, spec: { ...held?.spec, renewTime: '2001-01-01T00:00:10.000000Z' } });
    await step(b, clock, 2_000); // T+14 s: sees the renewal
    await step(b, clock, 12_000); // T+16 s; clock at T+26 s
    await step(b, clock, 2_000); // T+28 s: 14 s since the ghost's last change
    expect(b.isLeader()).toBe(false);
    expect(lease()?.spec.holderIdentity).toBe('ghost');
    await step(b, clock, 2_000); // T+30 s: 16 s > leaseDuration
    expect(b.isLeader()).toBe(true);
    expect(lease()?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 5 });
    expect(log.events).toEqual(['b sees ghost', 'b sees b', 'b started']);
  });

  it('two electors: one leads; stop() releases the Lease and the other takes over without waiting for expiry', async () => {
    const log: Log = { events: [] };
    // Real timers, short periods, and a Lease far longer than the test may take: the only
    // way for b to lead within the waitFor below is a's release.
    const fast = { leaseDurationSeconds: 3600, renewDeadlineMs: 1000, retryPeriodMs: 50 };
    const a = elector('a', fast, log);
    a.start();
    await waitFor(() => a.isLeader(), 'a to lead');
    const b = elector('b', fast, log);
    b.start();
    await waitFor(() => b.leader() === 'a', 'b to observe a');
    expect(b.isLeader()).toBe(false);
    await a.stop();
    expect(a.isLeader()).toBe(false);
    await waitFor(() => b.isLeader(), 'b to take over');
    expect(lease()?.spec).toMatchObject({ holderIdentity: 'b', leaseDurationSeconds: 3600, leaseTransitions: 1 });
    expect(log.events.filter((e) => e.endsWith('started') || e.endsWith('stopped'))).toEqual(['a started', 'a stopped', 'b started']);
  });

  it('many candidates at once: exactly one ever acquires (creates and takeovers are optimistic), the others follow', async () => {
    const fast = { leaseDurationSeconds: 3600, renewDeadlineMs: 1000, retryPeriodMs: 50 };
    const all = ['a', 'b', 'c', 'd', 'e'].map((id) => elector(id, fast));
    for (const e of all) e.start();
    await waitFor(() => all.every((e) => e.leader() !== undefined && e.leader() !== ''), 'everyone to observe a holder');
    await waitFor(() => all.filter((e) => e.isLeader()).length === 1, 'one leader');
    const holder = lease()?.spec.holderIdentity;
    expect(all.filter((e) => e.isLeader()).map((e) => e.identity)).toEqual([holder]);
    expect(all.filter((e) => e.stats().acquisitions > 0).map((e) => e.identity)).toEqual([holder]);
  });

  it('a leader that finds another holder in the Lease steps down at once', async () => {
    const clock = manualClock();
    const log: Log = { events: [] };
    const a = elector('a', { timers: clock.timers }, log);
    a.start();
    await step(a, clock, 0);
    expect(a.isLeader()).toBe(true);
    const held = lease();
    server.store.put('leases', { ...held, spec: { ...held?.spec, holderIdentity: 'intruder' } });
    await step(a, clock, 2_000);
    expect(a.isLeader()).toBe(false);
    expect(log.events).toEqual(['a sees a', 'a started', 'a sees intruder', 'a stopped']);
    await a.stop();
    expect(lease()?.spec.holderIdentity).toBe('intruder'); // not ours: not released
  });

  it('a leader that cannot renew steps down at renewDeadline, and leads again once the server is back', async () => {
    const clock = manualClock();
    const log: Log = { events: [] };
    const a = elector('a', { timers: clock.timers }, log);
    a.start();
    await step(a, clock, 0);
    expect(a.isLeader()).toBe(true);
    await server.stop();
    for (let t = 2_000; t < 10_000; t += 2_000) {
      await step(a, clock, 2_000);
      expect(a.isLeader()).toBe(true);
    }
    expect(a.stats().failures).toBe(4);
    clock.advance(2_000); // 10 s since the last renewal: the deadline timer fires before the attempt
    expect(a.isLeader()).toBe(false);
    expect(log.events).toEqual(['a sees a', 'a started', 'a stopped']);
    await waitFor(() => a.stats().attempts === 6, 'the failed attempt to complete');
    await server.restart();
    await step(a, clock, 2_000);
    expect(a.isLeader()).toBe(true); // the Lease still names us: renewed at once
    expect(log.events).toEqual(['a sees a', 'a started', 'a stopped', 'a started']);
    expect(a.stats()).toMatchObject({ acquisitions: 2, losses: 1 });
  });

  it('a renewal that hangs: leadership ends at renewDeadline while it is in flight; the request times out', async () => {
    const clock = manualClock();
    const log: Log = { events: [] };
    const a = elector('a', { timers: clock.timers, requestTimeoutMs: 300 }, log);
    a.start();
    await step(a, clock, 0);
    expect(a.isLeader()).toBe(true);
    // Swap the API server for one that accepts connections and never answers.
    const port = Number(new URL(server.url).port);
    await server.stop();
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    try {
      clock.advance(2_000); // the renewal starts and hangs
      clock.advance(7_999);
      expect(a.isLeader()).toBe(true);
      clock.advance(1); // 10 s since the last renewal
      expect(a.isLeader()).toBe(false);
      expect(log.events).toEqual(['a sees a', 'a started', 'a stopped']);
      expect(a.stats().attempts).toBe(1); // the renewal is still in flight
      await waitFor(() => a.stats().attempts === 2, 'the hung request to time out');
      expect(a.stats().failures).toBe(1);
    } finally {
      await new Promise<void>((resolve) => {
        silent.close(() => resolve());
        silent.closeAllConnections();
      });
    }
    await server.restart();
    await step(a, clock, 2_400);
    expect(a.isLeader()).toBe(true);
  });

  it('stop() while the first attempt is taking the Lease: it is released, and leading never starts', async () => {
    const clock = manualClock();
    const log: Log = { events: [] };
    const a = elector('a', { timers: clock.timers }, log);
    a.start();
    clock.advance(0); // the attempt is in flight
    await a.stop();
    expect(a.stats().attempts).toBe(1);
    expect(lease()?.spec.holderIdentity).toBe('');
    expect(log.events.filter((e) => e.endsWith('started'))).toEqual([]);
  });

  it('refuses inconsistent durations', () => {
    expect(() => elector('a', { leaseDurationSeconds: 5, renewDeadlineMs: 5_000 })).toThrow(/leaseDuration/);
    expect(() => elector('a', { renewDeadlineMs: 1_000, retryPeriodMs: 1_000 })).toThrow(/renewDeadline/);
    expect(() => elector('', {})).toThrow(/identity/);
    electors.length = 0;
  });
});
