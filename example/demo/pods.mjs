// The node's pods as the endpoint-controller finds them: each pod's namespace holds a
// "pause" process in a cgroup named pod<uid> (as kubelet names it), so the controller's /proc
// scan resolves the pod to its namespace, as on a node without a CRI socket.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestCgroup, spawnInCgroupNetns } from '@balanced/testkit';
import { podUid } from './cluster.mjs';

/** Starts one pause process per pod; returns the parent cgroup (removeTestCgroup kills them all). */
export async function startPodSandboxes(pods, cgroupRoot) {
  const parent = await createTestCgroup('balanced-demo-pods', cgroupRoot);
  const children = [];
  for (const [index, p] of pods.entries()) {
    const cgroup = join(parent, `pod${podUid(index)}`);
    await mkdir(cgroup);
    const child = spawnInCgroupNetns(cgroup, p.netns, 'sleep', ['1000000']);
    child.on('error', () => undefined);
    children.push(child);
  }
  return { parent, children };
}
