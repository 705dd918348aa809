// NOTRACK rules follow the VIP ranges as they change (the VipPools are read at run time).
import { expect, test } from '@jest/globals';
import { Registry } from 'prom-client';
import { NotrackRanges } from '../src/notrack-ranges.js';
import type { CommandRunner } from '../src/notrack.js';

/** iptables of one family, in memory: restore replaces our chain's rules, -S lists them. */
function fakeIptables(): { run: CommandRunner; rules: () => string[]; flush: () => void; failRestore: (fail: boolean) => void; restores: () => number } {
  let rules: string[] = [];
  let fail = false;
  let restores = 0;
  const run: CommandRunner = async (file, args, input) => {
    if (file === 'iptables-restore') {
      if (fail) throw new Error('iptables-restore failed: locked');
      restores++;
      rules = (input ?? '').split('\n').filter((l) => l.startsWith('-A '));
      return '';
    }
    if (args.includes('-S')) return `-P PREROUTING ACCEPT\n-A PREROUTING -j BALANCED-NOTRACK\n${rules.map((r) => `${r}\n`).join('')}`;
    return ''; // -C: the jump is there
  };
  return { run, rules: () => rules, flush: () => void (rules = []), failRestore: (f) => void (fail = f), restores: () => restores };
}

test('written for the ranges given, rewritten when they change (not when they do not), retried by check() after a failure', async () => {
  const ipt = fakeIptables();
  const registry = new Registry();
  const notrack = new NotrackRanges({ run: ipt.run, kernelHasIpv6: () => false }, registry);

  await notrack.set(['10.96.100.0/24']);
  expect(ipt.rules()).toEqual(['-A BALANCED-NOTRACK -d 10.96.100.0/24 -j CT --notrack']);
  await notrack.set(['10.96.100.0/24']);
  expect(ipt.restores()).toBe(1);

  await notrack.set(['10.96.100.0/24', '10.96.200.0/25']);
  expect(ipt.rules()).toEqual(['-A BALANCED-NOTRACK -d 10.96.100.0/24 -j CT --notrack', '-A BALANCED-NOTRACK -d 10.96.200.0/25 -j CT --notrack']);

  ipt.failRestore(true);
  await expect(notrack.set(['10.96.200.0/25'])).rejects.toThrow(/locked/);
  expect(ipt.rules()).toHaveLength(2); // the previous rules stay
  ipt.failRestore(false);
  await notrack.check();
  expect(ipt.rules()).toEqual(['-A BALANCED-NOTRACK -d 10.96.200.0/25 -j CT --notrack']);

  // One set of counters in the registry, whichever guard wrote last.
  expect((await registry.getMetricsAsJSON()).map((m) => m.name).sort()).toEqual(['balanced_director_notrack_check_failures_total', 'balanced_director_notrack_reasserted_total']);
});

test('the counters go on across a change of ranges (every guard counts into the same ones)', async () => {
  const ipt = fakeIptables();
  const registry = new Registry();
  const notrack = new NotrackRanges({ run: ipt.run, kernelHasIpv6: () => false }, registry);
  const reasserted = async (): Promise<number> => (await registry.getSingleMetric('balanced_director_notrack_reasserted_total')!.get()).values.reduce((n, v) => n + v.value, 0);

  await notrack.set(['10.96.100.0/24']);
  ipt.flush(); // another tool flushed the raw table
  await notrack.check();
  expect(await reasserted()).toBe(1);
  await notrack.set(['10.96.200.0/25']);
  ipt.flush();
  await notrack.check();
  expect(await reasserted()).toBe(2);
  expect(ipt.rules()).toEqual(['-A BALANCED-NOTRACK -d 10.96.200.0/25 -j CT --notrack']);
});
