import { execFile } from 'node:child_process';
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

export interface NotrackOptions {
  /** Run the commands inside this network namespace (`ip netns exec NAME`). */
  readonly netns?: string;
  /** Skip IPv6 (e.g. a kernel without ip6tables raw). */
  readonly ipv4Only?: boolean;
}

/** Install the rules and make sure PREROUTING jumps to the chain exactly once. */
export async function applyNotrack(cidrs: readonly string[], options: NotrackOptions = {}): Promise<void> {
  const rules = renderNotrack(cidrs);
  const families: [string, string, string][] = [['iptables-restore', 'iptables', rules.ipv4]];
  if (!options.ipv4Only) families.push(['ip6tables-restore', 'ip6tables', rules.ipv6]);
  for (const [restore, iptables, input] of families) {
    await exec(options.netns, restore, ['--noflush'], input);
    const jump = ['-t', 'raw', 'PREROUTING', '-j', NOTRACK_CHAIN];
    const present = await exec(options.netns, iptables, ['-w', '-t', 'raw', '-C', ...jump.slice(2)]).then(
      () => true,
      () => false,
    );
    if (!present) await exec(options.netns, iptables, ['-w', '-t', 'raw', '-I', ...jump.slice(2)]);
  }
}

function exec(netns: string | undefined, file: string, args: readonly string[], input?: string): Promise<string> {
  const [cmd, argv] = netns ? ['ip', ['netns', 'exec', netns, file, ...args]] : [file, [...args]];
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, argv, { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}
