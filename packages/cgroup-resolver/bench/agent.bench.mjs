// Bench of the resolver AGENT (npm run bench -w @balanced/cgroup-resolver, second half): the real
// binary as the image runs it (dist/bundle/main.mjs, the bundle of dist/main.js: informers → buildResolverState → planMaps → ResolverMaps.apply, socket
// terminator on) in its own process, attached to a cgroup and a pin root this bench creates, fed
// by the test API server in another process (loopback). Per scale (default 1,000 then 10,000
// Services × 10 endpoints, one Node):
//   sync     time from spawning the agent to the end of the pass that programmed everything (its
//            last 'programmed maps' log line: one per step of ~500 services; the maps are then checked: N frontends, N tables,
//            N × 10 backends), map operations and bpf() writes (its /metrics), RSS and peak RSS
//            of the agent (/proc/<pid>/status VmRSS, VmHWM) once it logged the full GC it runs
//            when the first pass has ended (~0.1 s later);
//   changes  single-EndpointSlice changes (flip one endpoint's ready, remove a ready one, add
//            one), each a PUT to the API server; timed from the start of the PUT to the moment
//            the pinned maps show that Service's new table (this process polls the frontend →
//            service id → inner map id, a few bpf() lookups every 0.25 ms once the PUT has
//            returned); each new table is then checked against the endpoints that are ready;
//   memory   kernel memory of every map after the sync (ResolverMaps.memory(): fdinfo memlock,
//            inner maps included).
// No traffic: nothing is ever dialled. Writes sync, changes, mapMemoryMb (the largest scale) and
// agentScales into bench/results/cgroup-resolver.json (merged: other keys are kept).
//
// Env: BENCH_AGENT_SCALES=1000,10000  BENCH_AGENT_ENDPOINTS=10
//      BENCH_AGENT_CHANGES=1000 (largest scale)  BENCH_AGENT_SMALL_CHANGES=200 (other scales)
//      BENCH_AGENT_RESYNC_S=5 (agent --resync-seconds; the DaemonSet's 60 s would fall outside the
//      changes: at 5 s the change latencies include the full re-reads, as a long-running agent's do)
//      BENCH_AGENT_NODE_OPTIONS (NODE_OPTIONS of the agent; default those of
//      deploy/cgroup-resolver.yaml's DaemonSet; '' for V8's defaults)
//      BENCH_AGENT_NODE_ARGS (node flags before the script, e.g. '--heap-prof' or '--import=./probe.mjs';
//      not --cpu-prof: its 1 kHz SIGPROF makes the BPF verifier give up with EAGAIN)
//      BENCH_AGENT_MAIN (the agent's entry; default dist/bundle/main.mjs, as the image runs it;
//      dist/main.js to compare the unbundled tree)
//      BENCH_AGENT_TERMINATE=0 (agent --no-terminate-sockets; default on, as deployed)
//      BENCH_AGENT_SAMPLES=1 (every change's figures on stderr)
//      BENCH_AGENT_SYNC_TIMEOUT_S=300 (how long the initial sync may take; the error then ends with the agent's log)
//      BENCH_AGENT_LOG_DIR (copy each agent's JSON log there, agent-<services>-<time>.log: e.g. its 'the pinned
//      maps differ' warnings, which a change that waits for the next resync shows as a max of seconds)
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createTestCgroup, createTestPinRoot, ensureBpffs, readYamlFile, removeTestCgroup, removeTestPinRoot, summarizeLatencies, testKubeconfigYaml } from '@balanced/testkit';
import { ResolverMaps } from '../dist/index.js';
import { MapProbe } from './agent-probe.mjs';
import { NAMESPACE, NODE_NAME, PORT, changes as makeChanges } from './agent-workload.mjs';

const here = dirname(fileURLToPath(import.meta.url));
/** NODE_OPTIONS of the deployed agent, as deploy/cgroup-resolver.yaml sets them. */
const DEPLOYED_NODE_OPTIONS = deployedNodeOptions(resolve(here, '../../../deploy/cgroup-resolver.yaml'));
const pkgRoot = resolve(here, '..');
const repoRoot = resolve(pkgRoot, '..', '..');
const resultsPath = join(repoRoot, 'bench', 'results', 'cgroup-resolver.json');
/** What the image runs (scripts/images/bundle.mjs; config.sh IMAGE_ENTRYPOINT). */
const MAIN = process.env.BENCH_AGENT_MAIN ?? join(pkgRoot, 'dist', 'bundle', 'main.mjs');

const envInt = (name, dflt) => (process.env[name] ? Number.parseInt(process.env[name], 10) : dflt);
const SCALES = (process.env.BENCH_AGENT_SCALES ?? '1000,10000').split(',').map(Number);
const TOP = Math.max(...SCALES);
const DESTS = envInt('BENCH_AGENT_ENDPOINTS', 10);
const TOP_CHANGES = envInt('BENCH_AGENT_CHANGES', 1000);
const SMALL_CHANGES = envInt('BENCH_AGENT_SMALL_CHANGES', 200);
const RESYNC_S = envInt('BENCH_AGENT_RESYNC_S', 5);
const TERMINATE = process.env.BENCH_AGENT_TERMINATE !== '0';
const SYNC_TIMEOUT_MS = envInt('BENCH_AGENT_SYNC_TIMEOUT_S', 300) * 1000;
const CHANGE_TIMEOUT_MS = 30_000;
const POLL_MS = 0.25;
const GOALS = { syncMs: 2000, rssMb: 250, p99Ms: 20, mapMemoryMb: 64 };
/** The agent's log line once its first pass has ended and its heap is collected (app.ts). */
const SETTLED_MSG = 'first pass ended: heap collected, its growth bounded';

if (process.getuid?.() !== 0) {
  console.error('agent bench: needs root (cgroups, BPF)');
  process.exit(1);
}

// ---- cleanup: LIFO, always (also on SIGINT/SIGTERM) ----
const cleanups = [];
const defer = (fn) => {
  cleanups.push(fn);
  return fn;
};
async function runCleanup(fn) {
  const i = cleanups.indexOf(fn);
  if (i >= 0) cleanups.splice(i, 1);
  try {
    await fn();
  } catch (e) {
    console.error(`cleanup: ${e.message}`);
  }
}
async function cleanupAll() {
  while (cleanups.length > 0) await runCleanup(cleanups.at(-1));
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.error(`${sig}: cleaning up`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const waitCell = new Int32Array(new SharedArrayBuffer(4));
/** Blocks this thread for `ms` (sub-millisecond; nothing else of ours is pending meanwhile). */
const pause = (ms) => Atomics.wait(waitCell, 0, 0, ms);
const round1 = (x) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);
const mb = (kb) => Math.round(kb / 1024);

/** NODE_OPTIONS of the DaemonSet's container in a manifest file. */
function deployedNodeOptions(path) {
  for (const o of readYamlFile(path)) {
    if (o.kind !== 'DaemonSet') continue;
    for (const c of o.spec?.template?.spec?.containers ?? []) {
      const env = (c.env ?? []).find((e) => e.name === 'NODE_OPTIONS');
      if (typeof env?.value === 'string') return env.value;
    }
  }
  throw new Error(`${path}: no DaemonSet container sets NODE_OPTIONS`);
}

function procStatus(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

/** CPU time a process has used (user + system, all threads), in ms: on a shared machine it moves less than wall time. */
function procCpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15 (clock ticks, 100 per second on Linux).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** Stops a child by its pid: SIGTERM, then SIGKILL after 10 s. */
async function stopChild(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

/** The test API server in its own process, populated with N Services and slices. */
async function startApiServer(n) {
  const child = spawn(process.execPath, [join(here, 'agent-apiserver.mjs'), String(n), String(DESTS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const stop = defer(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  });
  const line = await new Promise((res, rej) => {
    child.once('exit', (code) => rej(new Error(`API server exited ${code}`)));
    createInterface({ input: child.stdout }).once('line', res);
  });
  child.removeAllListeners('exit');
  const { url, populateMs } = JSON.parse(line);
  return { url, populateMs, pid: child.pid, stop };
}

/** The agent's JSON log lines so far (pino: time in ms since the epoch). */
function readLog(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out = [];
  for (const l of text.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l));
    } catch {
      // a line being written
    }
  }
  return out;
}

/** New JSON log lines of the agent since the last call (reads only what was appended). */
class LogTail {
  constructor(path) {
    this.fd = openSync(path, 'r');
    this.offset = 0;
    this.rest = '';
    this.buffer = Buffer.alloc(1 << 16);
  }
  read() {
    const out = [];
    for (;;) {
      const got = readSync(this.fd, this.buffer, 0, this.buffer.length, this.offset);
      if (got <= 0) break;
      this.offset += got;
      this.rest += this.buffer.toString('utf8', 0, got);
    }
    const lines = this.rest.split('\n');
    this.rest = lines.pop() ?? '';
    for (const l of lines) {
      if (!l.startsWith('{')) continue;
      try {
        out.push(JSON.parse(l));
      } catch {
        // not a log line
      }
    }
    return out;
  }
  close() {
    closeSync(this.fd);
  }
}

async function scrape(metricsPort) {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  const text = await res.text();
  const sum = (name, filter = () => true) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(name) && (l[name.length] === ' ' || l[name.length] === '{') && filter(l))
      .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return {
    ops: sum('balanced_resolver_map_operations_total'),
    opsFailed: sum('balanced_resolver_map_operations_total', (l) => !l.includes('result="ok"')),
    writes: sum('balanced_resolver_map_writes_total'),
    services: sum('balanced_resolver_services'),
    frontends: sum('balanced_resolver_frontends'),
    passes: sum('balanced_resolver_passes_total'),
  };
}

/** HTTP PUT of one EndpointSlice (keep-alive connection, as a client would hold). */
const http = new Agent({ keepAlive: true, maxSockets: 1 });
function putSlice(url, body) {
  const payload = JSON.stringify(body);
  const u = new URL(`/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices/${body.metadata.name}`, url);
  return new Promise((res, rej) => {
    const req = request(u, { method: 'PUT', agent: http, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: 'Bearer test' } }, (r) => {
      const parts = [];
      r.on('data', (d) => parts.push(d));
      r.on('end', () => (r.statusCode === 200 ? res() : rej(new Error(`PUT ${u.pathname}: HTTP ${r.statusCode} ${Buffer.concat(parts).toString().slice(0, 300)}`))));
    });
    req.on('error', rej);
    req.end(payload);
  });
}

async function runScale(n, changeCount) {
  console.error(`\n== ${n} Services × ${DESTS} endpoints: agent sync, then ${changeCount} EndpointSlice changes ==`);
  const api = await startApiServer(n);
  console.error(`  API server (pid ${api.pid}) populated in ${Math.round(api.populateMs)} ms`);
  const dir = mkdtempSync(join(tmpdir(), 'balanced-agent-bench-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, testKubeconfigYaml(api.url), { mode: 0o600 });
  await ensureBpffs();
  const cgroup = await createTestCgroup('balanced-agent-bench');
  defer(() => removeTestCgroup(cgroup));
  const pinRoot = await createTestPinRoot('balanced-agent-bench');
  defer(() => removeTestPinRoot(pinRoot)); // unpins the links: the programs detach
  const metricsPort = await freePort();
  const logPath = join(dir, 'agent.log');
  const logFd = openSync(logPath, 'w');
  const args = [
    ...(process.env.BENCH_AGENT_NODE_ARGS ?? '').split(' ').filter(Boolean),
    MAIN,
    '--kubeconfig', kubeconfig,
    '--node-name', NODE_NAME,
    '--cgroup', cgroup,
    '--pin-root', pinRoot,
    '--metrics-host', '127.0.0.1',
    '--metrics-port', String(metricsPort),
    '--resync-seconds', String(RESYNC_S),
    '--log-level', 'info',
    ...(TERMINATE ? [] : ['--no-terminate-sockets']),
  ];
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const nodeOptions = process.env.BENCH_AGENT_NODE_OPTIONS ?? DEPLOYED_NODE_OPTIONS;
  if (nodeOptions) env.NODE_OPTIONS = nodeOptions;
  const spawnedAt = Date.now();
  const agent = spawn(process.execPath, args, { stdio: ['ignore', logFd, logFd], env });
  closeSync(logFd);
  const stopAgent = defer(() => stopChild(agent));
  if (process.env.BENCH_AGENT_LOG_DIR) defer(() => writeFileSync(join(process.env.BENCH_AGENT_LOG_DIR, `agent-${n}-${Date.now()}.log`), readFileSync(logPath)));
  let exited;
  agent.once('exit', (code, signal) => (exited = `exit ${code ?? signal}`));

  // ---- initial sync: the first 'programmed maps' line, then the maps hold everything ----
  let probe;
  let maps;
  const closeMaps = defer(() => {
    probe?.close();
    maps?.close();
    probe = maps = undefined;
  });
  const deadline = Date.now() + SYNC_TIMEOUT_MS;
  let programmed;
  let lastFill;
  for (;;) {
    if (exited) throw new Error(`agent ${exited} before programming the maps: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`agent did not program ${n} services in ${SYNC_TIMEOUT_MS / 1000} s; fill ${JSON.stringify(lastFill)}; its log ends: ${readFileSync(logPath, 'utf8').slice(-3000)}`);
    const lines = readLog(logPath).filter((l) => l.msg === 'programmed maps');
    if (lines.length > 0) {
      maps ??= ResolverMaps.open(pinRoot);
      lastFill = maps.fill();
      // Filled, and the line of the pass's last chunk is written (the leftovers step logs only when it deletes).
      const tail = lines.at(-1);
      const lastChunkLogged = tail.step === undefined || tail.step >= tail.steps - 1;
      if (lastChunkLogged && lastFill.bd_frontends.entries === n && lastFill.bd_services.entries === n && lastFill.bd_backends.entries === n * DESTS) {
        programmed = lines;
        break;
      }
    }
    await sleep(lines.length > 0 ? 50 : 10);
  }
  // CPU then; RSS once the agent has collected its heap after the first pass (it logs that
  // right after; an agent that does not, RSS now).
  const cpuMs = procCpuMs(agent.pid);
  const settleDeadline = Date.now() + 5000;
  while (!readLog(logPath).some((l) => l.msg === SETTLED_MSG) && Date.now() < settleDeadline) await sleep(10);
  const status = procStatus(agent.pid);
  const log = readLog(logPath);
  const settled = log.find((l) => l.msg === SETTLED_MSG);
  const at = (msg) => log.find((l) => l.msg === msg)?.time;
  const last = programmed.at(-1);
  const sync = {
    services: n,
    endpointsPerService: DESTS,
    ms: last.time - spawnedAt,
    // A pass logs one line per step that wrote (chunks of services, then leftovers); a step line of a many-step pass carries step/steps.
    passes: programmed.filter((l) => l.step === undefined || l.step === 1).length,
    steps: programmed.length,
    ops: programmed.reduce((a, l) => a + l.ops, 0),
    writes: programmed.reduce((a, l) => a + l.writes, 0),
    failed: programmed.reduce((a, l) => a + l.failed + l.skipped, 0),
    // The agent's CPU time (all threads) from its start to the maps programmed.
    cpuMs,
    rssMb: mb(status.rssKb),
    peakRssMb: mb(status.hwmKb),
    // The full GC the agent runs when its first pass has ended (not in ms: after it).
    settleGcMs: settled?.gcMs,
    breakdown: {
      attachedMs: (at('attached programs') ?? at('adopted pinned programs and maps (programs replaced in place)')) - spawnedAt,
      runningMs: at('running') - spawnedAt,
      // The steps of the first pass (planning, applying; the informer events between steps not counted).
      firstPassMs: programmed.filter((l) => l.fullRead).reduce((a, l) => a + l.ms, 0),
    },
  };
  const metricsAfterSync = await scrape(metricsPort);
  // What one Prometheus scrape costs the agent at this scale (it reads kernel counters, map
  // memory and fill levels on the event loop): the median of 5 after the first.
  const scrapes = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await scrape(metricsPort);
    scrapes.push(performance.now() - t0);
  }
  sync.scrapeMs = round1(scrapes.sort((a, b) => a - b)[2]);
  sync.ops = metricsAfterSync.ops; // the agent's own counters (the log lines agree when nothing failed)
  sync.writes = metricsAfterSync.writes;
  sync.opsFailedOrSkipped = metricsAfterSync.opsFailed;
  const memory = maps.memory();
  const mapMemoryMb = round1(memory.totalBytes / 1048576);
  console.error(
    `  sync ${sync.ms} ms, agent CPU ${sync.cpuMs} ms (programs attached at ${sync.breakdown.attachedMs} ms, informers listed at ${sync.breakdown.runningMs} ms, first pass ${round1(sync.breakdown.firstPassMs)} ms; a /metrics scrape then ${sync.scrapeMs} ms), ` +
      `${sync.ops} ops, ${sync.writes} writes, ${sync.passes} pass(es); RSS ${sync.rssMb} MB, peak ${sync.peakRssMb} MB; maps ${mapMemoryMb} MB (${memory.innerMaps} inner maps ${round1(memory.innerBytes / 1048576)} MB)`,
  );

  // ---- changes through the REST API ----
  // One change at a time, each from an idle agent: after the maps show the change, the bench
  // waits for the agent's 'programmed maps' line of that pass (written once the pass is over,
  // socket termination included) before the next PUT, so no change waits for the previous one.
  probe = new MapProbe(pinRoot);
  const tail = new LogTail(logPath);
  const closeTail = defer(() => tail.close());
  tail.read();
  const list = makeChanges(n, DESTS, changeCount);
  const samples = [];
  let visibleAtFirstPoll = 0;
  let wrong = 0;
  const tChanges = performance.now();
  for (const c of list) {
    const w = probe.watch(c.clusterIp, PORT);
    if (w.before.innerId === undefined) throw new Error(`${c.clusterIp}:${PORT} has no table before change ${samples.length}`);
    const startEpoch = Date.now();
    const t0 = performance.now();
    await putSlice(api.url, c.body);
    const tWritten = performance.now();
    let polls = 0;
    let seen;
    for (;;) {
      polls++;
      if (w.changed()) {
        seen = performance.now();
        break;
      }
      if (performance.now() - t0 > CHANGE_TIMEOUT_MS) break;
      pause(POLL_MS);
    }
    w.release();
    if (polls === 1 && seen !== undefined) visibleAtFirstPoll++;
    // The pass's log line (bounded wait: a pass that wrote nothing logs nothing).
    let pass;
    const logDeadline = performance.now() + (seen === undefined ? 0 : 5_000);
    for (;;) {
      pass = tail.read().find((l) => l.msg === 'programmed maps' && l.time >= startEpoch);
      if (pass !== undefined || performance.now() > logDeadline) break;
      pause(1);
    }
    const resolved = seen === undefined ? undefined : probe.resolved(c.clusterIp, PORT);
    const ok = resolved !== undefined && resolved.join(',') === c.ready.join(',');
    if (seen !== undefined && !ok) wrong++;
    const sample = { kind: c.kind, ms: seen === undefined ? undefined : seen - t0, writeMs: tWritten - t0, polls, logMs: pass === undefined ? undefined : pass.time - startEpoch, passMs: pass?.ms, passOps: pass?.ops, timedOut: seen === undefined, ok };
    samples.push(sample);
    if (process.env.BENCH_AGENT_SAMPLES) console.error(JSON.stringify(sample));
    if (exited) throw new Error(`agent ${exited} during the changes`);
  }
  await runCleanup(closeTail);
  const changePhaseMs = performance.now() - tChanges;
  const statusEnd = procStatus(agent.pid);
  const metricsEnd = await scrape(metricsPort);
  const logMs = samples.map((s) => s.logMs).filter((x) => x !== undefined);
  const passMsList = samples.map((s) => s.passMs).filter((x) => x !== undefined);
  const good = samples.filter((s) => !s.timedOut);
  const lat = summarizeLatencies(good.map((s) => s.ms));
  const logLat = summarizeLatencies(logMs);
  const passMs = summarizeLatencies(passMsList);
  const byKind = Object.fromEntries(
    ['flip-ready', 'remove', 'add'].map((k) => {
      const s = summarizeLatencies(good.filter((x) => x.kind === k).map((x) => x.ms));
      return [k, { n: good.filter((x) => x.kind === k).length, p50Ms: round1(s.p50), p99Ms: round1(s.p99) }];
    }),
  );
  const changes = {
    n: good.length,
    p50Ms: round1(lat.p50),
    p99Ms: round1(lat.p99),
    p90Ms: round1(lat.p90),
    maxMs: round1(Math.max(...good.map((s) => s.ms))),
    meanMs: round1(lat.mean),
    requested: changeCount,
    timedOut: samples.length - good.length,
    wrongTables: wrong,
    visibleWhenPutReturned: visibleAtFirstPoll,
    putP50Ms: round1(summarizeLatencies(samples.map((s) => s.writeMs)).p50),
    agentLogP50Ms: round1(logLat.p50),
    agentLogP99Ms: round1(logLat.p99),
    agentPassP50Ms: round1(passMs.p50),
    agentPassP99Ms: round1(passMs.p99),
    opsPerChange: round1((metricsEnd.ops - metricsAfterSync.ops) / Math.max(1, samples.length)),
    writesPerChange: round1((metricsEnd.writes - metricsAfterSync.writes) / Math.max(1, samples.length)),
    passes: metricsEnd.passes - metricsAfterSync.passes,
    phaseMs: Math.round(changePhaseMs),
    rssEndMb: mb(statusEnd.rssKb),
    peakRssEndMb: mb(statusEnd.hwmKb),
    byKind,
  };
  if (changeCount > 0) {
    console.error(
      `  ${changes.n}/${changeCount} changes: p50 ${changes.p50Ms} ms, p99 ${changes.p99Ms} ms, max ${changes.maxMs} ms (PUT p50 ${changes.putP50Ms} ms; ` +
        `agent log p50 ${changes.agentLogP50Ms} / p99 ${changes.agentLogP99Ms} ms; pass p50 ${changes.agentPassP50Ms} / p99 ${changes.agentPassP99Ms} ms); ` +
        `${changes.opsPerChange} ops, ${changes.writesPerChange} writes per change; timed out ${changes.timedOut}, wrong tables ${changes.wrongTables}; RSS end ${changes.rssEndMb} MB, peak ${changes.peakRssEndMb} MB`,
    );
  }

  // ---- cleanup: agent first (by pid), then our fds, pins (detaching), cgroup, API server ----
  await runCleanup(stopAgent);
  await runCleanup(closeMaps);
  await cleanupAll();
  return { services: n, endpointsPerService: DESTS, apiServerPopulateMs: Math.round(api.populateMs), sync, changes, mapMemoryMb, mapMemory: { totalBytes: memory.totalBytes, innerMaps: memory.innerMaps, innerBytes: memory.innerBytes, byMap: memory.byMap } };
}

async function main() {
  const runs = [];
  for (const n of SCALES) runs.push(await runScale(n, n === TOP ? TOP_CHANGES : SMALL_CHANGES));
  const top = runs.find((r) => r.services === TOP);

  const cell = (v) => (v === null || v === undefined ? '—' : String(v));
  const header = ['services', 'sync ms', 'ops', 'writes', 'RSS MB', 'peak MB', 'maps MB', 'changes', 'p50 ms', 'p99 ms', 'max ms', 'ops/chg'];
  const rows = runs.map((r) => [r.services, r.sync.ms, r.sync.ops, r.sync.writes, r.sync.rssMb, r.sync.peakRssMb, r.mapMemoryMb, r.changes.n, r.changes.p50Ms, r.changes.p99Ms, r.changes.maxMs, r.changes.opsPerChange].map(cell));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((l) => l[i].length)));
  const fmt = (cols) => '  ' + cols.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(`\ncgroup-resolver agent (${relative(pkgRoot, MAIN)} in its own process; API server in another; ${DESTS} endpoints per Service; Node ${process.version}, ${cpus().length} CPUs, kernel ${release()})`);
  console.log(fmt(header));
  for (const l of rows) console.log(fmt(l));
  const goals = {
    syncUnder2s: { goal: `initial sync < ${GOALS.syncMs} ms at ${TOP}`, measured: top.sync.ms, met: top.sync.ms < GOALS.syncMs },
    rssUnder250MB: { goal: `RSS < ${GOALS.rssMb} MB after the sync at ${TOP}`, measured: top.sync.rssMb, met: top.sync.rssMb < GOALS.rssMb },
    changeP99Under20ms: { goal: `change p99 < ${GOALS.p99Ms} ms at ${TOP}`, measured: top.changes.p99Ms, met: top.changes.p99Ms !== null && top.changes.p99Ms < GOALS.p99Ms && top.changes.timedOut === 0 },
    mapMemoryUnder64MB: { goal: `map memory < ${GOALS.mapMemoryMb} MB at ${TOP}`, measured: top.mapMemoryMb, met: top.mapMemoryMb < GOALS.mapMemoryMb },
  };
  console.log('  goals:');
  for (const g of Object.values(goals)) console.log(`    ${g.met ? 'MET   ' : 'MISSED'} ${g.goal}: ${g.measured}`);

  let previous;
  try {
    previous = JSON.parse(await readFile(resultsPath, 'utf8'));
  } catch {
    previous = {};
  }
  const pick = (r) => ({ services: r.sync.services, endpointsPerService: r.sync.endpointsPerService, ms: r.sync.ms, ops: r.sync.ops, writes: r.sync.writes, rssMb: r.sync.rssMb, peakRssMb: r.sync.peakRssMb });
  const merged = {
    ...previous,
    agentBench: {
      generatedAt: new Date().toISOString(),
      kernel: release(),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? null,
      node: process.version,
      method:
        `${relative(pkgRoot, MAIN)} in its own process (the image's entry point; --node-name ${NODE_NAME}, test cgroup and pin root, --resync-seconds ${RESYNC_S} (a full re-read of the maps that often, during the changes too), socket termination on, NODE_OPTIONS ${process.env.BENCH_AGENT_NODE_OPTIONS ?? DEPLOYED_NODE_OPTIONS}); ` +
        `TestApiServer in another process on 127.0.0.1, N ClusterIP Services (1 TCP port) × ${DESTS} ready endpoints in one EndpointSlice each, one Node. ` +
        `sync: spawn → end of the pass that programmed everything (its 'programmed maps' log time; maps then hold N frontends, N tables, N×${DESTS} backends); ops/writes from its /metrics; RSS/peak = VmRSS/VmHWM once the agent logged the full GC it runs when its first pass has ended (~0.1 s after). ` +
        `changes: one PUT of one EndpointSlice (flip ready / remove a ready endpoint / add one), timed from the PUT's start to the pinned maps showing that Service's new table ` +
        `(bench polls frontend → service id → inner map id every ${POLL_MS} ms after the PUT returns; each new table checked against the ready endpoints); one change at a time. ` +
        `mapMemoryMb: ResolverMaps.memory().totalBytes after the sync (fdinfo memlock, inner maps included).`,
      goals,
    },
    sync: pick(top),
    changes: { n: top.changes.n, p50Ms: top.changes.p50Ms, p99Ms: top.changes.p99Ms },
    mapMemoryMb: top.mapMemoryMb,
    agentScales: runs,
  };
  await mkdir(dirname(resultsPath), { recursive: true });
  await writeFile(resultsPath, `${JSON.stringify(merged, null, 2)}\n`);
  console.log(`\nwritten: ${resultsPath}`);
  if (runs.some((r) => r.changes.timedOut > 0 || r.changes.wrongTables > 0 || r.sync.opsFailedOrSkipped > 0)) {
    console.error('agent bench: some changes timed out, a table was wrong or an op failed (see agentScales)');
    process.exitCode = 1;
  }
}

try {
  await main();
} catch (e) {
  console.error(`agent bench failed: ${e.stack ?? e.message}`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
  http.destroy();
}
