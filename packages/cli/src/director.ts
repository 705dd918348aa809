import { IpvsClient, destinationKeyString, serviceKeyString, type ServiceKey } from '@balanced/ipvs';
import {
  applyToModel,
  desiredSource,
  describeOp,
  plan,
  serviceOwnership,
  type ActualService,
  type DesiredService,
  type ModelService,
} from '@balanced/ipvs-controller';
import type { Refusal } from '@balanced/k8s';
import type { IpvsOperation } from '@balanced/ipvs';
import type { ClusterObjects } from './cluster-objects.js';
import { CliError, messageOf } from './errors.js';

export interface DirectorDesired {
  readonly services: readonly DesiredService[];
  readonly refusals: readonly Refusal[];
  readonly warnings: readonly Refusal[];
}

export interface DirectorSettings {
  readonly ownsVip: (ip: string) => boolean;
  readonly defaultClass: boolean;
  readonly drainSeconds: number;
}

/** The director's desired IPVS state: the controller's own builder (desiredSource) over these objects. */
export function directorDesired(objects: ClusterObjects, s: DirectorSettings): DirectorDesired {
  let refusals: readonly Refusal[] = [];
  let warnings: readonly Refusal[] = [];
  const build = desiredSource({
    cluster: { services: () => objects.services, endpointSlices: () => objects.endpointSlices, pods: () => objects.pods },
    ownsVip: s.ownsVip,
    defaultClass: s.defaultClass,
    defaultDrainSeconds: s.drainSeconds,
    onRefusals: (r, w) => {
      refusals = r;
      warnings = w;
    },
  });
  const services = build();
  return { services, refusals, warnings };
}

/** The kernel's IPVS table (GET_SERVICE + GET_DEST dump) in this or another network namespace. */
export async function readIpvs(netns: string | undefined): Promise<ActualService[]> {
  let client: IpvsClient;
  try {
    client = await IpvsClient.open(netns !== undefined ? { netns } : {});
  } catch (e) {
    throw new CliError(`cannot open IPVS${netns !== undefined ? ` in ${netns}` : ''} (is ip_vs loaded, and are you root?): ${messageOf(e)}`);
  }
  try {
    return await client.dump();
  } catch (e) {
    throw new CliError(`cannot dump IPVS: ${messageOf(e)}`);
  } finally {
    client.close();
  }
}

export interface DirectorPlan {
  readonly ops: readonly IpvsOperation[];
  /** The table after the plan: what `mh` would build from (last_weight included). */
  readonly after: readonly ModelService[];
}

/**
 * The controller's plan (a first pass: no drain history) from `actual` to `desired`, and the
 * table it leaves, through the controller's kernel model.
 */
export function directorPlan(desired: readonly DesiredService[], actual: readonly ActualService[], s: DirectorSettings, now: number): DirectorPlan {
  const owns = serviceOwnership(s.ownsVip);
  const p = plan(desired, actual, { owns, now, drainingSince: new Map(), defaultDrainSeconds: s.drainSeconds });
  return { ops: p.ops, after: applyToModel(modelOf(actual, desired), p.ops) };
}

/**
 * The kernel dump as the controller's model. The dump reports the current weight, not
 * last_weight: a destination at weight 0 takes the last weight the desired state knows for
 * it (a drained destination keeps its table weight), else the one given in `lastWeights`.
 */
export function modelOf(actual: readonly ActualService[], desired: readonly DesiredService[], lastWeights: ReadonlyMap<string, number> = new Map()): ModelService[] {
  const known = new Map<string, number>(lastWeights);
  for (const d of desired) for (const dest of d.destinations) known.set(destinationId(d.spec.key, dest.address, dest.port), dest.lastWeight);
  return actual.map((a) => ({
    service: a.service,
    destinations: a.destinations.map((d) => ({
      ...d,
      lastWeight: d.weight !== 0 ? d.weight : (known.get(destinationId(a.service.key, d.address, d.port)) ?? known.get(destinationKeyString(d)) ?? 0),
    })),
  }));
}

function destinationId(key: ServiceKey, address: string, port: number): string {
  return `${serviceKeyString(key)} -> ${address}:${port}`;
}

export { describeOp };
