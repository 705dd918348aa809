// Where a director's heap goes, without the API server or the recorder in the process:
//   node --expose-gc bench/memory-probe.mjs [services]      (default 10000, 10 endpoints each)
// Builds the bench's cluster objects as the cache keeps them (desiredStateTransforms), a
// DesiredIndex over them, and a Reconciler's view after a first pass against an empty kernel,
// and prints the live heap each adds (after a full GC). HEAP_SNAPSHOT_DIR=<dir> also writes a
// snapshot after each step (objects, index, view) to compare in DevTools.
import { writeHeapSnapshot } from 'node:v8';
import { join } from 'node:path';
import { compactObject, desiredStateTransforms } from '@balanced/k8s';
import { DesiredIndex, Reconciler, cidrOwnership, serviceOwnership } from '../dist/index.js';
import { VIP_CIDR, initialEndpoints, service, slice } from './workload.mjs';

if (!globalThis.gc) throw new Error('run with node --expose-gc');
const N = Number(process.argv[2] ?? 10000);
const dir = process.env.HEAP_SNAPSHOT_DIR;
const live = (step) => {
  globalThis.gc();
  if (dir && step !== 'none') writeHeapSnapshot(join(dir, `${step}.heapsnapshot`));
  return process.memoryUsage().heapUsed / 1e6;
};

const h0 = live('start');
const services = [];
const slices = [];
for (let i = 0; i < N; i++) {
  // Through JSON, as a watch event delivers them.
  services.push(desiredStateTransforms.services(JSON.parse(JSON.stringify(service(i)))));
  slices.push(desiredStateTransforms.endpointslices(JSON.parse(JSON.stringify(slice(i, initialEndpoints(10))))));
}
const h1 = live('objects');
const ownsIp = cidrOwnership([VIP_CIDR]);
const index = new DesiredIndex({ cluster: { services: () => services, endpointSlices: () => slices, pods: () => [] }, ownsVip: ownsIp, defaultClass: false, defaultDrainSeconds: 30 });
const snapshot = index.snapshot();
const h2 = live('index');
const kernel = { dump: async () => [], read: async () => [], apply: async (ops) => ops.map(() => ({ ok: true })) };
const reconciler = new Reconciler({ kernel, owns: serviceOwnership(ownsIp), defaultDrainSeconds: 30 });
const ops = (await reconciler.reconcile(snapshot)).ops.length;
await new Promise((r) => setTimeout(r, 100)); // let the pass's last frames go
const h3 = live('view');
const f = (x) => `${x.toFixed(1)} MB`;
console.log(`${N} services x 10 endpoints: cached objects ${f(h1 - h0)}, DesiredIndex ${f(h2 - h1)}, reconciler view ${f(h3 - h2)} (${ops} ops); baseline heap ${f(h0)}`);
globalThis.keep = [services, slices, index, reconciler];

// What the cache transforms save on objects as a real API server sends them: the bench's
// objects plus what kubectl apply and the control plane add (last-applied-configuration,
// labels, managedFields, endpoint hints). Cached whole (compactObject, the default) vs
// through desiredStateTransforms.
const clutter = (o) => {
  const applied = JSON.stringify({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace }, spec: o.spec });
  const out = {
    ...o,
    metadata: {
      ...o.metadata,
      resourceVersion: '123456',
      generation: 1,
      labels: { ...o.metadata.labels, app: o.metadata.name, 'app.kubernetes.io/part-of': 'shop' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': applied },
      managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': {}, 'f:spec': {} } }],
    },
  };
  if (o.endpoints) out.endpoints = o.endpoints.map((e) => ({ ...e, zone: 'zone-a', hints: { forZones: [{ name: 'zone-a' }] } }));
  return out;
};
const cacheSize = (shape) => {
  const before = live('none');
  const kept = [];
  for (let i = 0; i < N; i++) {
    kept.push(shape.services(JSON.parse(JSON.stringify(clutter(service(i))))));
    kept.push(shape.endpointslices(JSON.parse(JSON.stringify(clutter(slice(i, initialEndpoints(10)))))));
  }
  const size = live('none') - before;
  kept.length = 0;
  return size;
};
const whole = cacheSize({ services: compactObject, endpointslices: compactObject });
const projected = cacheSize(desiredStateTransforms);
console.log(`the same objects as an API server sends them (kubectl last-applied, labels, hints): cached whole ${f(whole)}, projected ${f(projected)}`);
