import { readFile, writeFile } from 'node:fs/promises';

/**
 * What a stateless director needs (DESIGN.md, kernel facts): no conntrack for IPVS traffic,
 * mid-stream TCP may create entries (ECMP may move a flow to another director), ICMP is
 * scheduled too, connections to removed destinations expire, and port reuse reschedules.
 */
export const DIRECTOR_SYSCTLS: Readonly<Record<string, string>> = {
  'net/ipv4/vs/conntrack': '0',
  'net/ipv4/vs/sloppy_tcp': '1',
  'net/ipv4/vs/schedule_icmp': '1',
  'net/ipv4/vs/expire_nodest_conn': '1',
  'net/ipv4/vs/conn_reuse_mode': '2',
};

export interface SysctlChange {
  readonly name: string;
  readonly from: string;
  readonly to: string;
}

/** Set each sysctl that differs; returns what changed. Runs in the current network namespace. */
export async function applySysctls(wanted: Readonly<Record<string, string>> = DIRECTOR_SYSCTLS, root = '/proc/sys'): Promise<SysctlChange[]> {
  const changes: SysctlChange[] = [];
  for (const [name, to] of Object.entries(wanted)) {
    const path = `${root}/${name}`;
    const from = (await readFile(path, 'utf8')).trim();
    if (from !== to) {
      await writeFile(path, `${to}\n`);
      changes.push({ name: name.replaceAll('/', '.'), from, to });
    }
  }
  return changes;
}
