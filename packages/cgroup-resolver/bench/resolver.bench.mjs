// Connect latency to a Service: direct (floor) vs the cgroup resolver (eBPF, socket layer)
// vs kube-proxy-shaped iptables DNAT vs kube-proxy-shaped nftables, at 1 / 1,000 / 10,000
// Services × 10 backends (the target Service last). Everything runs inside network
// namespaces this bench creates (rules too: they vanish with the namespace); the BPF
// programs attach to a cgroup the bench creates. Per scale everything is set up first
// (netns A: iptables rules; netns B: nftables table; netns C: the resolver's cgroup), then
// all cases are measured in interleaved rounds (interleave.mjs), so drift of the shared
// machine hits the floor and the others alike. Writes bench/results/cgroup-resolver.json
// (merged: keys written by others are kept).
//
// Env: BENCH_SCALES=1,1000,10000  BENCH_COUNT=5000 (connect+close per run)
//      BENCH_EXCHANGE_COUNT=2000 (connections with BENCH_ROUNDS=10 echo round trips)
//      BENCH_REPEAT=5 (interleaved rounds; per case the median-p50 run is kept)
//      BENCH_BACKENDS=10  BENCH_SKIP=resolver,iptables,nftables (any of them)
//      BENCH_IPTABLES=legacy|nft: the iptables backend (default legacy: x_tables, the linear
//      rule walk kube-proxy's iptables mode is known for; iptables-nft restores 31,000 rules
//      in ~20 s and 310,000 far slower, so 10,000 Services are impractical with it here)
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, release } from 'node:os';
import {
  addLocalAddresses,
  createNetns,
  createTestCgroup,
  createTestPinRoot,
  deleteNetns,
  ensureBpffs,
  execInCgroupNetns,
  removeTestCgroup,
  removeTestPinRoot,
  run,
  runChecked,
  summarizeLatencies,
} from '@balanced/testkit';
import { interleave, pairedMedianRatio } from './interleave.mjs';
import { buildNative, parseClientOutput } from './native.mjs';
import { BACKEND_PORT, SERVICE_PORT, desiredState, renderIptables, renderNftables, serviceVip } from './rules.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const pkgRoot = resolve(here, '..');
const repoRoot = resolve(pkgRoot, '..', '..');
const resultsPath = join(repoRoot, 'bench', 'results', 'cgroup-resolver.json');

const envInt = (name, dflt) => (process.env[name] ? Number.parseInt(process.env[name], 10) : dflt);
const SCALES = (process.env.BENCH_SCALES ?? '1,1000,10000').split(',').map(Number);
const COUNT = envInt('BENCH_COUNT', 5000);
const EXCHANGE_COUNT = envInt('BENCH_EXCHANGE_COUNT', 2000);
const ROUNDS = envInt('BENCH_ROUNDS', 10);
const BACKENDS = envInt('BENCH_BACKENDS', 10);
const WARMUP = 200;
const REPEAT = envInt('BENCH_REPEAT', 5);
// After setup (the resolver's apply last) and before round 1: this process's garbage
// collector finishes with the plan (at 10,000 Services it ran on the second core during the
// measurement and doubled the client's p50) and the kernel with the loads.
const SETTLE_MS = 3000;
const IPTABLES = process.env.BENCH_IPTABLES === 'nft' ? 'nft' : 'legacy';
const SKIP = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean));

// Addresses inside the bench namespaces only.
const TARGET_BACKENDS = Array.from({ length: BACKENDS }, (_, b) => `10.200.0.${b + 1}`);
const CLIENT_ADDRESS = '10.200.0.100';

if (process.getuid?.() !== 0) {
  console.error('resolver bench: needs root (network namespaces, cgroups, BPF)');
  process.exit(1);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- cleanup: LIFO, always (also on SIGINT/SIGTERM) ----
// One drain at a time (a signal's drain waits for a scale's running one). Once a signal came,
// anything registered later is undone at once and `defer` throws, so the bench stops there.
const cleanups = [];
let stopping = false;
let draining = Promise.resolve();
function unwind(mark = 0) {
  draining = draining.then(async () => {
    while (cleanups.length > mark) {
      const fn = cleanups.pop();
      try {
        await fn();
      } catch (e) {
        console.error(`cleanup: ${e.message}`);
      }
    }
  });
  return draining;
}
function defer(fn) {
  cleanups.push(fn);
  if (stopping) {
    void unwind(0);
    throw new Error('interrupted');
  }
}
let mainDone = Promise.resolve();
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.error(`${sig}: cleaning up`);
    stopping = true;
    // Undo everything now; give the bench a moment to unwind (a command in flight ends on
    // its own: its namespace is already gone), undo whatever it made meanwhile, exit.
    void unwind(0)
      .then(() => Promise.race([mainDone, sleep(5000)]))
      .then(() => unwind(0))
      .finally(() => process.exit(130));
  });
}

const round1 = (x) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? Math.round((a / b) * 100) / 100 : null);

/** A namespace with the backends' addresses, a route to the Service range and the echo server. */
async function benchNetns(native) {
  const ns = await createNetns();
  defer(() => deleteNetns(ns));
  await addLocalAddresses(ns, [...TARGET_BACKENDS, CLIENT_ADDRESS]);
  // Connections to a Service address need a route for the first lookup (iptables/nft DNAT
  // in OUTPUT, then re-route); a fixed source keeps the client off the backends' addresses.
  await runChecked('ip', ['-n', ns, 'route', 'add', '10.96.0.0/16', 'dev', 'lo', 'src', CLIENT_ADDRESS]);
  const server = spawn('ip', ['netns', 'exec', ns, native.server, String(BACKEND_PORT)], { stdio: ['ignore', 'pipe', 'pipe'] });
  defer(async () => {
    if (server.exitCode === null && server.signalCode === null) {
      const gone = new Promise((r) => server.once('exit', r));
      server.kill('SIGKILL'); // by its pid (ip netns exec execs the server)
      await gone;
    }
  });
  await new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error('echo server did not start')), 10_000);
    server.stdout.on('data', (d) => d.toString().includes('ready') && (clearTimeout(timer), resolveReady()));
    server.once('exit', (c) => reject(new Error(`echo server exited ${c}`)));
  });
  return ns;
}

// A Service address is dialled on the Service port, a backend address on the backend port.
const SERVICE_PORT_FOR = (address) => (address.startsWith('10.96.') ? SERVICE_PORT : BACKEND_PORT);

/** One run of the C client for a case `{ name, label, ns, cgroup?, address, group?, optional? }` (in the cgroup first when it has one). */
async function runClient(native, c, count, rounds) {
  if (stopping) throw new Error('interrupted');
  const args = [c.address, String(SERVICE_PORT_FOR(c.address)), String(count), String(rounds), String(WARMUP)];
  const r = c.cgroup === undefined
    ? await run('ip', ['netns', 'exec', c.ns, native.client, ...args], { timeoutMs: 600_000 })
    : await execInCgroupNetns(c.cgroup, c.ns, native.client, args, { timeoutMs: 600_000 });
  const out = parseClientOutput(r.stdout);
  if (r.code !== 0 || out.latUs.length === 0) throw new Error(`${c.label}: client exited ${r.code}: ${r.stdout.slice(-200)} ${r.stderr.slice(-300)}`);
  if (out.errors > 0) console.error(`${c.label}: ${out.errors} failed connections (${out.lastError})`);
  const s = summarizeLatencies(out.latUs);
  return { p50Us: round1(s.p50), p90Us: round1(s.p90), p99Us: round1(s.p99), meanUs: round1(s.mean), perSecond: Math.round(out.latUs.length / (out.totalNs / 1e9)), count: out.latUs.length, errors: out.errors };
}

/**
 * Measures `cases` in REPEAT interleaved rounds: each round runs every case's connect run
 * (order rotated per round), then every case's exchange run (likewise). Returns
 * `{ measured: name → { connect, exchange }, failures: group → Error }`; only `optional`
 * cases (the resolver's) may fail without ending the bench.
 */
async function measureInterleaved(native, cases) {
  const unit = (c, kind, count, rounds) => ({ key: `${c.name}.${kind}`, group: c.group ?? c.name, optional: c.optional, run: () => runClient(native, c, count, rounds) });
  const passes = [cases.map((c) => unit(c, 'connect', COUNT, 0))];
  if (EXCHANGE_COUNT > 0) passes.push(cases.map((c) => unit(c, 'exchange', EXCHANGE_COUNT, ROUNDS)));
  const { results, failures } = await interleave(passes, REPEAT, (round, runs) => {
    const p50s = cases.filter((c) => runs.has(`${c.name}.connect`)).map((c) => `${c.name} ${runs.get(`${c.name}.connect`).p50Us}`);
    console.error(`  round ${round + 1}/${REPEAT} connect p50 µs: ${p50s.join(', ')}`);
  });
  const measured = {};
  for (const c of cases) {
    const connect = results.get(`${c.name}.connect`);
    if (connect === undefined) continue;
    const exchange = results.get(`${c.name}.exchange`);
    measured[c.name] = { connect, exchange };
    console.error(`  ${c.label.padEnd(38)} connect p50 ${connect.p50Us} µs p99 ${connect.p99Us} µs ${connect.perSecond}/s` + (exchange ? `; ${ROUNDS}-RT p50 ${exchange.p50Us} µs p99 ${exchange.p99Us} µs` : ''));
  }
  return { measured, failures };
}

async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return Math.round(performance.now() - t0);
}

// ---- setup per scale (everything registered with defer; the scale's unwind removes it) ----

/** netns A with kube-proxy-shaped iptables rules: cases iptables (Service) and directWithIptables (backend). */
async function setupIptables(native, n) {
  const ns = await benchNetns(native);
  const rules = renderIptables(n, BACKENDS, TARGET_BACKENDS);
  const loadMs = await timed(() => runChecked('ip', ['netns', 'exec', ns, `iptables-${IPTABLES}-restore`, '--noflush'], { input: rules, timeoutMs: 600_000 }));
  const ruleCount = (await runChecked('ip', ['netns', 'exec', ns, `iptables-${IPTABLES}-save`, '-t', 'nat'])).split('\n').filter((l) => l.startsWith('-A ')).length;
  console.error(`  iptables: ${ruleCount} nat rules loaded in ${loadMs} ms`);
  return {
    cases: [
      { name: 'iptables', label: `iptables (${n} services)`, ns, address: serviceVip(n - 1) },
      { name: 'directWithIptables', label: `direct with ${n} services in iptables`, ns, address: TARGET_BACKENDS[0] },
    ],
    info: { iptablesLoadMs: loadMs, iptablesRules: ruleCount },
  };
}

/** netns B with kube-proxy-shaped nftables table: case nftables. */
async function setupNftables(native, n) {
  const ns = await benchNetns(native);
  const rules = renderNftables(n, BACKENDS, TARGET_BACKENDS);
  const loadMs = await timed(() => runChecked('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: rules, timeoutMs: 600_000 }));
  console.error(`  nftables: loaded in ${loadMs} ms`);
  return { cases: [{ name: 'nftables', label: `nftables (${n} services)`, ns, address: serviceVip(n - 1) }], info: { nftablesLoadMs: loadMs } };
}

let resolverApi;
async function loadResolverApi() {
  if (resolverApi !== undefined) return resolverApi;
  const entry = join(pkgRoot, 'dist', 'index.js');
  // Until the package has its public index, take the same names from the built modules.
  const parts = ['loader/resolver-programs.js', 'maps/resolver-maps.js', 'plan/index.js'].map((p) => join(pkgRoot, 'dist', p));
  const useParts = !existsSync(entry) && parts.every((p) => existsSync(p));
  if (!existsSync(entry) && !useParts) {
    resolverApi = { missing: `${entry} does not exist: build the package (npx tsc -b packages/cgroup-resolver/tsconfig.build.json)` };
    return resolverApi;
  }
  const need = ['ResolverPrograms', 'ResolverMaps', 'planMaps'];
  const tryImport = async (files, label) => {
    try {
      const mod = Object.assign({}, ...(await Promise.all(files.map((p) => import(p)))));
      const absent = need.filter((k) => mod[k] === undefined);
      return absent.length > 0 ? { missing: `${label} does not export ${absent.join(', ')}` } : { mod };
    } catch (e) {
      return { missing: `importing ${label} failed: ${e.message}` };
    }
  };
  resolverApi = useParts ? await tryImport(parts, 'dist/{loader,maps,plan}') : await tryImport([entry], 'dist/index.js');
  if (resolverApi.missing !== undefined && !useParts && parts.every((p) => existsSync(p))) {
    // The index pulls in everything (agent, k8s…); the three modules the bench needs may still load.
    const fallback = await tryImport(parts, 'dist/{loader,maps,plan}');
    if (fallback.mod !== undefined) console.error(`resolver: ${resolverApi.missing}; using dist/{loader,maps,plan} directly`);
    resolverApi = fallback.mod !== undefined ? fallback : { missing: `${resolverApi.missing}; ${fallback.missing}` };
  }
  if (resolverApi.mod !== undefined && !existsSync(join(pkgRoot, 'dist', 'bpf', 'resolver.bpf.o'))) {
    const r = await run('bash', [join(pkgRoot, 'bpf', 'build.sh')], { timeoutMs: 300_000 });
    if (r.code !== 0) resolverApi = { missing: `bpf/build.sh failed: ${r.stderr.slice(-500)}` };
  }
  return resolverApi;
}

/** The resolver's programs on a fresh test cgroup, its maps filled with `n` Services; returns the cgroup. */
async function attachResolver({ ResolverPrograms, ResolverMaps, planMaps, hostNetnsCookie }, n) {
  await ensureBpffs();
  const cgroup = await createTestCgroup('balanced-bench');
  defer(() => removeTestCgroup(cgroup));
  const pinRoot = await createTestPinRoot('balanced-bench');
  defer(() => removeTestPinRoot(pinRoot)); // unpins links: the programs detach
  defer(() => ResolverPrograms.detach?.(pinRoot));
  const programs = ResolverPrograms.attach({ pinRoot, cgroupPath: cgroup });
  defer(() => programs.close());
  const maps = ResolverMaps.open(pinRoot);
  defer(() => maps.close());
  if (typeof maps.writeConfig === 'function') {
    // Resolve in every namespace (the client is in a test netns); no ring-buffer events.
    maps.writeConfig({ hostNetnsCookie: hostNetnsCookie ? hostNetnsCookie() : 0n, hostNetnsOnly: false, events: false });
  }
  const desired = desiredState(n, BACKENDS, TARGET_BACKENDS);
  const t0 = performance.now();
  const plan = planMaps(desired, maps.dump());
  const planMs = Math.round(performance.now() - t0);
  const ops = Array.isArray(plan) ? plan.length : Array.isArray(plan?.ops) ? plan.ops.length : undefined;
  const t1 = performance.now();
  maps.apply(plan);
  const applyMs = Math.round(performance.now() - t1);
  console.error(`  resolver: planned in ${planMs} ms, applied in ${applyMs} ms${ops === undefined ? '' : ` (${ops} ops)`}`);
  return { cgroup, info: { resolverPlanMs: planMs, resolverApplyMs: applyMs } };
}

/**
 * netns C: case direct, the floor (a client in C but outside the cgroup: no rules in C and
 * no programs run for it) and, unless skipped or unavailable, the resolver's cgroup: cases
 * resolver (client in the cgroup, Service address) and directInResolverCgroup (backend).
 */
async function setupResolverNetns(native, n) {
  const ns = await benchNetns(native);
  const direct = { name: 'direct', label: 'direct (client outside the cgroup)', ns, address: TARGET_BACKENDS[0] };
  if (SKIP.has('resolver')) return { cases: [direct], info: { resolverNote: 'skipped (BENCH_SKIP)' } };
  const api = await loadResolverApi();
  if (api.missing !== undefined) return { cases: [direct], info: { resolverNote: api.missing } };
  try {
    const { cgroup, info } = await attachResolver(api.mod, n);
    // One optional group: a failing run in the cgroup drops both cases (figures from one
    // without the other would not compare) into resolverNote; the other cases go on.
    const inCgroup = { ns, cgroup, group: 'resolverCgroup', optional: true };
    return {
      cases: [
        direct,
        { name: 'resolver', label: `resolver (${n} services)`, address: serviceVip(n - 1), ...inCgroup },
        { name: 'directInResolverCgroup', label: 'direct, client in resolver cgroup', address: TARGET_BACKENDS[0], ...inCgroup },
      ],
      info,
    };
  } catch (e) {
    if (stopping) throw e;
    console.error(`  resolver (${n} services) failed: ${e.stack ?? e.message}`);
    return { cases: [direct], info: { resolverNote: `failed: ${e.message}` } };
  }
}

/** One scale: set every case up, settle, measure all cases interleaved, undo the setup. */
async function measureScale(native, n) {
  const mark = cleanups.length;
  try {
    const setups = [];
    if (!SKIP.has('iptables')) setups.push(await setupIptables(native, n));
    if (!SKIP.has('nftables')) setups.push(await setupNftables(native, n));
    setups.push(await setupResolverNetns(native, n)); // last: the settle follows its apply
    await sleep(SETTLE_MS);
    const { measured, failures } = await measureInterleaved(native, setups.flatMap((x) => x.cases));
    const info = Object.assign({}, ...setups.map((x) => x.info));
    const failed = failures.get('resolverCgroup');
    if (failed !== undefined) {
      console.error(`  resolver (${n} services) failed: ${failed.stack ?? failed.message}`);
      info.resolverNote = `failed: ${failed.message}`;
    }
    return { ...measured, ...info };
  } finally {
    await unwind(mark);
  }
}

// A value measured now replaces the stored one; a case not run now (null) keeps the stored figure.
function mergeRow(old, row) {
  const out = { ...old };
  for (const [k, v] of Object.entries(row)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) out[k] = mergeRow(old[k] ?? {}, v);
    else if (v !== null || !(k in old)) out[k] = v;
  }
  if (row.resolverP50Us !== null && !row.resolverNote) delete out.resolverNote;
  return out;
}
function withRatios(row) {
  return {
    ...row,
    resolverOverDirect: ratio(row.resolverP50Us, row.directP50Us),
    iptablesOverResolver: ratio(row.iptablesP50Us, row.resolverP50Us),
    nftablesOverResolver: ratio(row.nftablesP50Us, row.resolverP50Us),
  };
}

// ---- main ----

/** pairedRatio of two measured cases' connect p50s (null when either is missing). */
const pairedRatio = (a, b) => {
  const r = pairedMedianRatio(a?.connect.repeats ?? [], b?.connect.repeats ?? []);
  return r === null ? null : Math.round(r * 100) / 100;
};

async function main() {
  const native = await buildNative();
  defer(native.cleanup);
  const iptablesVersion = (await run(`iptables-${IPTABLES}`, ['--version'])).stdout.trim();
  const nftVersion = (await run('nft', ['--version'])).stdout.trim();
  if (!nftVersion) SKIP.add('nftables');
  if (!iptablesVersion) SKIP.add('iptables');
  const rows = [];
  for (const n of SCALES) {
    console.error(`\n== ${n} services × ${BACKENDS} backends ==`);
    const r = await measureScale(native, n);
    const p50 = (m) => m?.connect.p50Us ?? null;
    const p99 = (m) => m?.connect.p99Us ?? null;
    const x50 = (m) => m?.exchange?.p50Us ?? null;
    const x99 = (m) => m?.exchange?.p99Us ?? null;
    rows.push({
      services: n,
      backendsPerService: BACKENDS,
      directP50Us: p50(r.direct),
      resolverP50Us: p50(r.resolver),
      iptablesP50Us: p50(r.iptables),
      nftablesP50Us: p50(r.nftables),
      directWithIptablesP50Us: p50(r.directWithIptables),
      directInResolverCgroupP50Us: p50(r.directInResolverCgroup),
      resolverOverDirect: ratio(p50(r.resolver), p50(r.direct)),
      iptablesOverResolver: ratio(p50(r.iptables), p50(r.resolver)),
      nftablesOverResolver: ratio(p50(r.nftables), p50(r.resolver)),
      // The same ratios taken within each round (where the two cases ran seconds apart), then
      // the median over the rounds: drift from one round to the next cancels out.
      paired: {
        resolverOverDirect: pairedRatio(r.resolver, r.direct),
        iptablesOverResolver: pairedRatio(r.iptables, r.resolver),
        nftablesOverResolver: pairedRatio(r.nftables, r.resolver),
      },
      // Every round's connect p50 per case, in round order.
      roundsP50Us: Object.fromEntries(['direct', 'resolver', 'iptables', 'nftables', 'directWithIptables', 'directInResolverCgroup'].map((k) => [k, r[k]?.connect.repeats ?? null])),
      directP99Us: p99(r.direct),
      resolverP99Us: p99(r.resolver),
      iptablesP99Us: p99(r.iptables),
      nftablesP99Us: p99(r.nftables),
      directWithIptablesP99Us: p99(r.directWithIptables),
      connectsPerSecond: {
        direct: r.direct?.connect.perSecond ?? null,
        resolver: r.resolver?.connect.perSecond ?? null,
        iptables: r.iptables?.connect.perSecond ?? null,
        nftables: r.nftables?.connect.perSecond ?? null,
        directWithIptables: r.directWithIptables?.connect.perSecond ?? null,
      },
      exchange: {
        rounds: ROUNDS,
        directP50Us: x50(r.direct),
        resolverP50Us: x50(r.resolver),
        iptablesP50Us: x50(r.iptables),
        nftablesP50Us: x50(r.nftables),
        directWithIptablesP50Us: x50(r.directWithIptables),
        directP99Us: x99(r.direct),
        resolverP99Us: x99(r.resolver),
        iptablesP99Us: x99(r.iptables),
        nftablesP99Us: x99(r.nftables),
      },
      load: {
        iptablesRules: r.iptablesRules ?? null,
        iptablesRestoreMs: r.iptablesLoadMs ?? null,
        nftLoadMs: r.nftablesLoadMs ?? null,
        resolverPlanMs: r.resolverPlanMs ?? null,
        resolverApplyMs: r.resolverApplyMs ?? null,
      },
      ...(r.resolverNote ? { resolverNote: r.resolverNote } : {}),
    });
  }

  // Merge into the results file: other keys (sync, changes, mapMemoryMb…) and other fields
  // of a scale row are kept.
  let previous;
  try {
    previous = JSON.parse(await readFile(resultsPath, 'utf8'));
  } catch {
    previous = {};
  }
  const oldRows = new Map((previous.scales ?? []).map((row) => [row.services, row]));
  const merged = {
    ...previous,
    connectBench: {
      generatedAt: new Date().toISOString(),
      kernel: release(),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? null,
      iptables: iptablesVersion,
      nftables: nftVersion,
      method:
        `C client, sequential connections inside a test netns to a C echo server on that netns's lo (one per netns): ` +
        `connect()+close() per connection (SO_LINGER 0), ${COUNT} per run after ${WARMUP} warm-up; ` +
        `exchange = connect + ${ROUNDS} one-byte round trips + close, ${EXCHANGE_COUNT} per run. ` +
        `Per scale every case is set up first (iptables rules in netns A, nftables table in netns B, the resolver's cgroup ` +
        `with netns C), then after a ${SETTLE_MS / 1000} s settle the cases are measured interleaved: ${REPEAT} rounds, each running every case once ` +
        `(connect runs, then exchange runs), the order rotated each round; per case the median-p50 run is kept. ` +
        `direct (the floor) = a client in the resolver's netns C but outside its cgroup (no Service rules or programs for it); ` +
        `directWithIptables = backend address from netns A; directInResolverCgroup = backend address from inside the cgroup. ` +
        `${BACKENDS} backends per Service, target Service last. iptables: kube-proxy iptables-mode nat chains ` +
        `(OUTPUT → KUBE-SERVICES → KUBE-SVC → KUBE-SEP, statistic random, DNAT) via iptables-${IPTABLES}-restore; ` +
        `nftables: kube-proxy nftables-mode table (service-ips verdict map, numgen vmap, DNAT) via nft -f; ` +
        `resolver: programs attached to a test cgroup, maps filled through planMaps + ResolverMaps.apply, ` +
        `client in that cgroup. Latencies in µs.`,
    },
    // Scales not run now keep their stored rows (BENCH_SCALES may name a few).
    scales: [...new Set([...oldRows.keys(), ...rows.map((r) => r.services)])]
      .sort((a, b) => a - b)
      .map((n) => {
        const row = rows.find((r) => r.services === n);
        return row === undefined ? oldRows.get(n) : withRatios(mergeRow(oldRows.get(n) ?? {}, row));
      }),
  };
  await mkdir(dirname(resultsPath), { recursive: true });
  await writeFile(resultsPath, `${JSON.stringify(merged, null, 2)}\n`);

  const cell = (v) => (v === null || v === undefined ? '—' : String(v));
  const header = ['services', 'direct', 'resolver', 'iptables', 'nftables', 'direct+ipt', 'res/direct', 'ipt/res', 'nft/res', 'paired res/dir', 'paired nft/res', `${ROUNDS}RT res`, `${ROUNDS}RT ipt`, `${ROUNDS}RT nft`];
  const lines = rows.map((r) => [r.services, r.directP50Us, r.resolverP50Us, r.iptablesP50Us, r.nftablesP50Us, r.directWithIptablesP50Us, r.resolverOverDirect, r.iptablesOverResolver, r.nftablesOverResolver, r.paired.resolverOverDirect, r.paired.nftablesOverResolver, r.exchange.resolverP50Us, r.exchange.iptablesP50Us, r.exchange.nftablesP50Us].map(cell));
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cols) => cols.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log('\nconnect()+close() p50 in µs (ratios of p50s; paired: the median over the rounds of the ratio within a round); exchange columns: connect + round trips + close, p50 µs');
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
  console.log('\np99 µs:');
  for (const r of rows) console.log(`  ${r.services}: direct ${cell(r.directP99Us)}, resolver ${cell(r.resolverP99Us)}, iptables ${cell(r.iptablesP99Us)}, nftables ${cell(r.nftablesP99Us)}, direct+iptables ${cell(r.directWithIptablesP99Us)}`);
  for (const r of rows) if (r.resolverNote) console.log(`  resolver at ${r.services}: ${r.resolverNote}`);
  console.log(`\nwritten: ${resultsPath}`);
}

mainDone = (async () => {
  try {
    await main();
  } catch (e) {
    console.error(e.stack ?? e.message);
    process.exitCode = 1;
  } finally {
    await unwind(0);
  }
})();
await mainDone;
