// Scale-up by one backend (issue 13, item 10): the operations and time the director spends when
// a service of N backends gets one more, whose address is higher than the others' (the common
// case: IPAM hands out a node's pod range in ascending order). "before" is the order the
// director held until now (ascending, as the desired-state builder hands it over): the new
// backend belongs at the tail, so every destination in front of it is deleted and re-added
// (each add/delete rebuilds the service's whole mh table in the kernel). "after" is the
// director order (order.ts: descending): one add at the head.
// Plan time is measured here (median of repeated runs); with IPVS present (run through the lab:
// `node ../testkit/dist/cli/lab.js node bench/scale-up.bench.mjs`) the same ops are applied to
// real IPVS in a fresh network namespace and timed too (TCG-emulated VM: compare ratios).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { IpvsClient, ServiceFlags } from '@balanced/ipvs';
import { canonicalCompare } from '@balanced/k8s';
import { applyToModel, dumpModel, inDirectorOrder, plan } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '../../..');
const SIZES = [10, 100, 1000];
const REPEAT = 21;
const ctx = { owns: () => true, now: 0, drainingSince: new Map(), defaultDrainSeconds: 30 };
const address = (n) => `10.244.${n >> 8}.${n & 255}`;

function service(vip, count) {
  const destinations = Array.from({ length: count }, (_, i) => ({ address: address(i + 1), port: 80, forwarding: 'tunnel', weight: 1, lastWeight: 1 })).sort(canonicalCompare);
  return { spec: { key: { protocol: 'tcp', address: vip, port: 80 }, scheduler: 'mh', flags: ServiceFlags.MH_FALLBACK }, destinations, drainSeconds: 30 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Ops and median plan time of the scale-up, with the director holding `order` (identity = old ascending). */
function scaleUp(count, order) {
  const before = order(service('10.96.0.1', count));
  const after = order(service('10.96.0.1', count + 1));
  const held = dumpModel(applyToModel([], plan([before], [], ctx).ops));
  const times = [];
  let ops = [];
  for (let r = 0; r < REPEAT; r++) {
    const t = performance.now();
    ops = plan([after], held, ctx).ops;
    times.push(performance.now() - t);
  }
  return { before, after, ops, planMs: median(times) };
}

const kernel = existsSync('/proc/net/ip_vs');
let client;
if (kernel) {
  spawnSync('ip', ['netns', 'del', 'scaleup']);
  execFileSync('ip', ['netns', 'add', 'scaleup']);
  execFileSync('ip', ['-n', 'scaleup', 'link', 'set', 'lo', 'up']);
  client = await IpvsClient.open({ netns: '/run/netns/scaleup' });
}

/** Program `before` on a fresh VIP, then time the one batch of scale-up ops. */
async function kernelMs(vip, s) {
  const retarget = (o) => ('key' in o.service ? { ...o, service: { ...o.service, key: { ...o.service.key, address: vip } } } : { ...o, service: { ...o.service, address: vip } });
  const setup = plan([s.before], [], ctx).ops.map(retarget);
  for (let at = 0; at < setup.length; at += 500) {
    const r = await client.apply(setup.slice(at, at + 500));
    if (r.some((x) => !x.ok)) throw new Error('setup failed');
  }
  const t = performance.now();
  const r = await client.apply(s.ops.map(retarget));
  const ms = performance.now() - t;
  if (r.some((x) => !x.ok)) throw new Error(`scale-up failed: ${r.find((x) => !x.ok).error.message}`);
  return ms;
}

const rows = [];
let vip = 1;
for (const backends of SIZES) {
  const old = scaleUp(backends, (s) => s);
  const now = scaleUp(backends, inDirectorOrder);
  const row = { backends, opsBefore: old.ops.length, opsAfter: now.ops.length, planMsBefore: +old.planMs.toFixed(3), planMsAfter: +now.planMs.toFixed(3) };
  if (kernel) {
    row.kernelMsBefore = +(await kernelMs(`10.96.1.${vip++}`, old)).toFixed(2);
    row.kernelMsAfter = +(await kernelMs(`10.96.1.${vip++}`, now)).toFixed(2);
  }
  rows.push(row);
  console.log(JSON.stringify(row));
}
client?.close();
if (kernel) spawnSync('ip', ['netns', 'del', 'scaleup']);

const result = {
  bench: 'ipvs-controller scale-up by one backend (new backend has the highest address)',
  node: process.version,
  kernel: kernel ? `real IPVS in the lab VM (${execFileSync('uname', ['-r']).toString().trim()}, TCG-emulated: compare ratios)` : 'none (plan only; run through the lab for kernel times)',
  planRepeats: REPEAT,
  goal: 'opsAfter <= 2 for every size',
  rows,
};
mkdirSync(join(repo, 'bench/results'), { recursive: true });
writeFileSync(join(repo, 'bench/results/scale-up.json'), JSON.stringify(result, null, 2) + '\n');
