import { existsSync } from 'node:fs';
import {
  FRONTEND_KINDS,
  ResolverMaps,
  applyToDump,
  buildResolverState,
  planMaps,
  type DesiredState,
  type FrontendKind,
  type MapOp,
  type MapsDump,
  type Plan,
} from '@balanced/cgroup-resolver';
import type { ClusterObjects } from './cluster-objects.js';
import { formatHostPort } from './endpoint-arg.js';
import { CliError, messageOf } from './errors.js';
import { standInPodCgroups } from './pod-cgroups.js';

export const EMPTY_DUMP: MapsDump = { frontends: [], services: new Map(), backends: new Map() };

/**
 * The resolver's desired state: its own builder over these objects (Services, EndpointSlices,
 * Nodes, and the Pods and policies of LocalRedirectPolicy / BalancingPolicy frontends), as the
 * agent on `nodeName` (undefined: outside the cluster) once it has found every pod's cgroup
 * (stand-in ids: see pod-cgroups.ts).
 */
export function resolverDesired(objects: ClusterObjects, nodeName: string | undefined): DesiredState {
  return buildResolverState({
    services: objects.services,
    endpointSlices: objects.endpointSlices,
    nodes: objects.nodes,
    pods: objects.pods,
    localRedirectPolicies: objects.localRedirectPolicies,
    balancingPolicies: objects.balancingPolicies,
    podCgroups: standInPodCgroups,
    ...(nodeName !== undefined ? { nodeName } : {}),
  });
}

/** Frontends per kind, in lookup order (redirect, balancing, service). */
export function frontendKinds(desired: DesiredState): Record<FrontendKind, number> {
  const counts = Object.fromEntries(FRONTEND_KINDS.map((k) => [k, 0])) as Record<FrontendKind, number>;
  for (const f of desired.frontends) counts[f.kind] += 1;
  return counts;
}

/** What the pinned maps under `pinRoot` hold now. */
export function readPinnedMaps(pinRoot: string): MapsDump {
  if (!existsSync(pinRoot)) throw new CliError(`no resolver maps: ${pinRoot} does not exist (is the cgroup-resolver running on this host? see --pin-root)`);
  let maps: ResolverMaps;
  try {
    maps = ResolverMaps.open(pinRoot);
  } catch (e) {
    throw new CliError(`cannot open the resolver's maps under ${pinRoot}: ${messageOf(e)}`);
  }
  try {
    return maps.dump();
  } finally {
    maps.close();
  }
}

export interface ResolverPlan {
  readonly plan: Plan;
  /** The maps once the plan is applied. */
  readonly after: MapsDump;
}

/** The agent's plan (its planMaps) from the maps' dump to the desired state, and the maps it leaves. */
export function resolverPlan(desired: DesiredState, actual: MapsDump): ResolverPlan {
  let plan: Plan;
  try {
    plan = planMaps(desired, actual);
  } catch (e) {
    throw new CliError(`resolver plan: ${messageOf(e)}`);
  }
  return { plan, after: applyToDump(actual, plan) };
}

/** One line per map op, for the human table: [op, target, detail]; `names`: service id → key (the plan's). */
export function describeMapOp(op: MapOp, names: ReadonlyMap<number, string> = new Map()): [string, string, string] {
  switch (op.op) {
    case 'backend-put':
      return [op.op, `backend ${op.id}`, `${formatHostPort(op.backend.address, op.backend.port)}${op.backend.local ? ' (node-local)' : ''}`];
    case 'backend-delete':
      return [op.op, `backend ${op.id}`, ''];
    case 'service-put': {
      const skip = op.table.skipCgroups.length;
      const skips = skip > 0 ? `, skips ${skip} client cgroup${skip === 1 ? '' : 's'}` : '';
      return [op.op, `service ${op.id}`, `${op.key}: ${op.table.backendIds.length} backends, ${op.table.slots.length} slots${skips}, revision ${op.table.revision}`];
    }
    case 'service-delete':
      return [op.op, `service ${op.id}`, ''];
    case 'frontend-put':
    case 'frontend-delete': {
      const f = op.frontend;
      const name = names.get(f.serviceId);
      return [op.op, `${formatHostPort(f.address, f.port)}/${f.protocol} ${f.kind}`, op.op === 'frontend-put' ? `-> service ${f.serviceId}${name !== undefined ? ` (${name})` : ''}` : ''];
    }
  }
}

/** A map op as JSON: a service table's slots are summarised (size and per-backend count), not listed. */
export function mapOpJson(op: MapOp): unknown {
  if (op.op !== 'service-put') return op;
  const { slots, ...table } = op.table;
  return { ...op, table: { ...table, tableSize: slots.length, slotsPerBackend: slotCounts(op.table.backendIds, slots) } };
}

/** Backend id → number of slots it holds in a Maglev table. */
export function slotCounts(backendIds: readonly number[], slots: ArrayLike<number>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of backendIds) counts[String(id)] = 0;
  for (let i = 0; i < slots.length; i++) {
    const id = backendIds[slots[i] as number];
    if (id !== undefined) counts[String(id)] = (counts[String(id)] ?? 0) + 1;
  }
  return counts;
}
