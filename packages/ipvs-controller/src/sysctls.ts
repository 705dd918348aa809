import { readFileSync, writeFileSync } from 'node:fs';
import { inNamespace } from '@balanced/netlink';

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

/**
 * Set each sysctl that differs; returns what changed. /proc/sys/net is per network namespace
 * and resolved for the calling thread, so the reads and writes are synchronous and, with
 * `netns`, happen while this thread is inside that namespace.
 */
export function applySysctls(options: { wanted?: Readonly<Record<string, string>>; netns?: string; root?: string } = {}): SysctlChange[] {
  const run = (): SysctlChange[] => {
    const changes: SysctlChange[] = [];
    for (const [name, to] of Object.entries(options.wanted ?? DIRECTOR_SYSCTLS)) {
      const path = `${options.root ?? '/proc/sys'}/${name}`;
      const from = readFileSync(path, 'utf8').trim();
      if (from !== to) {
        writeFileSync(path, `${to}\n`);
        changes.push({ name: name.replaceAll('/', '.'), from, to });
      }
    }
    return changes;
  };
  return options.netns ? inNamespace(options.netns, run) : run();
}

/**
 * The sysctls that differ from what a director needs, without changing anything: in
 * `--networking pod` mode the container's /proc/sys is read-only, and the pod must ask for them
 * in its securityContext.sysctls (they are per network namespace; the kubelet must allow
 * `net.ipv4.vs.*` as unsafe sysctls). A sysctl that cannot be read counts as differing.
 */
export function checkSysctls(options: { wanted?: Readonly<Record<string, string>>; netns?: string; root?: string } = {}): SysctlChange[] {
  const run = (): SysctlChange[] => {
    const wrong: SysctlChange[] = [];
    for (const [name, to] of Object.entries(options.wanted ?? DIRECTOR_SYSCTLS)) {
      let from: string;
      try {
        from = readFileSync(`${options.root ?? '/proc/sys'}/${name}`, 'utf8').trim();
      } catch {
        from = 'unreadable';
      }
      if (from !== to) wrong.push({ name: name.replaceAll('/', '.'), from, to });
    }
    return wrong;
  };
  return options.netns ? inNamespace(options.netns, run) : run();
}
