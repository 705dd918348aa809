// One host run of the controller bench at one scale (controller.bench.mjs drives it):
//   node bench/controller-run.mjs <services> <changes> [opLogPath]
// Prints one JSON line with the figures. The real pipeline: TestApiServer (a child process,
// loopback) → client-node informers (createClusterCache) → DesiredIndex → Controller →
// Reconciler → ipvsKernel(IpvsClient.over(recorder)).
//
// The recorder is a netlink Transport standing in for the kernel:
// - nlctrl GETFAMILY "IPVS" is answered with a reply built by the netlink codec;
// - every IPVS change request is encoded as a real netlink message (bytes counted) and ACKed;
// - GET_SERVICE / GET_DEST dumps are answered from a model of the kernel table: real reply
//   messages (encodeService / encodeDestination; no stats nests, no connection counts), so
//   IpvsClient.dump() decodes them as it would the kernel's. The model is advanced with
//   applyToModel over each batch the client sent (per service, so the harness stays O(ops)),
//   after the recorder ACKed it. Reply messages are cached per service, so serving a dump is
//   nearly free: what a full read costs here is the controller's decoding and planning, not
//   the kernel's or the socket's (10,000 GET_DEST round trips on a real socket cost more).
import { spawn } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { Session } from 'node:inspector/promises';
import { DiscoveryV1Api } from '@kubernetes/client-node';
import { IpvsClient, IpvsConstants as C, decodeService, encodeDestination, encodeService, serviceKeyString } from '@balanced/ipvs';
import {
  AttributeEncoder,
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_MAXATTR,
  CTRL_ATTR_VERSION,
  Errno,
  GENL_ID_CTRL,
  NetlinkError,
  NLM_F_DUMP,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  encodeGeneric,
  encodeMessage,
} from '@balanced/netlink';
import { createClusterCache, desiredStateTransforms } from '@balanced/k8s';
import { testKubeConfig } from '@balanced/testkit';
import { Controller, DEFAULT_HEAP_GROWING_PERCENT, DesiredIndex, Reconciler, applyToModel, cidrOwnership, desiredSource, ipvsKernel, limitHeapGrowth, serviceOwnership } from '../dist/index.js';
import { NAMESPACE, VIP_CIDR, changes as makeChanges, sliceName } from './workload.mjs';

// The heap settings a director runs with (@balanced/k8s heap-tuning.ts; the parent sets NODE_OPTIONS),
// unless BALANCED_BENCH_V8_DEFAULTS asks for V8's own.
const v8Defaults = Boolean(process.env.BALANCED_BENCH_V8_DEFAULTS);
if (!v8Defaults) limitHeapGrowth(DEFAULT_HEAP_GROWING_PERCENT);
const SERVICES = Number(process.argv[2]);
const CHANGES = Number(process.argv[3]);
const OP_LOG = process.argv[4];
const DESTS = Number(process.env.BALANCED_BENCH_DESTS ?? 10);
const PROFILE_CHANGES = Number(process.env.BALANCED_BENCH_PROFILE_CHANGES ?? 0);
const CHANGE_TIMEOUT_MS = 30_000;
const now = () => performance.now();

// ---- the API server, in its own process ------------------------------------------------
const child = spawn(process.execPath, [new URL('./apiserver-child.mjs', import.meta.url).pathname, String(SERVICES), String(DESTS)], { stdio: ['pipe', 'pipe', 'inherit'] });
const { url, populateMs } = JSON.parse(await new Promise((resolve, reject) => {
  child.once('exit', (code) => reject(new Error(`api server exited ${code}`)));
  createInterface({ input: child.stdout }).once('line', resolve);
}));
child.removeAllListeners('exit');
const kc = testKubeConfig(url);

// ---- the recorder transport and the kernel model ---------------------------------------
const FAMILY_ID = 0x24;
const FAMILY_REPLY = {
  header: { type: GENL_ID_CTRL, flags: 0, sequence: 0, portId: 0 },
  data: encodeGeneric(
    { command: 1 /* CTRL_CMD_NEWFAMILY */, version: 2 },
    new AttributeEncoder().u16(CTRL_ATTR_FAMILY_ID, FAMILY_ID).string(CTRL_ATTR_FAMILY_NAME, 'IPVS').u32(CTRL_ATTR_VERSION, 1).u32(CTRL_ATTR_MAXATTR, 17).encode(),
  ),
};
const reply = (command, attributes) => ({ header: { type: FAMILY_ID, flags: NLM_F_MULTI, sequence: 0, portId: 0 }, data: encodeGeneric({ command, version: C.IPVS_GENL_VERSION }, attributes) });

/** key string → { model: ModelService, svcMsg?, destMsgs? } in kernel dump order (new services last). */
const table = new Map();
const recorder = {
  requests: 0,
  bytes: 0,
  dumps: 0,
  reads: 0,
  async execute(requests) {
    return requests.map((r) => {
      if (r.type === GENL_ID_CTRL) return { ok: true, messages: [FAMILY_REPLY] };
      const command = r.data[0];
      if (r.flags !== undefined && (r.flags & NLM_F_DUMP) !== 0) {
        this.dumps += 1;
        if (command === C.IPVS_CMD_GET_SERVICE) {
          return { ok: true, messages: [...table.values()].map((e) => (e.svcMsg ??= reply(C.IPVS_CMD_NEW_SERVICE, encodeService(e.model.service)))) };
        }
        if (command === C.IPVS_CMD_GET_DEST) {
          const e = table.get(serviceKeyString(decodeService({ header: { type: r.type, flags: 0, sequence: 0, portId: 0 }, data: r.data }).key));
          if (!e) return { ok: true, messages: [] };
          return { ok: true, messages: (e.destMsgs ??= e.model.destinations.map((d) => reply(C.IPVS_CMD_NEW_DEST, encodeDestination(e.model.service.key, d)))) };
        }
      }
      if (command === C.IPVS_CMD_GET_SERVICE) {
        // One service (the reconciler re-reads a few before deleting): its reply, or ESRCH.
        this.reads += 1;
        const e = table.get(serviceKeyString(decodeService({ header: { type: r.type, flags: 0, sequence: 0, portId: 0 }, data: r.data }).key));
        if (!e) return { ok: false, error: new NetlinkError({ code: 'NETLINK_KERNEL_ERROR', op: 'GET_SERVICE', errno: Errno.ESRCH }) };
        return { ok: true, messages: [(e.svcMsg ??= reply(C.IPVS_CMD_NEW_SERVICE, encodeService(e.model.service)))] };
      }
      // A change: encode it as the connection would put it on the socket, and ACK it.
      this.requests += 1;
      this.bytes += encodeMessage({ type: r.type, flags: NLM_F_REQUEST | (r.flags ?? 0), sequence: this.requests, portId: 0 }, r.data).length;
      return { ok: true, messages: [] };
    });
  },
  close() {},
};

const opKey = (o) => ('key' in o.service ? o.service.key : o.service);
const modelErrors = [];
function advanceModel(ops) {
  const byService = new Map();
  for (const o of ops) {
    const k = serviceKeyString(opKey(o));
    let list = byService.get(k);
    if (!list) byService.set(k, (list = []));
    list.push(o);
  }
  for (const [k, list] of byService) {
    const had = table.get(k);
    let next;
    try {
      next = applyToModel(had ? [had.model] : [], list);
    } catch (e) {
      modelErrors.push(`${k}: ${e.message}`);
      continue;
    }
    if (list.some((o) => o.op === 'delete-service')) table.delete(k); // a re-added service goes last
    if (next.length === 0) table.delete(k);
    else table.set(k, { model: next[0] });
  }
}

// ---- the pipeline, instrumented -------------------------------------------------------
const client = await IpvsClient.over(recorder);
const base = ipvsKernel(client);
let passTiming = undefined; // filled during one reconcile call
let applyWaiter = undefined; // { vip, resolve }
const opLog = [];
let phase = 'initial';
const kernel = {
  async dump() {
    const t = now();
    const r = await base.dump();
    if (passTiming) passTiming.dumpMs += now() - t;
    return r;
  },
  async read(keys) {
    const t = now();
    const r = await base.read(keys);
    if (passTiming) passTiming.dumpMs += now() - t;
    return r;
  },
  async apply(ops) {
    const t = now();
    const results = await base.apply(ops);
    const t1 = now();
    if (!process.env.NO_MODEL) advanceModel(ops);
    if (passTiming) {
      passTiming.applyMs += t1 - t;
      passTiming.harnessMs += now() - t1;
    }
    if (OP_LOG) opLog.push({ phase, ops });
    if (applyWaiter) {
      const mine = ops.filter((o) => opKey(o).address === applyWaiter.vip);
      if (mine.length > 0) {
        const w = applyWaiter;
        applyWaiter = undefined;
        w.resolve({ at: t1, ops: mine.map((o) => o.op), batch: ops.length, pass: passTiming });
      }
    }
    return results;
  },
};

const ownsIp = cidrOwnership([VIP_CIDR]);
const cache = createClusterCache(kc, { kinds: ['services', 'endpointslices', 'pods'], relistIntervalMs: 0, transform: desiredStateTransforms }); // as app.ts
const reconciler = new Reconciler({ kernel, owns: serviceOwnership(ownsIp), defaultDrainSeconds: 30 });
const index = new DesiredIndex({ cluster: cache, ownsVip: ownsIp, defaultClass: false, defaultDrainSeconds: 30 });
let lastDesiredMs = 0;
const desired = () => {
  const t = now();
  const d = index.snapshot();
  lastDesiredMs = now() - t;
  return d;
};
const passes = [];
const realReconcile = reconciler.reconcile.bind(reconciler);
reconciler.reconcile = async (...args) => {
  passTiming = { startedAt: now(), desiredMs: lastDesiredMs, dumpMs: 0, applyMs: 0, harnessMs: 0 };
  const timing = passTiming;
  try {
    const report = await realReconcile(...args);
    timing.reconcileMs = now() - timing.startedAt;
    timing.read = report.read;
    timing.planned = report.planned;
    timing.ops = report.ops.length;
    timing.failed = report.failed.length;
    timing.pendingDrains = report.pendingDrains;
    passes.push(timing);
    return report;
  } finally {
    passTiming = undefined;
  }
};
let firstPass;
const firstPassDone = new Promise((resolve) => (firstPass = resolve));
const controller = new Controller({
  reconciler,
  desired,
  resyncMs: 3_600_000,
  debounceMs: 5,
  onPass: (report) => firstPass(report.failed.length), // not the report: a settled promise would keep its 110k ops alive, and the controller keeps none
  onError: (e) => console.error('pass failed:', e.message),
});

// ---- initial sync ----------------------------------------------------------------------
const tStart = now();
await cache.start();
const tSynced = now();
globalThis.gc?.();
const liveAfterList = process.memoryUsage();
if (process.env.HEAP_SNAPSHOT_LIST) (await import('node:v8')).writeHeapSnapshot(process.env.HEAP_SNAPSHOT_LIST);
let lastSliceEvent = 0;
cache.onChange((kind, change) => {
  index.observe(kind, change);
  if (kind === 'endpointslices') lastSliceEvent = now();
  controller.markDirty();
});
const initialProfiler = process.env.BALANCED_BENCH_PROFILE_INITIAL ? await startProfiler() : undefined;
controller.start();
const firstFailed = await firstPassDone;
const tFirst = now();
const first = passes[0];
const rssAfterSync = process.memoryUsage();
const initialProfile = initialProfiler ? summariseProfile(await initialProfiler.stop()) : undefined;
globalThis.gc?.();
const liveAfterSync = process.memoryUsage();
if (process.env.HEAP_SNAPSHOT) (await import('node:v8')).writeHeapSnapshot(process.env.HEAP_SNAPSHOT);
const initialRequests = recorder.requests;
const initialBytes = recorder.bytes;
if (firstFailed) throw new Error(`initial pass: ${firstFailed} failed`);

// ---- changes through the REST API ------------------------------------------------------
const discovery = kc.makeApiClient(DiscoveryV1Api);
const list = makeChanges(SERVICES, DESTS, CHANGES + PROFILE_CHANGES);
const samples = [];
const requestsBefore = recorder.requests;
const opsBefore = passes.reduce((n, p) => n + p.ops, 0);
phase = 'change';
async function runChange(c) {
  const got = new Promise((resolve) => (applyWaiter = { vip: c.vip, resolve }));
  const t0 = now();
  await discovery.replaceNamespacedEndpointSlice({ name: sliceName(c.service), namespace: NAMESPACE, body: c.body });
  const tWritten = now();
  let timer;
  const r = await Promise.race([got, new Promise((resolve) => (timer = setTimeout(() => resolve(undefined), CHANGE_TIMEOUT_MS)))]);
  clearTimeout(timer);
  if (!r) {
    applyWaiter = undefined;
    return { kind: c.kind, timedOut: true };
  }
  return {
    kind: c.kind,
    ms: r.at - t0,
    writeMs: tWritten - t0,
    eventMs: lastSliceEvent >= t0 ? lastSliceEvent - t0 : undefined,
    ops: r.ops,
    batch: r.batch,
    pass: r.pass,
    passStartMs: r.pass ? r.pass.startedAt - t0 : undefined,
  };
}
const tChanges = now();
const BUDGET_MS = Number(process.env.BALANCED_BENCH_CHANGE_BUDGET_S ?? 0) * 1000;
for (const c of list.slice(0, CHANGES)) {
  samples.push(await runChange(c));
  if (BUDGET_MS > 0 && now() - tChanges > BUDGET_MS) break; // reported: count < requested
}
const changePhaseMs = now() - tChanges;
const passesInChangePhase = passes.length - 1;

// Let drains finish (poll after 1 s: weight-0 destinations without connections are deleted).
async function settle() {
  const until = now() + 5000;
  while (now() < until && (passes.at(-1)?.pendingDrains ?? 0) > 0) await new Promise((r) => setTimeout(r, 100));
}
await settle();
const opsDuringChanges = passes.reduce((n, p) => n + p.ops, 0) - opsBefore;
const requestsDuringChanges = recorder.requests - requestsBefore;
const rssEnd = process.memoryUsage();
globalThis.gc?.();
const liveEnd = process.memoryUsage();

// ---- optional: profile extra changes (not part of the latency figures) ----------------
let profile;
if (PROFILE_CHANGES > 0) {
  const profiler = await startProfiler();
  for (const c of list.slice(samples.length, samples.length + PROFILE_CHANGES)) await runChange(c);
  const p = await profiler.stop();
  profile = summariseProfile(p);
  if (OP_LOG) writeFileSync(OP_LOG.replace(/\.json$/, '.cpuprofile'), JSON.stringify(p));
}

// ---- check: the model holds exactly what a fresh director would program ----------------
await settle();
const want = desiredSource({ cluster: cache, ownsVip: ownsIp, defaultClass: false, defaultDrainSeconds: 30 })();
let mismatches = 0;
for (const d of want) {
  const have = table.get(serviceKeyString(d.spec.key))?.model.destinations ?? [];
  const a = have.map((x) => `${x.address}/${x.weight}`).join(',');
  const b = d.destinations.map((x) => `${x.address}/${x.weight}`).join(',');
  if (a !== b) mismatches += 1;
}
if (table.size !== want.length) mismatches += Math.abs(table.size - want.length);

await controller.stop();
await cache.stop();
child.stdin.end();

if (OP_LOG) {
  mkdirSync(dirname(OP_LOG), { recursive: true });
  writeFileSync(OP_LOG, JSON.stringify({ services: SERVICES, destinationsPerService: DESTS, batches: opLog }));
}

const ok = samples.filter((s) => !s.timedOut);
for (const s of ok) {
  // The pass's figures are complete now (it was still running when the sample was taken).
  Object.assign(s, { read: s.pass?.read ?? 'unknown', desiredMs: s.pass?.desiredMs, dumpMs: s.pass?.dumpMs, applyMs: s.pass?.applyMs, reconcileMs: s.pass?.reconcileMs });
  delete s.pass;
}
if (process.env.BALANCED_BENCH_SAMPLES) for (const s of ok) console.error(JSON.stringify(s));
const pct = (xs, q) => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};
const dist = (xs) => ({ n: xs.length, p50: pct(xs, 0.5), p95: pct(xs, 0.95), p99: pct(xs, 0.99), max: xs.length ? Math.max(...xs) : undefined, mean: xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined });
const byKind = {};
for (const kind of ['flip-ready', 'remove', 'add']) {
  const s = ok.filter((x) => x.kind === kind);
  byKind[kind] = { ...dist(s.map((x) => x.ms)), opsPerChange: dist(s.map((x) => x.ops.length)), fullReads: s.filter((x) => x.read === 'full').length };
}
const byRead = {};
for (const read of ['cached', 'partial', 'full']) {
  const s = ok.filter((x) => x.read === read);
  byRead[read] = { ...dist(s.map((x) => x.ms)), desiredMs: dist(s.map((x) => x.desiredMs)), dumpMs: dist(s.map((x) => x.dumpMs)), applyMs: dist(s.map((x) => x.applyMs)) };
}
const mb = (b) => Math.round(b / 1048576);
console.log(
  JSON.stringify({
    services: SERVICES,
    destinationsPerService: DESTS,
    apiServerPopulateMs: populateMs,
    initial: {
      listMs: tSynced - tStart,
      syncToOpsMs: tFirst - tSynced,
      ops: first.ops,
      netlinkRequests: initialRequests,
      netlinkBytes: initialBytes,
      breakdown: { desiredMs: first.desiredMs, reconcileMs: first.reconcileMs, dumpMs: first.dumpMs, applyEncodeMs: first.applyMs, planAndViewMs: first.reconcileMs - first.dumpMs - first.applyMs - first.harnessMs, harnessModelMs: first.harnessMs },
      afterListGc: { rssMb: mb(liveAfterList.rss), heapUsedMb: mb(liveAfterList.heapUsed) },
      rssMb: mb(rssAfterSync.rss),
      heapUsedMb: mb(rssAfterSync.heapUsed),
      heapTotalMb: mb(rssAfterSync.heapTotal),
      externalMb: mb(rssAfterSync.external),
      afterGc: globalThis.gc ? { rssMb: mb(liveAfterSync.rss), heapUsedMb: mb(liveAfterSync.heapUsed) } : undefined,
    },
    changes: {
      requested: CHANGES,
      count: samples.length,
      opNames: samples.map((x) => (x.ops ?? []).join(',')),
      timedOut: samples.length - ok.length,
      phaseMs: changePhaseMs,
      latencyMs: dist(ok.map((x) => x.ms)),
      writeMs: dist(ok.map((x) => x.writeMs)),
      watchEventMs: dist(ok.map((x) => x.eventMs).filter((x) => x !== undefined)),
      passStartMs: dist(ok.map((x) => x.passStartMs).filter((x) => x !== undefined)),
      opsForTheService: dist(ok.map((x) => x.ops.length)),
      opsPerChangeAllPasses: opsDuringChanges / samples.length,
      netlinkRequestsPerChange: requestsDuringChanges / samples.length,
      passes: passesInChangePhase,
      fullReadPasses: passes.slice(1).filter((p) => p.read === 'full').length,
      byKind,
      byRead,
    },
    rssEndMb: mb(rssEnd.rss),
    heapUsedEndMb: mb(rssEnd.heapUsed),
    endAfterGc: globalThis.gc ? { rssMb: mb(liveEnd.rss), heapUsedMb: mb(liveEnd.heapUsed) } : undefined,
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    modelErrors: modelErrors.slice(0, 5),
    modelErrorCount: modelErrors.length,
    finalMismatches: mismatches,
    profile,
    initialProfile,
  }),
);
process.exit(0);

async function startProfiler() {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      return profile;
    },
  };
}

function summariseProfile(p) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const dt = new Map();
  for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const self = new Map();
  let total = 0;
  for (const [id, us] of dt) {
    const n = byId.get(id);
    const cf = n.callFrame;
    const file = cf.url.replace(/^file:\/\//, '').replace(/^.*\/(packages|node_modules)\//, '$1/');
    const name = `${cf.functionName || '(anonymous)'} ${file}:${cf.lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + us);
    total += us;
  }
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([name, us]) => ({ name, ms: Math.round(us / 1000), pct: Math.round((1000 * us) / total) / 10 }));
  return { totalMs: Math.round(total / 1000), topSelf: top };
}
