// What a running container process is, read from /proc on the host: its argv, environment,
// uid/gid/groups, capability sets, no_new_privs and whether / and /proc/sys are read-only
// in its mount namespace. Compared with the launch plan to prove the manifest ran as declared.

import { readFileSync } from 'node:fs';

export interface ProcessView {
  readonly argv: readonly string[];
  readonly env: readonly string[];
  readonly uid: string;
  readonly gid: string;
  readonly groups: string;
  readonly capEff: bigint;
  readonly capBnd: bigint;
  readonly noNewPrivs: string;
  readonly rootReadOnly: boolean | undefined;
  readonly procSysReadOnly: boolean | undefined;
}

/** Kernel bit numbers of capabilities (setpriv names; linux/capability.h order). */
const CAP_BITS: Readonly<Record<string, number>> = Object.fromEntries(
  'chown dac_override dac_read_search fowner fsetid kill setgid setuid setpcap linux_immutable net_bind_service net_broadcast net_admin net_raw ipc_lock ipc_owner sys_module sys_rawio sys_chroot sys_ptrace sys_pacct sys_admin sys_boot sys_nice sys_resource sys_time sys_tty_config mknod lease audit_write audit_control setfcap mac_override mac_admin syslog wake_alarm block_suspend audit_read perfmon bpf checkpoint_restore'.split(' ').map((name, bit) => [name, bit]),
);

/** The capability mask of `caps` (setpriv names); throws on a name this table lacks. */
export function capMask(caps: readonly string[]): bigint {
  return caps.reduce((m, c) => {
    const bit = CAP_BITS[c];
    if (bit === undefined) throw new Error(`capMask: no bit known for ${c}`);
    return m | (1n << BigInt(bit));
  }, 0n);
}

export function processView(pid: number): ProcessView {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): string => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
  const mounts = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const f = l.split(' ');
      return { path: f[4] ?? '', options: (f[5] ?? '').split(',') };
    });
  const readOnly = (path: string): boolean | undefined => {
    const m = mounts.filter((x) => x.path === path).at(-1);
    return m === undefined ? undefined : m.options.includes('ro');
  };
  return {
    argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1),
    env: readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter((e) => e !== ''),
    uid: field('Uid').split(/\s+/)[1] ?? '',
    gid: field('Gid').split(/\s+/)[1] ?? '',
    groups: field('Groups'),
    capEff: BigInt(`0x${field('CapEff')}`),
    capBnd: BigInt(`0x${field('CapBnd')}`),
    noNewPrivs: field('NoNewPrivs'),
    rootReadOnly: readOnly('/'),
    procSysReadOnly: readOnly('/proc/sys'),
  };
}
