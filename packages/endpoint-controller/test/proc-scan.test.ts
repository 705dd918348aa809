import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupMentionsPod, ProcScanResolver } from '../src/netns/proc-scan.js';
import { FirstFoundResolver, NetnsResolveError, type PodNetnsResolver } from '../src/netns/resolver.js';
import type { PodRef } from '../src/pod-view.js';

const UID = '0f2e6c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
const UNDERSCORED = UID.replaceAll('-', '_');

describe('cgroupMentionsPod', () => {
  test.each([
    ['cgroupfs v1', `12:memory:/kubepods/burstable/pod${UID}/8f3a\n11:pids:/kubepods/burstable/pod${UID}/8f3a\n`, true],
    ['cgroupfs v2, guaranteed', `0::/kubepods/pod${UID}/8f3a\n`, true],
    ['systemd v2', `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UNDERSCORED}.slice/cri-containerd-8f3a.scope\n`, true],
    ['systemd v2, guaranteed', `0::/kubepods.slice/kubepods-pod${UNDERSCORED}.slice/crio-8f3a.scope\n`, true],
    ['seen from a cgroup namespace', `0::/../../kubepods-besteffort-pod${UNDERSCORED}.slice/cri-containerd-1.scope\n`, true],
    ['upper case in the path', `0::/kubepods/pod${UID.toUpperCase()}/x\n`, true],
    ['another pod', `0::/kubepods/pod${UID.slice(0, -1)}c/x\n`, false],
    ['a prefix of the uid only', `0::/kubepods/pod${UID.slice(0, 8)}/x\n`, false],
    ['the uid not as a pod segment', `0::/system.slice/${UID}.scope\n`, false],
    ['the host', '0::/init.scope\n', false],
    ['garbage', 'nonsense', false],
  ])('%s', (_name, text, expected) => expect(cgroupMentionsPod(text, UID)).toBe(expected));

  test('an empty or non-uid string never matches', () => {
    expect(cgroupMentionsPod('0::/kubepods/pod/x\n', '')).toBe(false);
    expect(cgroupMentionsPod('0::/kubepods/pod.*/x\n', '.*')).toBe(false);
  });
});

describe('ProcScanResolver over a fake /proc', () => {
  const root = mkdtempSync(join(tmpdir(), 'proc-'));
  const proc = (pid: number, cgroup: string, netns: string | undefined) => {
    mkdirSync(join(root, String(pid), 'ns'), { recursive: true });
    writeFileSync(join(root, String(pid), 'cgroup'), cgroup);
    if (netns !== undefined) symlinkSync(netns, join(root, String(pid), 'ns', 'net'));
  };
  beforeAll(() => {
    proc(1, '0::/init.scope\n', 'net:[4026531840]');
    proc(310, `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UNDERSCORED}.slice/cri-containerd-pause.scope\n`, 'net:[4026532200]');
    proc(320, `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UNDERSCORED}.slice/cri-containerd-app.scope\n`, 'net:[4026532200]');
    // a process of the pod that moved to another namespace: outvoted
    proc(305, `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UNDERSCORED}.slice/cri-containerd-odd.scope\n`, 'net:[4026539999]');
    // a process that exited between the cgroup read and the readlink
    proc(300, `0::/kubepods/pod${UID}/gone\n`, undefined);
    proc(400, '0::/kubepods/podffffffff-0000-0000-0000-000000000000/x\n', 'net:[4026532300]');
    mkdirSync(join(root, 'self'));
    writeFileSync(join(root, 'meminfo'), '');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const ref = (uid: string): PodRef => ({ namespace: 'shop', name: 'web', uid });

  test('finds the namespace most of the pod’s processes share, by its lowest pid', async () => {
    expect(await new ProcScanResolver({ procRoot: root, concurrency: 2 }).resolve(ref(UID))).toBe(join(root, '310', 'ns', 'net'));
  });
  test('null for a pod with no process; an unreadable root throws', async () => {
    expect(await new ProcScanResolver({ procRoot: root }).resolve(ref('aaaaaaaa-0000-0000-0000-000000000000'))).toBeNull();
    expect(await new ProcScanResolver({ procRoot: root }).resolve(ref(''))).toBeNull();
    await expect(new ProcScanResolver({ procRoot: join(root, 'missing') }).resolve(ref(UID))).rejects.toThrow(/ENOENT/);
  });
});

describe('FirstFoundResolver', () => {
  const fixed = (name: string, answer: string | null | Error): PodNetnsResolver => ({
    name,
    resolve: async () => {
      if (answer instanceof Error) throw answer;
      return answer;
    },
  });
  const ref: PodRef = { namespace: 'shop', name: 'web', uid: 'u' };

  test('the first path wins; failures and nulls fall through; all failing throws with every failure', async () => {
    expect(await new FirstFoundResolver([fixed('cri', new Error('UNAVAILABLE')), fixed('proc', '/proc/9/ns/net')]).resolve(ref)).toBe('/proc/9/ns/net');
    expect(await new FirstFoundResolver([fixed('cri', null), fixed('proc', '/proc/9/ns/net')]).resolve(ref)).toBe('/proc/9/ns/net');
    expect(await new FirstFoundResolver([fixed('cri', '/run/netns/a'), fixed('proc', new Error('never asked'))]).resolve(ref)).toBe('/run/netns/a');
    expect(await new FirstFoundResolver([fixed('cri', new Error('UNAVAILABLE')), fixed('proc', null)]).resolve(ref)).toBeNull();
    const all = new FirstFoundResolver([fixed('cri', new Error('UNAVAILABLE')), fixed('proc', new Error('EACCES'))]);
    await expect(all.resolve(ref)).rejects.toThrow(NetnsResolveError);
    await expect(all.resolve(ref)).rejects.toThrow('cri: UNAVAILABLE; proc: EACCES');
    expect(all.name).toBe('cri, then proc');
  });
});
