// Pod-level cgroups for LocalRedirectPolicy skip lists: which directory is a pod's own
// (podCgroupUid), the CgroupIndex's lookup by pod UID, and the agent-side lookup that walks
// again for pods it was asked for and did not know.
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { CgroupIndex } from '../src/events/cgroup-index.js';
import { podCgroupUid } from '../src/events/cgroup-paths.js';
import { PodCgroupLookup } from '../src/pod-cgroups.js';

const UID = '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';
const SYSTEMD_UID = UID.replaceAll('-', '_');
const CID = 'a'.repeat(64);

describe('podCgroupUid: the pod-level cgroup, not its containers', () => {
  it.each([
    ['cgroupfs', `/kubepods/besteffort/pod${UID}`, UID],
    ['cgroupfs, guaranteed', `/kubepods/pod${UID}`, UID],
    ['systemd', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${SYSTEMD_UID}.slice`, UID],
    ['below a test root', `/balanced-test/kubepods/pod${UID}/`, UID],
    ['a container', `/kubepods/besteffort/pod${UID}/${CID}`, undefined],
    ['a systemd container scope', `/kubepods.slice/kubepods-pod${SYSTEMD_UID}.slice/cri-containerd-${CID}.scope`, undefined],
    ['CRI-O conmon', `/kubepods.slice/kubepods-pod${SYSTEMD_UID}.slice/crio-conmon-${CID}.scope`, undefined],
    ['the QoS class', '/kubepods/besteffort', undefined],
    ['the root', '', undefined],
  ])('%s', (_name, path, uid) => {
    expect(podCgroupUid(path)).toBe(uid);
  });
});

function tree(): { root: string; pod: bigint; close: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'bdr-podcg-'));
  const podDir = join(root, 'kubepods', 'besteffort', `pod${UID}`);
  mkdirSync(join(podDir, CID), { recursive: true });
  mkdirSync(join(root, 'system.slice'));
  return { root, pod: BigInt(statSync(podDir).ino), close: () => rmSync(root, { recursive: true, force: true }) };
}

describe('CgroupIndex.podCgroups', () => {
  it('knows a pod by UID after a walk: its pod-level directory inode, not its containers', async () => {
    const t = tree();
    try {
      const index = new CgroupIndex({ root: t.root });
      expect(index.podCgroups(UID)).toBeUndefined();
      await index.refresh();
      expect(index.podCgroups(UID)).toEqual([t.pod]);
      expect(index.podCgroups('unknown')).toBeUndefined();
    } finally {
      t.close();
    }
  });
});

describe('PodCgroupLookup', () => {
  it('walks after a snapshot that asked for unknown pods; tells when it found some, reports the rest once', async () => {
    const t = tree();
    try {
      const cgroups = new CgroupIndex({ root: t.root, minRescanMs: 0 });
      let found = 0;
      const missing: string[][] = [];
      const lookup = new PodCgroupLookup({ cgroups, onFound: () => found++, onMissing: (uids) => missing.push([...uids]) });
      await lookup.afterSnapshot(); // nothing asked: no walk
      expect(cgroups.walks).toBe(0);
      expect(lookup.lookup(UID)).toBeUndefined();
      expect(lookup.lookup('gone')).toBeUndefined();
      await lookup.afterSnapshot();
      expect(cgroups.walks).toBe(1);
      expect(found).toBe(1);
      expect(lookup.lookup(UID)).toEqual([t.pod]);
      expect(missing).toEqual([['gone']]);
      // Asked again: another walk, not reported again, nothing new found.
      expect(lookup.lookup('gone')).toBeUndefined();
      await lookup.afterSnapshot();
      expect(cgroups.walks).toBe(2);
      expect(found).toBe(1);
      expect(missing).toEqual([['gone']]);
      lookup.close();
    } finally {
      t.close();
    }
  });

  it('waits for the next allowed walk when one just ran, and close() cancels it', async () => {
    const t = tree();
    try {
      let now = 0;
      const cgroups = new CgroupIndex({ root: t.root, minRescanMs: 1000, now: () => now });
      await cgroups.refresh();
      const lookup = new PodCgroupLookup({ cgroups, onFound: () => undefined, retryMs: 10 });
      lookup.lookup('later');
      const waiting = lookup.afterSnapshot();
      now = 500;
      await waiting; // ran after retryMs
      expect(cgroups.walks).toBe(2);
      lookup.lookup('later');
      now = 600;
      const cancelled = lookup.afterSnapshot();
      lookup.close();
      await cancelled;
      expect(cgroups.walks).toBe(2);
    } finally {
      t.close();
    }
  });
});
