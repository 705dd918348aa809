// Host bench of the director controller (npm run bench -w @balanced/ipvs-controller, first
// half): the real pipeline — test API server (own process, loopback) → client-node informers
// → DesiredIndex → Controller → Reconciler → IpvsClient — with the netlink transport replaced
// by a recorder (see controller-run.mjs). Per scale, in a fresh process: initial sync of N
// Services × 10 endpoints (time from informers synced to the first pass's ops recorded, ops,
// RSS), then single-EndpointSlice changes through the REST API (time from the write call to
// the resulting ops at the recorder). Writes bench/results/ipvs-controller.json and the op
// log the VM half (controller-vm.bench.mjs) replays into real IPVS.
//
// Knobs (env): BALANCED_BENCH_SCALES (default 1000,2000,5000,10000),
// BALANCED_BENCH_CHANGES (1000 at the largest scale; 200 at the others),
// BALANCED_BENCH_CHANGE_BUDGET_S (300: a scale stops its changes after this long and says so),
// BALANCED_BENCH_PROFILE_CHANGES (50: extra changes under the CPU profiler, not timed).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateOpLog } from './oplog.mjs';
import { DEFAULT_HEAP_GROWING_PERCENT, DIRECTOR_NODE_OPTIONS } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '../../..');
const scales = (process.env.BALANCED_BENCH_SCALES ?? '1000,2000,5000,10000').split(',').map(Number);
const top = Math.max(...scales);
const topChanges = Number(process.env.BALANCED_BENCH_CHANGES ?? 1000);
const budgetS = Number(process.env.BALANCED_BENCH_CHANGE_BUDGET_S ?? 300);
const profileChanges = process.env.BALANCED_BENCH_PROFILE_CHANGES ?? '50';
const SYNC_LIMIT_MS = 5 * 60_000;
const GOALS = { p99Ms: 50, rssMb: 300 };

// Every run uses the heap settings a director is deployed with: NODE_OPTIONS as in
// deploy/ipvs-controller.yaml, and the binary's --heap-growing-percent default (controller-run
// applies it). One more run at the largest scale shows V8's defaults, for comparison.
const directorNodeOptions = [process.env.NODE_OPTIONS, DIRECTOR_NODE_OPTIONS].filter(Boolean).join(' ');
const runs = [];
let skipped;
for (const n of scales) {
  const prev = runs.at(-1);
  if (prev && runs.length >= 2) {
    // Project this scale's initial sync from the growth measured so far; skip if > 5 min.
    const [a, b] = runs.slice(-2);
    const exponent = Math.log(b.initial.syncToOpsMs / a.initial.syncToOpsMs) / Math.log(b.services / a.services);
    const projected = b.initial.syncToOpsMs * (n / b.services) ** exponent;
    if (projected > SYNC_LIMIT_MS) {
      skipped = { services: n, projectedSyncMs: projected, exponent };
      console.log(`skipping ${n} services: initial sync projected at ${(projected / 1000).toFixed(0)} s (growth ~ N^${exponent.toFixed(2)})`);
      break;
    }
  }
  const changes = n === top ? topChanges : Math.min(200, topChanges);
  console.log(`\n== ${n} services x 10 endpoints: initial sync, then ${changes} EndpointSlice changes (budget ${budgetS} s) ...`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(here, 'controller-run.mjs'), String(n), String(changes)], {
    env: { ...process.env, NODE_OPTIONS: directorNodeOptions, BALANCED_BENCH_CHANGE_BUDGET_S: String(budgetS), BALANCED_BENCH_PROFILE_CHANGES: n === top ? profileChanges : '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) {
    console.error(`run at ${n} failed (exit ${r.status})`);
    process.exit(1);
  }
  const result = JSON.parse(r.stdout.toString().trim().split('\n').at(-1));
  runs.push(result);
  const c = result.changes;
  console.log(
    `   sync ${(result.initial.syncToOpsMs / 1000).toFixed(2)} s, ${result.initial.ops} ops, RSS ${result.initial.rssMb} MB; ` +
      `${c.count} changes: p50 ${c.latencyMs.p50?.toFixed(1)} ms, p99 ${c.latencyMs.p99?.toFixed(1)} ms, ${c.opsForTheService.mean?.toFixed(2)} ops/change`,
  );
}

// The same initial sync at the largest scale with V8's default heap settings (no changes).
console.log(`\n== ${top} services again, initial sync only, with V8's default heap settings ...`);
const untuned = spawnSync(process.execPath, ['--expose-gc', join(here, 'controller-run.mjs'), String(top), '0'], {
  env: { ...process.env, BALANCED_BENCH_V8_DEFAULTS: '1', BALANCED_BENCH_PROFILE_CHANGES: '0' },
  stdio: ['ignore', 'pipe', 'inherit'],
  maxBuffer: 1 << 28,
});
if (untuned.status !== 0) {
  console.error(`the run with V8's defaults failed (exit ${untuned.status})`);
  process.exit(1);
}
const withV8Defaults = (({ initial, maxRssMb }) => ({
  services: top,
  syncToOpsMs: initial.syncToOpsMs,
  rssMb: initial.rssMb,
  maxRssMb,
  heapTotalMb: initial.heapTotalMb,
  liveHeapMb: initial.afterGc?.heapUsedMb,
}))(JSON.parse(untuned.stdout.toString().trim().split('\n').at(-1)));

// The op log for the VM half: the VM has 1 GiB and each mh service holds a 4093-slot table
// (32 KiB) per namespace, so two namespaces of 10,000 services do not fit (OOM, measured);
// it replays BALANCED_BENCH_VM_SERVICES (5000) services and the full change set. Check the
// log against what the live run at that scale saw.
const last = runs.at(-1);
const vmServices = Math.min(last.services, Number(process.env.BALANCED_BENCH_VM_SERVICES ?? 5000));
const vmRun = runs.find((r) => r.services === vmServices) ?? last;
const log = generateOpLog(vmServices, last.destinationsPerService, topChanges);
const live = vmRun.changes.opNames;
const opLogMatchesLive = live.every((ops, i) => ops === (log.perChange[i] ?? []).join(','));
const logPath = join(here, '.out', `oplog.json`);
mkdirSync(dirname(logPath), { recursive: true });
writeFileSync(logPath, JSON.stringify({ services: log.services, destinationsPerService: log.destinationsPerService, changes: log.changes, batches: log.batches }));

const f = (x, d = 1) => (x === undefined ? '—' : x.toFixed(d));
console.log(`\nipvs-controller on the host (recorder transport; API server in its own process; Node ${process.version})`);
console.log(`  heap settings: NODE_OPTIONS=${DIRECTOR_NODE_OPTIONS}, --heap-growing-percent=${DEFAULT_HEAP_GROWING_PERCENT} (as deployed)`);
const header = ['services', 'sync s', 'ops', 'RSS MB', 'peak MB', 'live MB', 'RSS MB end', 'changes', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'ops/chg', 'full reads'];
const rows = runs.map((r) => [
  r.services,
  f(r.initial.syncToOpsMs / 1000, 2),
  r.initial.ops,
  r.initial.rssMb,
  r.maxRssMb,
  r.initial.afterGc?.heapUsedMb ?? '—',
  r.rssEndMb,
  `${r.changes.count}/${r.changes.requested}`,
  f(r.changes.latencyMs.p50),
  f(r.changes.latencyMs.p95),
  f(r.changes.latencyMs.p99),
  f(r.changes.latencyMs.max),
  f(r.changes.opsForTheService.mean, 2),
  `${r.changes.fullReadPasses}/${r.changes.passes}`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
const line = (cells) => '  ' + cells.map((c, i) => String(c).padStart(widths[i])).join('  ');
console.log(line(header));
for (const row of rows) console.log(line(row));
console.log(
  `  ${withV8Defaults.services} with V8's default heap settings: sync ${f(withV8Defaults.syncToOpsMs / 1000, 2)} s, RSS ${withV8Defaults.rssMb} MB ` +
    `(peak ${withV8Defaults.maxRssMb}, heap committed ${withV8Defaults.heapTotalMb}, live ${withV8Defaults.liveHeapMb})`,
);
if (skipped) console.log(`  ${skipped.services}: skipped, initial sync projected ${(skipped.projectedSyncMs / 1000).toFixed(0)} s (> 5 min)`);

console.log(`\n  at ${last.services} services, where a change's time goes (p50 / p99 ms):`);
for (const [read, v] of Object.entries(last.changes.byRead)) {
  if (!v.n) continue;
  console.log(`    ${read.padEnd(6)} read (${v.n} changes): total ${f(v.p50)} / ${f(v.p99)}; desired ${f(v.desiredMs.p50)} / ${f(v.desiredMs.p99)}; kernel dump+decode ${f(v.dumpMs.p50)} / ${f(v.dumpMs.p99)}; apply ${f(v.applyMs.p50, 2)} / ${f(v.applyMs.p99, 2)}`);
}
console.log(`    write call ${f(last.changes.writeMs.p50)} / ${f(last.changes.writeMs.p99)}; watch event ${f(last.changes.watchEventMs.p50)} / ${f(last.changes.watchEventMs.p99)}; pass start ${f(last.changes.passStartMs.p50)} / ${f(last.changes.passStartMs.p99)} (after the write call)`);
for (const [kind, v] of Object.entries(last.changes.byKind)) {
  console.log(`    ${kind.padEnd(10)} ${String(v.n).padStart(4)} changes: p50 ${f(v.p50)} p99 ${f(v.p99)} ms; ops for the service mean ${f(v.opsPerChange.mean, 2)} max ${v.opsPerChange.max}; full reads ${v.fullReads}`);
}
const b = last.initial.breakdown;
console.log(`  initial pass: desired ${f(b.desiredMs, 0)} ms, dump ${f(b.dumpMs, 0)} ms, encode+record ${f(b.applyEncodeMs, 0)} ms, plan + view update ${f(b.planAndViewMs, 0)} ms (harness model ${f(b.harnessModelMs, 0)} ms, excluded)`);
if (last.profile) {
  console.log(`  CPU profile of ${profileChanges} more changes (self time, top 10):`);
  for (const t of last.profile.topSelf.slice(0, 10)) console.log(`    ${String(t.pct).padStart(5)}%  ${t.name}`);
}
if (last.initialProfile) {
  console.log(`  CPU profile of the initial pass (self time, top 6):`);
  for (const t of last.initialProfile.topSelf.slice(0, 6)) console.log(`    ${String(t.pct).padStart(5)}%  ${t.name}`);
}

const goals = {
  p99Under50ms: { goal: `p99 < ${GOALS.p99Ms} ms at ${last.services} services`, measured: last.changes.latencyMs.p99, met: (last.changes.latencyMs.p99 ?? Infinity) < GOALS.p99Ms },
  opsProportionalToChange: {
    goal: 'ops per change proportional to the change, not to the cluster',
    measured: runs.map((r) => ({ services: r.services, meanOpsForTheService: r.changes.opsForTheService.mean, maxOpsForTheService: r.changes.opsForTheService.max, opsPerChangeAllPasses: r.changes.opsPerChangeAllPasses })),
    // Flat in the cluster's size: the mean at the largest scale within 25% of the smallest's, and
    // no change costs more than rebuilding its own service (a service grows a few endpoints
    // past its initial size during the run: rebuilding all of it is 2 x its destinations + 1).
    met:
      runs.at(-1).changes.opsPerChangeAllPasses <= 1.25 * runs[0].changes.opsPerChangeAllPasses &&
      runs.every((r) => (r.changes.opsForTheService.max ?? 0) <= 3 * r.destinationsPerService),
  },
  rssUnder300MB: {
    goal: `RSS < ${GOALS.rssMb} MB after the initial sync at ${last.services} services (heap settings as deployed)`,
    measured: last.initial.rssMb,
    met: last.initial.rssMb < GOALS.rssMb,
  },
};
console.log('\n  goals:');
for (const g of Object.values(goals)) console.log(`    ${g.met ? 'MET   ' : 'MISSED'} ${g.goal}: ${typeof g.measured === 'number' ? f(g.measured) : JSON.stringify(g.measured.map((m) => [m.services, +f(m.meanOpsForTheService, 2), m.maxOpsForTheService]))}`);
console.log(`  op log for the VM (${vmServices} services, ${topChanges} changes) matches the ops seen live for all ${live.length} changes at ${vmRun.services}: ${opLogMatchesLive}\n`);

const result = {
  bench: 'ipvs-controller-host',
  when: new Date().toISOString(),
  environment: `host, Node ${process.version}; netlink transport replaced by a recorder (requests encoded and ACKed; dumps answered with real reply messages from a model of the table); API server in a separate process on 127.0.0.1`,
  heapSettings: { nodeOptions: DIRECTOR_NODE_OPTIONS, heapGrowingPercent: DEFAULT_HEAP_GROWING_PERCENT },
  withV8Defaults,
  scales: runs.map(({ changes: { opNames: _o, ...changes }, ...r }) => ({ ...r, changes })),
  skipped,
  goals,
  opLog: { path: 'packages/ipvs-controller/bench/.out/oplog.json', services: log.services, batches: log.batches.length, operations: log.batches.reduce((n, x) => n + x.ops.length, 0), changes: log.changes, matchesLiveChanges: live.length, matchesLiveAt: vmRun.services, matchesLive: opLogMatchesLive },
};
mkdirSync(join(repo, 'bench/results'), { recursive: true });
writeFileSync(join(repo, 'bench/results/ipvs-controller.json'), JSON.stringify(result, null, 2) + '\n');
if (!opLogMatchesLive || runs.some((r) => r.modelErrorCount > 0 || r.finalMismatches > 0 || r.changes.timedOut > 0)) {
  console.error('bench: the controller did not converge correctly (see modelErrors / finalMismatches / timedOut)');
  process.exit(1);
}
