// What the tests that run deploy/'s workloads from the image trees share (images-resolver,
// dsr-images): the image trees (absent: SKIPPED, or an error under CI), deploy/'s documents, a
// pod planned from its manifest under its own ServiceAccount, and requests with that pod's token.
import { describe } from '@jest/globals';
import {
  findWorkload,
  imageLookup,
  loadImageTrees,
  planPod,
  readDeployDocuments,
  serviceAccountAccess,
  type ApiBridge,
  type Json,
  type PodFacts,
  type PodLaunchPlan,
  type RunningPod,
  type TestApiServer,
} from '@balanced/testkit';

/** The namespace deploy/ installs into. */
export const SYSTEM = 'balanced-system';

export interface DeployFixture {
  readonly images: ReturnType<typeof loadImageTrees>;
  /** deploy/'s documents (none when the trees are absent). */
  readonly docs: Json[];
  readonly absent: boolean;
  /** `describe`, or `describe.skip` when the trees are absent outside CI. */
  readonly maybe: typeof describe | typeof describe.skip;
}

/** The image trees and deploy/; without trees: an error under CI, else a loud SKIPPED. */
export function deployFixture(label: string): DeployFixture {
  const images = loadImageTrees();
  const absent = images.size === 0;
  if (absent) {
    if (process.env['CI'] === 'true') throw new Error('no image trees under build/rootfs: scripts/setup.sh assembles them (scripts/images/assemble.sh, as root with mmdebstrap)');
    process.stderr.write(`SKIPPED: ${label}: no image trees under build/rootfs (run scripts/images/assemble.sh as root)\n`);
  }
  return { images, docs: absent ? [] : readDeployDocuments(), absent, maybe: absent ? describe.skip : describe };
}

export interface Container {
  args?: string[];
  securityContext?: { capabilities?: { drop?: string[]; add?: string[] } };
}

export interface DeployPodOptions {
  /** Objects besides deploy/'s (a Secret the test made). */
  readonly objects?: readonly Json[];
  readonly hostPathOverrides?: Record<string, string>;
  readonly envOverrides?: Record<string, Record<string, string>>;
  /** Changes the first container of a copy of the workload (a documented flag, a must-fail variant). */
  readonly edit?: (container: Container) => void;
}

/** A pod of deploy/'s `workload`, planned from its image, under its ServiceAccount's token through `bridge`. */
export function deployPodPlan(fixture: DeployFixture, server: TestApiServer, workload: string, facts: PodFacts, bridge: ApiBridge, options: DeployPodOptions = {}): PodLaunchPlan {
  const w = structuredClone(findWorkload(fixture.docs, workload));
  const spec = (w['spec'] as { template: { spec: { serviceAccountName: string; containers: Container[] } } }).template.spec;
  options.edit?.(spec.containers[0]!);
  return planPod({
    workload: w,
    objects: [...fixture.docs, ...(options.objects ?? [])],
    image: imageLookup(fixture.images),
    facts,
    ...(options.hostPathOverrides === undefined ? {} : { hostPathOverrides: options.hostPathOverrides }),
    ...(options.envOverrides === undefined ? {} : { envOverrides: options.envOverrides }),
    apiAccess: serviceAccountAccess(server, SYSTEM, spec.serviceAccountName, bridge.url),
  });
}

/** The ServiceAccount token mounted in `pod`. */
export function podToken(pod: RunningPod): string {
  const volume = pod.plan.volumes.find((v) => v.kind === 'files' && v.source === 'ServiceAccount token');
  return volume?.kind === 'files' ? (volume.files.find((f) => f.path === 'token')?.content ?? '') : '';
}

/** GET `path` with `pod`'s token: the status the RBAC-enforcing server answers, and its message. */
export async function getAs(server: TestApiServer, pod: RunningPod, path: string): Promise<{ status: number; message: string }> {
  const res = await fetch(`${server.url}${path}`, { headers: { Authorization: `Bearer ${podToken(pod)}` } });
  const body = (await res.json().catch(() => ({}))) as { message?: string };
  return { status: res.status, message: body.message ?? '' };
}
