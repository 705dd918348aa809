import { describe, expect, test } from '@jest/globals';
import { Registry } from 'prom-client';
import { NotrackGuard, notrackLines, renderNotrack, type CommandRunner, type NotrackLog } from '../src/notrack.js';

test('renders one transaction per family that refills only our chain', () => {
  const r = renderNotrack(['10.96.0.0/24', 'fd96::/64', '10.96.0.0/24', '192.0.2.7']);
  expect(r.ipv4).toBe(
    ['*raw', ':BALANCED-NOTRACK - [0:0]', '-F BALANCED-NOTRACK', '-A BALANCED-NOTRACK -d 10.96.0.0/24 -j CT --notrack', '-A BALANCED-NOTRACK -d 192.0.2.7/32 -j CT --notrack', 'COMMIT', ''].join('\n'),
  );
  expect(r.ipv6).toContain('-A BALANCED-NOTRACK -d fd96::/64 -j CT --notrack');
  expect(r.ipv6).not.toContain('10.96');
});

test('refuses a malformed CIDR', () => {
  expect(() => renderNotrack(['10.96.0.0/33'])).toThrow(/prefix length/);
  expect(() => renderNotrack(['nope'])).toThrow(/invalid address/);
});

test('notrackLines keeps our chain, its rules and the jump to it, nothing of other tools', () => {
  const listing = [
    '-P PREROUTING ACCEPT',
    '-P OUTPUT ACCEPT',
    '-N BALANCED-NOTRACK',
    '-N KUBE-RAW',
    '-A PREROUTING -j KUBE-RAW',
    '-A PREROUTING -j BALANCED-NOTRACK',
    '-A BALANCED-NOTRACK -d 10.96.0.0/24 -j CT --notrack',
    '-A KUBE-RAW -d 10.96.0.0/24 -j BALANCED-NOTRACK-X',
    '',
  ].join('\n');
  expect(notrackLines(listing)).toBe(['-N BALANCED-NOTRACK', '-A PREROUTING -j BALANCED-NOTRACK', '-A BALANCED-NOTRACK -d 10.96.0.0/24 -j CT --notrack'].join('\n'));
});

/**
 * A raw table per family, driven through the commands the guard runs (iptables-nft's output
 * format: policies, chains, then the rules chain by chain; host bits of a CIDR cleared).
 */
class FakeRawTables {
  readonly calls: string[] = [];
  /** Families whose tools fail like legacy ip6tables on a kernel without IPv6. */
  readonly broken = new Set<string>();
  readonly tables = new Map<string, Map<string, string[]>>([
    ['iptables', new Map([['PREROUTING', ['-j KUBE-OTHER']], ['KUBE-OTHER', ['-d 10.1.0.0/16 -j CT --notrack']]])],
    ['ip6tables', new Map([['PREROUTING', []]])],
  ]);

  readonly run: CommandRunner = async (file, args, input) => {
    this.calls.push(`${file} ${args.join(' ')}`);
    const tool = file.replace(/-restore$/, '');
    if (this.broken.has(tool)) throw new Error(`${file} ${args.join(' ')} failed: can't initialize ${tool} table \`raw': Address family not supported by protocol`);
    const table = this.tables.get(tool)!;
    if (file.endsWith('-restore')) {
      for (const line of (input ?? '').split('\n')) {
        const chain = /^:(\S+) /.exec(line)?.[1];
        if (chain !== undefined && !table.has(chain)) table.set(chain, []);
        const flush = /^-F (\S+)$/.exec(line)?.[1];
        if (flush !== undefined) table.set(flush, []);
        const add = /^-A (\S+) (.*)$/.exec(line);
        if (add) table.get(add[1]!)!.push(add[2]!.replace(/(\d+\.\d+\.\d+)\.\d+\/24/, '$1.0/24'));
      }
      return '';
    }
    const [op, chain, ...rule] = args.slice(args.indexOf('raw') + 1);
    if (op === '-S') {
      if (chain !== undefined) return `-P ${chain} ACCEPT\n`;
      const user = [...table.keys()].filter((c) => c !== 'PREROUTING');
      return ['-P PREROUTING ACCEPT', '-P OUTPUT ACCEPT', ...user.map((c) => `-N ${c}`), ...[...table].flatMap(([c, rules]) => rules.map((r) => `-A ${c} ${r}`)), ''].join('\n');
    }
    const rules = table.get(chain!);
    if (rules === undefined) throw new Error(`${file}: No chain/target/match by that name.`);
    if (op === '-C') {
      if (!rules.includes(rule.join(' '))) throw new Error(`${file}: Bad rule (does a matching rule exist in that chain?).`);
      return '';
    }
    if (op === '-I') {
      rules.unshift(rule.join(' '));
      return '';
    }
    throw new Error(`fake iptables: unexpected ${args.join(' ')}`);
  };

  /** `iptables -t raw -F` as another tool runs it: every chain of the table emptied. */
  flush(tool: string): void {
    for (const rules of this.tables.get(tool)!.values()) rules.length = 0;
  }
}

function logger(): NotrackLog & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  return {
    lines,
    info: (_f, message) => void lines.push({ level: 'info', message }),
    warn: (_f, message) => void lines.push({ level: 'warn', message }),
    error: (_f, message) => void lines.push({ level: 'error', message }),
  };
}

async function counters(guard: NotrackGuard): Promise<string[]> {
  const registry = new Registry();
  for (const m of guard.metrics()) registry.registerMetric(m);
  return (await registry.metrics()).split('\n').filter((l) => /^balanced_director_notrack_\w+\{/.test(l));
}

describe('NotrackGuard', () => {
  test('installs both families once; a check with nothing changed writes nothing (one listing per family)', async () => {
    const fake = new FakeRawTables();
    const guard = new NotrackGuard(['10.96.0.5/24', 'fd96::/64'], { run: fake.run, kernelHasIpv6: () => true });
    await guard.install();
    expect(guard.kept).toEqual(['ipv4', 'ipv6']);
    expect(fake.tables.get('iptables')!.get('PREROUTING')).toEqual(['-j BALANCED-NOTRACK', '-j KUBE-OTHER']);
    expect(fake.tables.get('iptables')!.get('BALANCED-NOTRACK')).toEqual(['-d 10.96.0.0/24 -j CT --notrack']);
    expect(fake.tables.get('ip6tables')!.get('BALANCED-NOTRACK')).toEqual(['-d fd96::/64 -j CT --notrack']);
    fake.calls.length = 0;
    expect(await guard.check()).toEqual([]);
    // (the kernel shows 10.96.0.0/24 for 10.96.0.5/24: compared with what it showed after our write, not with our input)
    expect(fake.calls).toEqual(['iptables -w -t raw -S', 'ip6tables -w -t raw -S']);
    expect(await counters(guard)).toEqual([]);
  });

  test('another tool flushes the IPv4 raw table: the next check writes our chain and the jump again, counted and logged; other tools’ rules untouched', async () => {
    const fake = new FakeRawTables();
    const log = logger();
    const guard = new NotrackGuard(['10.96.0.0/24'], { run: fake.run, kernelHasIpv6: () => true, log });
    await guard.install();
    fake.flush('iptables');
    fake.tables.get('iptables')!.get('KUBE-OTHER')!.push('-d 10.2.0.0/16 -j CT --notrack'); // the other tool refills its own
    fake.calls.length = 0;
    expect(await guard.check()).toEqual(['ipv4']);
    expect(fake.calls.filter((c) => !c.includes(' -S'))).toEqual(['iptables-restore -w --noflush', 'iptables -w -t raw -C PREROUTING -j BALANCED-NOTRACK', 'iptables -w -t raw -I PREROUTING -j BALANCED-NOTRACK']);
    expect(fake.tables.get('iptables')!.get('BALANCED-NOTRACK')).toEqual(['-d 10.96.0.0/24 -j CT --notrack']);
    expect(fake.tables.get('iptables')!.get('PREROUTING')).toEqual(['-j BALANCED-NOTRACK']);
    expect(fake.tables.get('iptables')!.get('KUBE-OTHER')).toEqual(['-d 10.2.0.0/16 -j CT --notrack']);
    expect(await counters(guard)).toEqual(['balanced_director_notrack_reasserted_total{family="ipv4"} 1']);
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([expect.stringContaining('NOTRACK rules were missing or changed')]);
    // whole again: the next check is a listing only
    expect(await guard.check()).toEqual([]);
  });

  test('a rule added to our chain, or the jump alone removed, is repaired too', async () => {
    const fake = new FakeRawTables();
    const guard = new NotrackGuard(['10.96.0.0/24'], { run: fake.run, kernelHasIpv6: () => false });
    await guard.install();
    fake.tables.get('iptables')!.get('BALANCED-NOTRACK')!.push('-d 0.0.0.0/0 -j CT --notrack');
    expect(await guard.check()).toEqual(['ipv4']);
    expect(fake.tables.get('iptables')!.get('BALANCED-NOTRACK')).toEqual(['-d 10.96.0.0/24 -j CT --notrack']);
    fake.tables.get('iptables')!.set('PREROUTING', ['-j KUBE-OTHER']);
    expect(await guard.check()).toEqual(['ipv4']);
    expect(fake.tables.get('iptables')!.get('PREROUTING')).toEqual(['-j BALANCED-NOTRACK', '-j KUBE-OTHER']);
    expect(await counters(guard)).toEqual(['balanced_director_notrack_reasserted_total{family="ipv4"} 2']);
  });

  test('a node without IPv6 (/proc/net/if_inet6 absent) starts: IPv6 skipped with a log line, no ip6tables command at all', async () => {
    const fake = new FakeRawTables();
    fake.broken.add('ip6tables'); // as legacy ip6tables answers on a kernel booted with ipv6.disable=1
    const log = logger();
    const guard = new NotrackGuard(['10.96.0.0/24'], { run: fake.run, kernelHasIpv6: () => false, log });
    await guard.install();
    expect(guard.kept).toEqual(['ipv4']);
    expect(fake.calls.filter((c) => c.startsWith('ip6'))).toEqual([]);
    expect(log.lines).toEqual([{ level: 'info', message: 'no IPv6 on this node (/proc/net/if_inet6 absent): IPv6 NOTRACK rules skipped' }]);
    expect(await guard.check()).toEqual([]);
    expect(fake.calls.filter((c) => c.startsWith('ip6'))).toEqual([]);
  });

  test('IPv6 present but no ip6tables raw table: skipped with a warning naming the IPv6 CIDRs left tracked', async () => {
    const fake = new FakeRawTables();
    fake.broken.add('ip6tables');
    const log = logger();
    const guard = new NotrackGuard(['10.96.0.0/24', 'fd96::/64'], { run: fake.run, kernelHasIpv6: () => true, log });
    await guard.install();
    expect(guard.kept).toEqual(['ipv4']);
    expect(fake.calls.filter((c) => c.startsWith('ip6'))).toEqual(['ip6tables -w -t raw -S PREROUTING']);
    expect(log.lines).toEqual([{ level: 'warn', message: 'no IPv6 raw table on this node (ip6tables -t raw fails): IPv6 NOTRACK rules skipped; the IPv6 VIP CIDRs stay tracked' }]);
  });

  test('a check that cannot run iptables is logged and counted, never thrown; the next one repairs', async () => {
    const fake = new FakeRawTables();
    const log = logger();
    const guard = new NotrackGuard(['10.96.0.0/24'], { run: fake.run, kernelHasIpv6: () => false, log });
    await guard.install();
    fake.flush('iptables');
    fake.broken.add('iptables');
    expect(await guard.check()).toEqual([]);
    expect(log.lines.map((l) => l.level)).toEqual(['info', 'error']);
    fake.broken.delete('iptables');
    expect(await guard.check()).toEqual(['ipv4']);
    expect(await counters(guard)).toEqual(['balanced_director_notrack_reasserted_total{family="ipv4"} 1', 'balanced_director_notrack_check_failures_total{family="ipv4"} 1']);
  });

  test('start-up still fails when the IPv4 rules cannot be written', async () => {
    const fake = new FakeRawTables();
    fake.broken.add('iptables');
    await expect(new NotrackGuard(['10.96.0.0/24'], { run: fake.run, kernelHasIpv6: () => false }).install()).rejects.toThrow(/iptables-restore/);
  });
});
