// The IPVS operations the controller emits for the bench workload, computed offline with the
// controller's own pure pieces (desiredSource over a static snapshot, plan, applyToModel):
// the initial sync in one batch (what the first pass applies), then for each change the ops
// for its service — plan() is per service, so this is the controller's plan restricted to
// the one service that changed — followed, when a destination was drained, by the batch that
// deletes it (the controller does that on its next full read; the model has no connections).
// The VM bench replays this log into real IPVS; the host bench checks that the ops it saw
// live match it.
import { serviceKeyString } from '@balanced/ipvs';
import { applyToModel, cidrOwnership, desiredSource, inDirectorOrder, plan, serviceOwnership } from '../dist/index.js';
import { VIP_CIDR, changes as makeChanges, initialEndpoints, service, slice } from './workload.mjs';

const ownsVip = cidrOwnership([VIP_CIDR]);
const owns = serviceOwnership(ownsVip);
const desiredOf = (services, slices) =>
  // (in director order, as the Reconciler hands them to plan())
  desiredSource({ cluster: { services: () => services, endpointSlices: () => slices, pods: () => [] }, ownsVip, defaultClass: false, defaultDrainSeconds: 30 })().map(inDirectorOrder);
const opKey = (o) => serviceKeyString('key' in o.service ? o.service.key : o.service);

export function generateOpLog(services, dests, changeCount, seed = 42) {
  const svcs = Array.from({ length: services }, (_, i) => service(i));
  const slices = Array.from({ length: services }, (_, i) => slice(i, initialEndpoints(dests)));
  const ctx = (drainingSince) => ({ owns, now: 0, drainingSince, defaultDrainSeconds: 30 });
  const initial = plan(desiredOf(svcs, slices), [], ctx(new Map())).ops;
  const byService = new Map();
  for (const o of initial) {
    const k = opKey(o);
    if (!byService.has(k)) byService.set(k, []);
    byService.get(k).push(o);
  }
  const models = new Map([...byService].map(([k, ops]) => [k, applyToModel([], ops)[0]]));
  const batches = [{ phase: 'initial', ops: initial }];
  const perChange = [];
  for (const c of makeChanges(services, dests, changeCount, seed)) {
    const want = desiredOf([svcs[c.service]], [c.body]);
    const k = serviceKeyString(want[0].spec.key);
    let model = models.get(k);
    const p = plan(want, [model], ctx(new Map()));
    model = applyToModel([model], p.ops)[0];
    batches.push({ phase: 'change', ops: p.ops });
    perChange.push(p.ops.map((o) => o.op));
    if (p.drainingSince.size > 0) {
      const q = plan(want, [model], ctx(p.drainingSince));
      model = applyToModel([model], q.ops)[0];
      if (q.ops.length) batches.push({ phase: 'drain-delete', ops: q.ops });
    }
    models.set(k, model);
  }
  return { services, destinationsPerService: dests, changes: changeCount, seed, batches, perChange };
}
