// balanced demo: the whole system from its real binaries, in the lab VM (`npm run demo`).
// Test API server; vip-allocator; two directors (ipvs-controller + vip-announcer + BIRD)
// behind a BGP router with ECMP; a node with the endpoint-controller and three backend pods;
// the cgroup-resolver for a client pod and a node-local pod. One LoadBalancer Service, then six
// screens: its VIP, the directors' tables, traffic and shares, a director failing, a pod
// draining, east-west (the Service through the resolver, a LocalRedirectPolicy and its fallback).
// Every claim is checked: exit 0 only when all held, 1 otherwise (2: not in the lab VM).
// Modules under example/demo/, one concern each.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IN_VM_ENV, TestApiServer, createDsrLab, removeTestCgroup, removeTestPinRoot, runChecked } from '@balanced/testkit';
import { allocateVip } from './demo/allocation.mjs';
import { Checks } from './demo/checks.mjs';
import { VIPPOOL_CRD, policyCrds } from './demo/cluster.mjs';
import { ALLOCATOR_PORT, startAllocator } from './demo/components.mjs';
import { bringUpDirectors, showDirectorTables } from './demo/directors.mjs';
import { showEastWest, startEastWest } from './demo/eastwest.mjs';
import { Processes } from './demo/processes.mjs';
import { writeReport } from './demo/report.mjs';
import { progress } from './demo/screens.mjs';
import { showDrain } from './demo/drain.mjs';
import { showFailover } from './demo/failover.mjs';
import { showTraffic } from './demo/traffic.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = dirname(here);
const PORT = 80;

/** `--report FILE` (the only option): also write the run as a static HTML page. */
function reportFile(argv) {
  if (argv.length === 0) return undefined;
  if (argv.length === 2 && argv[0] === '--report' && argv[1] !== '') return argv[1];
  console.error('usage: node example/demo.mjs [--report report.html]   (in the lab VM: npm run demo -- --report report.html)');
  process.exit(2);
}
const report = reportFile(process.argv.slice(2));

if (process.env[IN_VM_ENV] !== '1' || !existsSync('/proc/net/ip_vs')) {
  console.error('The demo runs inside the lab VM (IPVS, IPIP, BIRD, BPF): npm run demo');
  process.exit(2);
}

/** The cgroup v2 mount; the lab VM mounts none of its own, so mount one where the kernel provides a place. */
async function cgroup2Root() {
  const mounted = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[2] === 'cgroup2');
  if (mounted !== undefined) return mounted[1];
  await runChecked('mount', ['-t', 'cgroup2', 'none', '/sys/fs/cgroup']);
  return '/sys/fs/cgroup';
}

/** MemTotal and MemAvailable of the guest, for a failure report (a starved guest is slow, not broken). */
function memorySummary() {
  const info = readFileSync('/proc/meminfo', 'utf8');
  const mib = (key) => Math.round(Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(info)?.[1] ?? NaN) / 1024);
  return `${mib('MemAvailable')} MiB available of ${mib('MemTotal')} MiB`;
}

const checks = new Checks();
const workDir = mkdtempSync(join(tmpdir(), 'balanced-demo-'));
const procs = new Processes(workDir);
/** What the steps created outside the lab's own teardown: servers, cgroups (with their processes) and a bpffs pin root. */
const cleanup = { servers: [], cgroups: [], pinRoot: undefined };
let server;
let lab;
let podIpServers = [];
let crashed;
const started = Date.now();
/** What the report shows. */
const seen = { vip: undefined, shares: undefined, failover: undefined };
try {
  console.log(`balanced demo — Linux ${release()} in the lab VM; every component is its own process (packages/*/dist/main.js)`);
  const cgroupRoot = await cgroup2Root();
  server = await TestApiServer.start({ bookmarkIntervalMs: 500, customResources: [VIPPOOL_CRD, ...policyCrds(repo)] });
  const kubeconfig = join(workDir, 'kubeconfig');
  writeFileSync(kubeconfig, server.kubeconfigYaml(), { mode: 0o600 });
  progress('test API server up; vip-allocator');
  const allocator = startAllocator(procs, repo, kubeconfig);
  await procs.ready(allocator, `http://127.0.0.1:${ALLOCATOR_PORT}/healthz`);
  const vip = await allocateVip(server, here, PORT, checks);
  seen.vip = vip;

  progress('lab: namespaces, veths, router BIRD, client');
  lab = await createDsrLab({ name: 'demo', vip, port: PORT, steps: { programDirectors: false, announceVip: false, configurePods: false, startServers: false } });
  const ctx = { server, procs, repo, kubeconfig, lab, workDir, cgroupRoot, cleanup };
  const eastWest = await startEastWest(ctx);
  const up = await bringUpDirectors(ctx);
  podIpServers = up.podIpServers;
  await showDirectorTables(lab, checks, up.upMs);
  seen.shares = (await showTraffic(lab, checks)).shares;
  await showDrain(server, lab, checks);
  seen.failover = await showFailover(lab, checks);
  await showEastWest(ctx, eastWest, checks);
} catch (e) {
  crashed = e;
} finally {
  await procs.stopAll();
  for (const s of [...podIpServers, ...cleanup.servers]) await s.stop().catch(() => undefined);
  for (const cgroup of cleanup.cgroups) await removeTestCgroup(cgroup, dirname(cgroup)).catch((e) => console.error(`cleanup: ${e.message}`));
  if (cleanup.pinRoot !== undefined) await removeTestPinRoot(cleanup.pinRoot).catch((e) => console.error(`cleanup: ${e.message}`));
  await lab?.dispose().catch((e) => console.error(`cleanup: ${e.message}`));
  await server?.stop();
}

console.log(`\n${'='.repeat(100)}`);
if (report !== undefined) {
  const pods = lab?.plan.pods.map((p) => p.name) ?? [];
  const results = crashed === undefined ? checks.results : [...checks.results, { name: 'the demo ran to the end', ok: false, detail: crashed instanceof Error ? crashed.message : String(crashed) }];
  try {
    writeReport(report, { vip: seen.vip, kernel: release(), shares: seen.shares, pods, failover: seen.failover, checks: results });
    console.log(` report: ${report}`);
  } catch (e) {
    console.error(`could not write the report ${report}: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  }
}
if (crashed !== undefined) {
  console.error(`DEMO FAILED: ${crashed instanceof Error ? crashed.stack : String(crashed)}`);
  for (const p of procs.running) console.error(`\n--- ${p.name} (last lines of ${p.log}) ---\n${procs.tail(p)}`);
  console.error(`\nguest memory: ${memorySummary()}`);
  process.exit(1);
}
rmSync(workDir, { recursive: true, force: true });
const failed = checks.failed;
if (failed.length > 0) {
  console.error(`DEMO FAILED: ${failed.length} of ${checks.results.length} checks did not hold:\n${failed.map((f) => `  ✘ ${f.name}${f.detail ? ` — ${f.detail}` : ''}`).join('\n')}`);
  process.exit(1);
}
console.log(` all ${checks.results.length} checks held, ${((Date.now() - started) / 1000).toFixed(0)} s`);
