// The pod-level cgroup ids a LocalRedirectPolicy needs (the resolver's desired state takes them
// as `podCgroups`): the agent finds them by walking its --cgroup hierarchy on its node, and uses
// only the pods it found as redirect backends, their cgroups forming the redirect's skip list (a
// backend is never redirected to itself). The CLI plans for any node, from anywhere, so it does
// not walk a hierarchy: it takes every pod as found, with a stand-in id per pod derived from its
// uid (stable across runs, the same for one pod in the skip list and as a client of explain).
import { createHash } from 'node:crypto';
import type { ResolverInput } from '@balanced/cgroup-resolver';

export type PodCgroupLookup = NonNullable<ResolverInput['podCgroups']>;

/** A stand-in pod cgroup id: 48 bits of the uid's SHA-256, never 0. */
export function standInCgroupId(podUid: string): bigint {
  const digest = createHash('sha256').update(podUid).digest();
  const id = digest.readUIntBE(0, 6);
  return BigInt(id === 0 ? 1 : id);
}

/** Every pod with a uid as if its pod cgroup had been found: one stand-in id each. */
export const standInPodCgroups: PodCgroupLookup = (podUid) => (podUid === '' ? undefined : [standInCgroupId(podUid)]);
