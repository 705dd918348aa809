// Connect latency to a Service: direct (floor) vs the cgroup resolver (eBPF, socket layer)
// vs kube-proxy-shaped iptables DNAT vs kube-proxy-shaped nftables, at 1 / 1,000 / 10,000
// Services × 10 backends (the target Service last). Everything runs inside network
// namespaces this bench creates (rules too: they vanish with the namespace); the BPF
// programs attach to a cgroup the bench creates. Writes bench/results/cgroup-resolver.json
// (merged: keys written by others are kept).
//
// Env: BENCH_SCALES=1,1000,10000  BENCH_COUNT=5000 (connect+close per case)
//      BENCH_EXCHANGE_COUNT=2000 (connections with BENCH_ROUNDS=10 echo round trips)
//      BENCH_REPEAT=3 (runs per measurement; the median-p50 run is kept)
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
const REPEAT = envInt('BENCH_REPEAT', 3);
const IPTABLES = process.env.BENCH_IPTABLES === 'nft' ? 'nft' : 'legacy';
const SKIP = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean));

// Addresses inside the bench namespaces only.
const TARGET_BACKENDS = Array.from({ length: BACKENDS }, (_, b) => `10.200.0.${b + 1}`);
const CLIENT_ADDRESS = '10.200.0.100';

if (process.getuid?.() !== 0) {
  console.error('resolver bench: needs root (network namespaces, cgroups, BPF)');
  process.exit(1);
}

// ---- cleanup: LIFO, always (also on SIGINT/SIGTERM) ----
const cleanups = [];
const defer = (fn) => cleanups.push(fn);
async function cleanupAll() {
  while (cleanups.length > 0) {
    const fn = cleanups.pop();
    try {
      await fn();
    } catch (e) {
      console.error(`cleanup: ${e.message}`);
    }
  }
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.error(`${sig}: cleaning up`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

const round1 = (x) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? Math.round((a / b) * 100) / 100 : null);

/** A namespace with the backends' addresses, a route to the Service range and the echo server. */
async function benchNetns(native) {
  const ns = await createNetns();
  const removeNs = () => deleteNetns(ns);
  defer(removeNs);
  await addLocalAddresses(ns, [...TARGET_BACKENDS, CLIENT_ADDRESS]);
  // Connections to a Service address need a route for the first lookup (iptables/nft DNAT
  // in OUTPUT, then re-route); a fixed source keeps the client off the backends' addresses.
  await runChecked('ip', ['-n', ns, 'route', 'add', '10.96.0.0/16', 'dev', 'lo', 'src', CLIENT_ADDRESS]);
  const server = spawn('ip', ['netns', 'exec', ns, native.server, String(BACKEND_PORT)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stopServer = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      const gone = new Promise((r) => server.once('exit', r));
      server.kill('SIGKILL'); // by its pid (ip netns exec execs the server)
      await gone;
    }
  };
  defer(stopServer);
  await new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error('echo server did not start')), 10_000);
    server.stdout.on('data', (d) => d.toString().includes('ready') && (clearTimeout(timer), resolveReady()));
    server.once('exit', (c) => reject(new Error(`echo server exited ${c}`)));
  });
  return { ns, done: async () => { await stopServer(); await removeNs(); } };
}

/** Runs the C client in the namespace (optionally inside a cgroup first). */
async function measure(native, ns, cgroup, address, label) {
  const once = async (count, rounds) => {
    const args = [address, String(cgroup === undefined ? SERVICE_PORT_FOR(address) : SERVICE_PORT_FOR(address)), String(count), String(rounds), String(WARMUP)];
    const r = cgroup === undefined
      ? await run('ip', ['netns', 'exec', ns, native.client, ...args], { timeoutMs: 600_000 })
      : await execInCgroupNetns(cgroup, ns, native.client, args, { timeoutMs: 600_000 });
    const out = parseClientOutput(r.stdout);
    if (r.code !== 0 || out.latUs.length === 0) throw new Error(`${label}: client exited ${r.code}: ${r.stdout.slice(-200)} ${r.stderr.slice(-300)}`);
    if (out.errors > 0) console.error(`${label}: ${out.errors} failed connections (${out.lastError})`);
    const s = summarizeLatencies(out.latUs);
    return { p50Us: round1(s.p50), p90Us: round1(s.p90), p99Us: round1(s.p99), meanUs: round1(s.mean), perSecond: Math.round(out.latUs.length / (out.totalNs / 1e9)), count: out.latUs.length, errors: out.errors };
  };
  // The machine is shared: run each measurement REPEAT times and keep the run with the median p50.
  const median = async (count, rounds) => {
    const runs = [];
    for (let i = 0; i < REPEAT; i++) runs.push(await once(count, rounds));
    runs.sort((x, y) => x.p50Us - y.p50Us);
    return { ...runs[Math.floor(runs.length / 2)], repeats: runs.map((x) => x.p50Us) };
  };
  const connect = await median(COUNT, 0);
  const exchange = EXCHANGE_COUNT > 0 ? await median(EXCHANGE_COUNT, ROUNDS) : undefined;
  console.error(`  ${label.padEnd(34)} connect p50 ${connect.p50Us} µs p99 ${connect.p99Us} µs ${connect.perSecond}/s` + (exchange ? `; ${ROUNDS}-RT p50 ${exchange.p50Us} µs p99 ${exchange.p99Us} µs` : ''));
  return { connect, exchange };
}
// A Service address is dialled on the Service port, a backend address on the backend port.
const SERVICE_PORT_FOR = (address) => (address.startsWith('10.96.') ? SERVICE_PORT : BACKEND_PORT);

async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return Math.round(performance.now() - t0);
}

// ---- cases ----

async function directAndIptables(native, n) {
  const { ns, done } = await benchNetns(native);
  try {
    const direct = await measure(native, ns, undefined, TARGET_BACKENDS[0], 'direct');
    if (SKIP.has('iptables')) return { direct };
    const rules = renderIptables(n, BACKENDS, TARGET_BACKENDS);
    const loadMs = await timed(() => runChecked('ip', ['netns', 'exec', ns, `iptables-${IPTABLES}-restore`, '--noflush'], { input: rules, timeoutMs: 600_000 }));
    const ruleCount = (await runChecked('ip', ['netns', 'exec', ns, `iptables-${IPTABLES}-save`, '-t', 'nat'])).split('\n').filter((l) => l.startsWith('-A ')).length;
    console.error(`  iptables: ${ruleCount} nat rules loaded in ${loadMs} ms`);
    const iptables = await measure(native, ns, undefined, serviceVip(n - 1), `iptables (${n} services)`);
    const directWithIptables = await measure(native, ns, undefined, TARGET_BACKENDS[0], `direct with ${n} services in iptables`);
    return { direct, iptables, directWithIptables, iptablesLoadMs: loadMs, iptablesRules: ruleCount };
  } finally {
    await done();
  }
}

async function nftables(native, n) {
  const { ns, done } = await benchNetns(native);
  try {
    const rules = renderNftables(n, BACKENDS, TARGET_BACKENDS);
    const loadMs = await timed(() => runChecked('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: rules, timeoutMs: 600_000 }));
    console.error(`  nftables: loaded in ${loadMs} ms`);
    const nft = await measure(native, ns, undefined, serviceVip(n - 1), `nftables (${n} services)`);
    return { nftables: nft, nftablesLoadMs: loadMs };
  } finally {
    await done();
  }
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

async function resolverCase(native, n) {
  const api = await loadResolverApi();
  if (api.missing !== undefined) return { resolverNote: api.missing };
  const { ResolverPrograms, ResolverMaps, planMaps, hostNetnsCookie } = api.mod;
  await ensureBpffs();
  const { ns, done } = await benchNetns(native);
  const cgroup = await createTestCgroup('balanced-bench');
  const pinRoot = await createTestPinRoot('balanced-bench');
  let programs, maps;
  const teardown = async () => {
    maps?.close();
    programs?.close();
    maps = programs = undefined;
    try {
      ResolverPrograms.detach?.(pinRoot);
    } finally {
      await removeTestPinRoot(pinRoot); // unpins links: the programs detach
      await removeTestCgroup(cgroup);
    }
  };
  defer(teardown);
  try {
    programs = ResolverPrograms.attach({ pinRoot, cgroupPath: cgroup });
    maps = ResolverMaps.open(pinRoot);
    if (typeof maps.writeConfig === 'function') {
      // Resolve in every namespace (the client is in a test netns); no ring-buffer events.
      maps.writeConfig({ hostNetnsCookie: hostNetnsCookie ? hostNetnsCookie() : 0n, hostNetnsOnly: false, events: false });
    }
    const desired = desiredState(n, BACKENDS, TARGET_BACKENDS);
    let planMs, applyMs, ops;
    {
      const t0 = performance.now();
      const plan = planMaps(desired, maps.dump());
      planMs = Math.round(performance.now() - t0);
      ops = Array.isArray(plan) ? plan.length : Array.isArray(plan?.ops) ? plan.ops.length : undefined;
      const t1 = performance.now();
      maps.apply(plan);
      applyMs = Math.round(performance.now() - t1);
    }
    console.error(`  resolver: planned in ${planMs} ms, applied in ${applyMs} ms${ops === undefined ? '' : ` (${ops} ops)`}`);
    // Let this process's garbage collector finish with the plan (at 10,000 Services it ran on the
    // second core during the measurement and doubled the client's p50) before timing anything.
    await new Promise((r) => setTimeout(r, 3000));
    const resolver = await measure(native, ns, cgroup, serviceVip(n - 1), `resolver (${n} services)`);
    const directInResolverCgroup = await measure(native, ns, cgroup, TARGET_BACKENDS[0], `direct, client in resolver cgroup`);
    return { resolver, directInResolverCgroup, resolverPlanMs: planMs, resolverApplyMs: applyMs };
  } catch (e) {
    console.error(`  resolver (${n} services) failed: ${e.stack ?? e.message}`);
    return { resolverNote: `failed: ${e.message}` };
  } finally {
    cleanups.splice(cleanups.indexOf(teardown), 1);
    await teardown();
    await done();
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

async function main() {
  const native = await buildNative();
  defer(native.cleanup);
  const iptablesVersion = (await run(`iptables-${IPTABLES}`, ['--version'])).stdout.trim();
  const nftVersion = (await run('nft', ['--version'])).stdout.trim();
  if (!nftVersion) SKIP.add('nftables');
  if (!iptablesVersion) SKIP.add('iptables');
  const rows = [];
  const details = [];
  for (const n of SCALES) {
    console.error(`\n== ${n} services × ${BACKENDS} backends ==`);
    const a = await directAndIptables(native, n);
    const d = SKIP.has('nftables') ? {} : await nftables(native, n);
    const b = SKIP.has('resolver') ? { resolverNote: 'skipped (BENCH_SKIP)' } : await resolverCase(native, n);
    const r = { ...a, ...d, ...b };
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
    details.push({ services: n, ...r });
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
        `C client, sequential connections inside a test netns to a C echo server on the same netns's lo: ` +
        `connect()+close() per connection (SO_LINGER 0), ${COUNT} per run after ${WARMUP} warm-up, ${REPEAT} runs per case (median-p50 run kept); ` +
        `exchange = connect + ${ROUNDS} one-byte round trips + close, ${EXCHANGE_COUNT} per case. ` +
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
  const header = ['services', 'direct', 'resolver', 'iptables', 'nftables', 'direct+ipt', 'res/direct', 'ipt/res', 'nft/res', `${ROUNDS}RT res`, `${ROUNDS}RT ipt`, `${ROUNDS}RT nft`];
  const lines = rows.map((r) => [r.services, r.directP50Us, r.resolverP50Us, r.iptablesP50Us, r.nftablesP50Us, r.directWithIptablesP50Us, r.resolverOverDirect, r.iptablesOverResolver, r.nftablesOverResolver, r.exchange.resolverP50Us, r.exchange.iptablesP50Us, r.exchange.nftablesP50Us].map(cell));
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cols) => cols.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log('\nconnect()+close() p50 in µs (ratios of p50s); exchange columns: connect + round trips + close, p50 µs');
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
  console.log('\np99 µs:');
  for (const r of rows) console.log(`  ${r.services}: direct ${cell(r.directP99Us)}, resolver ${cell(r.resolverP99Us)}, iptables ${cell(r.iptablesP99Us)}, nftables ${cell(r.nftablesP99Us)}, direct+iptables ${cell(r.directWithIptablesP99Us)}`);
  for (const r of rows) if (r.resolverNote) console.log(`  resolver at ${r.services}: ${r.resolverNote}`);
  console.log(`\nwritten: ${resultsPath}`);
}

try {
  await main();
} catch (e) {
  console.error(e.stack ?? e.message);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
