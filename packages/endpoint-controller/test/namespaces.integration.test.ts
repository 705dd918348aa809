import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createNetns, createVethPair, deleteNetns, execInNetns, uniqueName } from '@balanced/testkit';
import { cidrOwnership } from '@balanced/k8s';
import { nsenterIptables } from '../src/iptables.js';
import { parseMangleSave, renderMssRestore, renderMssRules } from '../src/mss-rules.js';
import { PodNamespace } from '../src/pod-namespace.js';
import { PodTunnelError } from '../src/errors.js';
import { ProcScanResolver } from '../src/netns/proc-scan.js';
import { TunnelProgrammer } from '../src/programmer.js';
import type { PodNetnsResolver } from '../src/netns/resolver.js';

// On this host, as root (its kernel has netns, veth and nf_tables, but no ipip: tunl0 itself is
// covered by the kernel tests in the VM): real processes in a real network namespace, placed in
// cgroups named the way kubelet names pod cgroups (systemd driver on cgroup v2, cgroupfs driver
// on a v1 hierarchy) and found by the /proc scan; iptables and rtnetlink in that namespace
// through a descriptor; the node's own namespace refused.
function cgroupMount(type: 'cgroup2' | 'cgroup', option?: string): string | undefined {
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [, dir, fstype, opts] = line.split(' ');
    if (fstype === type && dir !== undefined && (option === undefined || (opts ?? '').split(',').includes(option))) return dir;
  }
  return undefined;
}

const v2 = cgroupMount('cgroup2');
const v1 = cgroupMount('cgroup', 'name=systemd') ?? cgroupMount('cgroup', 'pids');
if (v2 === undefined) {
  if (process.env['CI'] === 'true') throw new Error('no cgroup2 mount on this host: the /proc scan integration test cannot run');
  process.stderr.write('SKIPPED: proc-scan integration: no cgroup2 mount on this host\n');
}
const maybe = v2 === undefined ? describe.skip : describe;
const threadNetns = readlinkSync('/proc/thread-self/ns/net');
/** Stands for the node's namespace: this process's own (pid 1's may be unreadable in a sandbox). */
const NODE_NETNS = '/proc/self/ns/net';

let ns: string;
const children: ChildProcess[] = [];
const made: string[] = [];
const top = `balanced-test-${uniqueName('ps')}`;

function mkcg(root: string, path: string): string {
  let dir = root;
  for (const part of path.split('/')) {
    dir = join(dir, part);
    if (!existsSync(dir)) {
      mkdirSync(dir);
      made.push(dir);
    }
  }
  return dir;
}

async function sleeperIn(cgroupDir: string): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, 'sleep', '300'], { stdio: 'ignore' });
  children.push(child);
  // `ip netns exec` enters the namespace, then execs sleep in place (same pid)
  const target = statSync(`/run/netns/${ns}`).ino;
  const inNs = () => {
    try {
      return statSync(`/proc/${child.pid}/ns/net`).ino === target;
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 250 && !inNs(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!inNs()) throw new Error('the test process never entered the namespace');
  writeFileSync(join(cgroupDir, 'cgroup.procs'), String(child.pid));
  return child;
}

beforeAll(async () => {
  ns = await createNetns();
  await createVethPair({ netns: ns, address: '10.244.7.2/24' }, { netns: ns, address: '10.244.7.1/24' });
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  for (const dir of made.reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      // a cgroup with a process that is still exiting; the kernel frees it once empty
    }
  }
  if (ns) await deleteNetns(ns);
});

maybe('ProcScanResolver on the real /proc', () => {
  test('finds the namespace of a pod process in a systemd-style cgroup (v2) and one in a cgroupfs-style cgroup (v1)', async () => {
    const uidA = randomUUID();
    const leafA = mkcg(v2!, `${top}/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uidA.replaceAll('-', '_')}.slice/cri-containerd-abc.scope`);
    const a = await sleeperIn(leafA);
    const resolver = new ProcScanResolver();
    const path = await resolver.resolve({ namespace: 'shop', name: 'a', uid: uidA });
    expect(path).toBe(`/proc/${a.pid}/ns/net`);
    expect(statSync(path!).ino).toBe(statSync(`/run/netns/${ns}`).ino);

    if (v1 !== undefined) {
      const uidB = randomUUID();
      const leafB = mkcg(v1, `${top}/kubepods/besteffort/pod${uidB}/0123abcd`);
      const b = await sleeperIn(leafB);
      expect(await resolver.resolve({ namespace: 'shop', name: 'b', uid: uidB })).toBe(`/proc/${b.pid}/ns/net`);
    }

    // the pod's process exits: nothing found any more
    a.kill('SIGKILL');
    await new Promise((r) => a.once('exit', r));
    expect(await resolver.resolve({ namespace: 'shop', name: 'a', uid: uidA })).toBeNull();
    expect(await resolver.resolve({ namespace: 'shop', name: 'x', uid: randomUUID() })).toBeNull();
  });

  test('iptables runs in the namespace held by the descriptor, and this process never moves', async () => {
    const before = readlinkSync('/proc/thread-self/ns/net');
    const fd = openSync(`/run/netns/${ns}`, 'r');
    try {
      const ipt = nsenterIptables();
      const rules = renderMssRules(['10.96.0.10'], 1340);
      await ipt.restore(fd, renderMssRestore({ op: 'write-mss', rules, addJump: true, extraJumps: 0 }));
      expect(parseMangleSave(await ipt.save(fd, 'mangle'))).toEqual({ chain: rules, jumps: 1 });
      // the same state seen from inside with the ordinary tools
      expect((await execInNetns(ns, 'iptables-save', ['-t', 'mangle'])).stdout).toContain(rules[0]);
      await ipt.restore(fd, renderMssRestore({ op: 'remove-mss', jumps: 1, chain: true }));
      expect(parseMangleSave(await ipt.save(fd, 'mangle'))).toEqual({ chain: undefined, jumps: 0 });
      await expect(ipt.restore(fd, '*mangle\n-A NO-SUCH-CHAIN -j ACCEPT\nCOMMIT\n')).rejects.toThrow(/iptables-restore --noflush failed/);
    } finally {
      closeSync(fd);
    }
    expect(readlinkSync('/proc/thread-self/ns/net')).toBe(before);
  });
});

describe('PodNamespace and TunnelProgrammer on a real namespace', () => {
  const ipt = nsenterIptables();
  test('reads the pod interface by the pod IP, without tunl0 on this kernel; this thread never moves', async () => {
    const pn = PodNamespace.open(`/run/netns/${ns}`, { iptables: ipt, hostNetns: NODE_NETNS });
    try {
      const actual = await pn.read('10.244.7.2');
      expect(actual.podInterface?.mtu).toBe(1500);
      expect(actual.tunnel).toBeUndefined();
      expect(actual.rpFilter).toBeUndefined();
      expect(actual.mss).toEqual({ chain: undefined, jumps: 0 });
      expect((await pn.read('10.244.7.9')).podInterface).toBeUndefined();
    } finally {
      pn.close();
    }
    expect(readlinkSync('/proc/thread-self/ns/net')).toBe(threadNetns);
  });

  test("the node's own namespace is refused, a vanished one is NetnsNotFound", () => {
    const reason = (f: () => unknown): string => {
      try {
        f();
        return 'no error';
      } catch (e) {
        return e instanceof PodTunnelError ? e.reason : String(e);
      }
    };
    expect(reason(() => PodNamespace.open('/proc/self/ns/net', { iptables: ipt, hostNetns: NODE_NETNS }))).toBe('HostNetns');
    expect(reason(() => PodNamespace.open(`/run/netns/${ns}`, { iptables: ipt, hostNetns: `/run/netns/${ns}` }))).toBe('HostNetns');
    expect(reason(() => PodNamespace.open('/run/netns/no-such-namespace', { iptables: ipt, hostNetns: NODE_NETNS }))).toBe('NetnsNotFound');
    // when it cannot tell whether a namespace is the node's, it refuses
    expect(reason(() => PodNamespace.open(`/run/netns/${ns}`, { iptables: ipt, hostNetns: '/no/such/proc/1/ns/net' }))).toBe('NetnsLookupFailed');
  });

  test('a programmer with nothing to add removes our leftovers and nothing else (no tunl0 needed)', async () => {
    const fd = openSync(`/run/netns/${ns}`, 'r');
    try {
      await ipt.restore(fd, renderMssRestore({ op: 'write-mss', rules: renderMssRules(['10.96.0.10'], 1440), addJump: true, extraJumps: 0 }));
      // a second jump to our chain, and someone else's chain
      await ipt.restore(fd, '*mangle\n:OTHER - [0:0]\n-A OUTPUT -j OTHER\n-A OUTPUT -j BALANCED-MSS\nCOMMIT\n');
    } finally {
      closeSync(fd);
    }
    const resolver: PodNetnsResolver = { name: 'fixed', resolve: async () => `/run/netns/${ns}` };
    const programmer = new TunnelProgrammer({ resolver, owns: cidrOwnership(['10.96.0.0/24']), iptables: ipt, hostNetns: NODE_NETNS });
    const target = { namespace: 'shop', name: 'web-0', uid: 'u', podIP: '10.244.7.2', vips: [], services: [] };
    expect((await programmer.program(target)).ops).toEqual([{ op: 'remove-mss', jumps: 2, chain: true }]);
    expect((await programmer.program(target)).ops).toEqual([]);
    const left = (await execInNetns(ns, 'iptables-save', ['-t', 'mangle'])).stdout;
    expect(left).not.toContain('BALANCED-MSS');
    expect(left).toContain('-A OUTPUT -j OTHER');
    // wanting VIPs where tunl0 cannot exist (no ipip on this kernel) is a clear, typed error
    await expect(programmer.program({ ...target, vips: ['10.96.0.10'] })).rejects.toMatchObject({ reason: 'TunnelUnavailable' });
  });
});
