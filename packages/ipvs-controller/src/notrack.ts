import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Counter, type Metric } from 'prom-client';
import { parsePrefix } from '@balanced/netlink';

/** The raw-table chain balanced owns. Nothing else in the table is touched. */
export const NOTRACK_CHAIN = 'BALANCED-NOTRACK';

export interface NotrackRules {
  /** Input for `iptables-restore --noflush` (IPv4) and `ip6tables-restore --noflush` (IPv6). */
  readonly ipv4: string;
  readonly ipv6: string;
}

/**
 * Pure: raw-table rules that keep conntrack off traffic to the VIP CIDRs (a stateless
 * director must not track flows it may only see half of). The chain is flushed and refilled
 * in one transaction; the jump from PREROUTING is added separately, once.
 */
export function renderNotrack(cidrs: readonly string[], chain = NOTRACK_CHAIN): NotrackRules {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const c of [...new Set(cidrs)].sort()) {
    const p = parsePrefix(c);
    const text = `${p.address.text}/${p.prefixLength}`;
    (p.address.family === 'inet' ? v4 : v6).push(`-A ${chain} -d ${text} -j CT --notrack`);
  }
  const table = (rules: string[]) => ['*raw', `:${chain} - [0:0]`, `-F ${chain}`, ...rules, 'COMMIT', ''].join('\n');
  return { ipv4: table(v4), ipv6: table(v6) };
}

/**
 * Runs a program with an argument array (stdin = `input` when given) and resolves with its
 * stdout; rejects with an Error that carries its stderr. The seam tests replace.
 */
export type CommandRunner = (file: string, args: readonly string[], input?: string) => Promise<string>;

/** The real runner: the program itself, or `ip netns exec NAME program` when `netns` is given. */
export function commandRunner(netns?: string): CommandRunner {
  return (file, args, input) => {
    const [cmd, argv] = netns !== undefined ? ['ip', ['netns', 'exec', netns, file, ...args]] : [file, [...args]];
    return new Promise((resolve, reject) => {
      const child = execFile(cmd, argv, { encoding: 'utf8', timeout: 30_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      });
      if (input !== undefined) child.stdin?.end(input);
    });
  };
}

export type NotrackFamily = 'ipv4' | 'ipv6';

/** The part of a pino Logger the guard uses (a pino Logger is one). */
export interface NotrackLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** A guard's counters (registered by whoever shows them). */
export interface NotrackCounters {
  readonly reasserted: Counter<'family'>;
  readonly failures: Counter<'family'>;
}

export function createNotrackCounters(): NotrackCounters {
  return {
    reasserted: new Counter({
      name: 'balanced_director_notrack_reasserted_total',
      help: 'Times the raw-table NOTRACK rules were found missing or changed (e.g. another tool flushed the table) and written again',
      labelNames: ['family'] as const,
      registers: [],
    }),
    failures: new Counter({
      name: 'balanced_director_notrack_check_failures_total',
      help: 'Checks of the raw-table NOTRACK rules that could not read or write them (retried at the next resync)',
      labelNames: ['family'] as const,
      registers: [],
    }),
  };
}

export interface NotrackOptions {
  /** Run the commands inside this network namespace (`ip netns exec NAME`). */
  readonly netns?: string;
  /** Skip IPv6 whatever the node has. */
  readonly ipv4Only?: boolean;
  /** Default: commandRunner(netns). */
  readonly run?: CommandRunner;
  /**
   * Whether the kernel has IPv6 at all. Default: /proc/net/if_inet6 exists. Measured on the
   * Debian 6.1 kernel booted with ipv6.disable=1: the file (and /proc/sys/net/ipv6) is absent in
   * every namespace, legacy ip6tables fails ("Address family not supported by protocol"), while
   * ip6tables-nft still accepts rules. It is present whenever IPv6 is merely turned off per
   * interface (disable_ipv6=1), where ip6tables works either way.
   */
  readonly kernelHasIpv6?: () => boolean;
  /** Counters to count into (a guard that takes over from another keeps its counts). Default: its own. */
  readonly counters?: NotrackCounters;
  readonly log?: NotrackLog;
}

const TOOLS: Readonly<Record<NotrackFamily, { restore: string; iptables: string }>> = {
  ipv4: { restore: 'iptables-restore', iptables: 'iptables' },
  ipv6: { restore: 'ip6tables-restore', iptables: 'ip6tables' },
};

const SILENT: NotrackLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The lines of `iptables -t raw -S` that are ours: the chain, its rules, the jump to it. */
export function notrackLines(listing: string, chain = NOTRACK_CHAIN): string {
  return listing
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l === `-N ${chain}` || l.startsWith(`-A ${chain} `) || (l.startsWith('-A PREROUTING ') && l.endsWith(`-j ${chain}`)))
    .join('\n');
}

/**
 * Keeps the NOTRACK rules in the raw table. `install()` at start writes them (our chain only,
 * `--noflush`: other tools' rules are never touched) for every family the node has;
 * `check()`, called on every resync, reads the raw table once per family (`iptables -S`) and
 * writes the family again when our chain, its rules or the PREROUTING jump are not what the
 * kernel showed right after our last write (another tool flushed the table or the chain).
 * Re-assertions and failed checks are counted (see metrics()) and logged.
 */
export class NotrackGuard {
  private readonly rules: NotrackRules;
  private readonly run: CommandRunner;
  private readonly log: NotrackLog;
  private families: readonly NotrackFamily[] | undefined;
  /** Our lines as the kernel listed them after our last write, per family. */
  private readonly written = new Map<NotrackFamily, string>();
  private readonly reasserted: NotrackCounters['reasserted'];
  private readonly failures: NotrackCounters['failures'];

  constructor(
    cidrs: readonly string[],
    private readonly options: NotrackOptions = {},
  ) {
    this.rules = renderNotrack(cidrs);
    this.run = options.run ?? commandRunner(options.netns);
    this.log = options.log ?? SILENT;
    const counters = options.counters ?? createNotrackCounters();
    this.reasserted = counters.reasserted;
    this.failures = counters.failures;
  }

  /** The families kept (known after install()). */
  get kept(): readonly NotrackFamily[] {
    return this.families ?? [];
  }

  /** Counters for /metrics (registered by the health server: pass the guard in `checks`). */
  metrics(): readonly Metric[] {
    return [this.reasserted, this.failures];
  }

  /** Start: decide the families and write their rules. Throws when a kept family cannot be written. */
  async install(): Promise<void> {
    this.families ??= await this.decideFamilies();
    for (const family of this.families) await this.write(family);
  }

  /**
   * Re-assert: rewrite a family whose rules are gone or changed. Never throws (a failure is
   * logged and counted, and the next call tries again). Returns the families rewritten.
   */
  async check(): Promise<NotrackFamily[]> {
    if (this.families === undefined) throw new Error('NotrackGuard.check() before install()');
    const rewritten: NotrackFamily[] = [];
    for (const family of this.families) {
      try {
        const found = notrackLines(await this.list(family));
        const expected = this.written.get(family);
        if (found === expected) continue;
        await this.write(family);
        this.reasserted.inc({ family });
        rewritten.push(family);
        this.log.warn({ family, chain: NOTRACK_CHAIN, found: found === '' ? '(nothing)' : found, expected }, 'NOTRACK rules were missing or changed in the raw table (flushed by another tool?): written again');
      } catch (e) {
        this.failures.inc({ family });
        this.log.error({ family, err: e instanceof Error ? e.message : String(e) }, 'could not check the NOTRACK rules; trying again at the next resync');
      }
    }
    return rewritten;
  }

  private list(family: NotrackFamily): Promise<string> {
    return this.run(TOOLS[family].iptables, ['-w', '-t', 'raw', '-S']);
  }

  private async write(family: NotrackFamily): Promise<void> {
    const { restore, iptables } = TOOLS[family];
    await this.run(restore, ['-w', '--noflush'], this.rules[family]);
    const jump = ['PREROUTING', '-j', NOTRACK_CHAIN];
    const present = await this.run(iptables, ['-w', '-t', 'raw', '-C', ...jump]).then(
      () => true,
      () => false,
    );
    if (!present) await this.run(iptables, ['-w', '-t', 'raw', '-I', ...jump]);
    this.written.set(family, notrackLines(await this.list(family)));
  }

  private async decideFamilies(): Promise<NotrackFamily[]> {
    if (this.options.ipv4Only === true) return ['ipv4'];
    const ipv6Cidrs = this.rules.ipv6.includes(' -d ');
    const say = (fields: object, message: string) => (ipv6Cidrs ? this.log.warn(fields, `${message}; the IPv6 VIP CIDRs stay tracked`) : this.log.info(fields, message));
    const hasIpv6 = this.options.kernelHasIpv6 ?? (() => existsSync('/proc/net/if_inet6'));
    if (!hasIpv6()) {
      say({ family: 'ipv6' }, 'no IPv6 on this node (/proc/net/if_inet6 absent): IPv6 NOTRACK rules skipped');
      return ['ipv4'];
    }
    try {
      await this.run(TOOLS.ipv6.iptables, ['-w', '-t', 'raw', '-S', 'PREROUTING']);
    } catch (e) {
      say({ family: 'ipv6', err: e instanceof Error ? e.message : String(e) }, 'no IPv6 raw table on this node (ip6tables -t raw fails): IPv6 NOTRACK rules skipped');
      return ['ipv4'];
    }
    return ['ipv4', 'ipv6'];
  }
}

/** Install the rules once (see NotrackGuard for keeping them); returns the guard. */
export async function applyNotrack(cidrs: readonly string[], options: NotrackOptions = {}): Promise<NotrackGuard> {
  const guard = new NotrackGuard(cidrs, options);
  await guard.install();
  return guard;
}
