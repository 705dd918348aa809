// VM half of the controller bench (npm run bench -w @balanced/ipvs-controller runs it through
// the lab after controller.bench.mjs): the controller's operations for the initial sync of N
// Services × 10 destinations (mh + mh-fallback, IPIP tunnel) and for the change set, applied
// to real IPVS in a fresh network namespace with our client (one apply per controller pass,
// as the controller does), and the same operations with `ipvsadm --restore` in another fresh
// namespace of the same boot. 5,000 services, not 10,000: the lab VM has 1 GiB and every mh
// service holds a 4093-slot table (32 KiB) per namespace; two namespaces of 10,000 services
// ran it out of memory (measured). The VM runs under TCG, so absolute times are emulated: compare
// the ratio. The operations come from bench/.out/oplog.json, written by the host half (the
// controller's own plan(), checked there against what the live controller emitted); without
// it they are generated here.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IpvsClient, ServiceFlags } from '@balanced/ipvs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '../../..');

if (spawnSync('sh', ['-c', 'test -e /proc/net/ip_vs']).status !== 0) {
  console.error('no IPVS here: run through the lab (npm run bench -w @balanced/ipvs-controller)');
  process.exit(2);
}

const logPath = join(here, '.out', 'oplog.json');
let log;
if (existsSync(logPath)) {
  log = JSON.parse(readFileSync(logPath, 'utf8'));
} else {
  const { generateOpLog } = await import('./oplog.mjs');
  log = generateOpLog(Number(process.env.BALANCED_BENCH_VM_SERVICES ?? 5000), 10, 1000);
}
const initial = log.batches.filter((b) => b.phase === 'initial');
const changeBatches = log.batches.filter((b) => b.phase !== 'initial');
const count = (bs) => bs.reduce((n, b) => n + b.ops.length, 0);

// ---- ipvsadm --restore lines for the same operations -----------------------------------
const FWD = { tunnel: '-i', direct: '-g', masquerade: '-m' };
const svcArg = (k) => [{ tcp: '-t', udp: '-u', sctp: '--sctp-service' }[k.protocol], k.address.includes(':') ? `[${k.address}]:${k.port}` : `${k.address}:${k.port}`];
const rip = (d) => (d.address.includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`);
function schedFlags(flags = 0) {
  const names = [];
  if (flags & ServiceFlags.MH_FALLBACK) names.push('mh-fallback');
  if (flags & ServiceFlags.MH_PORT) names.push('mh-port');
  return names.length ? ['-b', names.join(',')] : [];
}
function restoreLine(o) {
  switch (o.op) {
    case 'add-service':
    case 'update-service':
      if ('fwmark' in o.service.key) throw new Error('fwmark services are not in this bench');
      return [o.op === 'add-service' ? '-A' : '-E', ...svcArg(o.service.key), '-s', o.service.scheduler, ...schedFlags(o.service.flags)].join(' ');
    case 'delete-service':
      return ['-D', ...svcArg(o.service)].join(' ');
    case 'add-destination':
    case 'update-destination':
      return [o.op === 'add-destination' ? '-a' : '-e', ...svcArg(o.service), '-r', rip(o.destination), FWD[o.destination.forwarding], '-w', o.destination.weight].join(' ');
    case 'delete-destination':
      return ['-d', ...svcArg(o.service), '-r', rip(o.destination)].join(' ');
  }
  throw new Error(`unknown op ${o.op}`);
}
const restoreText = (bs) => bs.flatMap((b) => b.ops.map(restoreLine)).join('\n') + '\n';

function netns(name) {
  spawnSync('ip', ['netns', 'del', name]);
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return `/run/netns/${name}`;
}
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const started = Date.now();
const progress = (text) => console.log(`  [${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);

async function ours(name) {
  const client = await IpvsClient.open({ netns: netns(name) });
  let t0 = process.hrtime.bigint();
  let failed = 0;
  for (const b of initial) failed += (await client.apply(b.ops)).filter((r) => !r.ok).length;
  const initialMs = ms(t0);
  t0 = process.hrtime.bigint();
  // One apply per controller pass, as the controller sends them.
  for (const b of changeBatches) failed += (await client.apply(b.ops)).filter((r) => !r.ok).length;
  const changesMs = ms(t0);
  client.close();
  return { initialMs, changesMs, failed };
}

function ipvsadm(name, text) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('ip', ['netns', 'exec', name, 'ipvsadm', '--restore'], { input: text, maxBuffer: 1 << 26 });
  return { ms: ms(t0), failed: r.status === 0 ? 0 : 1, stderr: r.stderr.toString().slice(0, 500) };
}

async function table(name) {
  const client = await IpvsClient.open({ netns: `/run/netns/${name}` });
  const t = await client.dump();
  client.close();
  return t;
}

progress(`${log.services} services, ${count(initial)} initial ops, ${changeBatches.length} change passes: our client ...`);
const ourSide = await ours('ctl-ours');
progress(`ours done (${ourSide.initialMs.toFixed(0)} + ${ourSide.changesMs.toFixed(0)} ms); ipvsadm --restore ...`);
netns('ctl-ipvsadm');
const admInitial = ipvsadm('ctl-ipvsadm', restoreText(initial));
const admChanges = ipvsadm('ctl-ipvsadm', restoreText(changeBatches));
progress(`ipvsadm done (${admInitial.ms.toFixed(0)} + ${admChanges.ms.toFixed(0)} ms); comparing tables ...`);
// Startup cost of `ip netns exec` + ipvsadm itself: what one restore per change would add.
netns('ctl-empty');
const t0 = process.hrtime.bigint();
spawnSync('ip', ['netns', 'exec', 'ctl-empty', 'ipvsadm', '--restore'], { input: '' });
const startupMs = ms(t0);

// Both namespaces must hold the same table, in the same destination order.
const a = await table('ctl-ours');
const b = await table('ctl-ipvsadm');
// Services sorted: the dump walks the kernel's service hash, whose bucket order depends on
// the namespace. Destinations in list order: that order is what mh builds its table from.
const shape = (t) =>
  t
    .map((s) => `${s.service.key.address}:${s.service.key.port} ${s.service.scheduler}/${s.service.flags}|` + s.destinations.map((d) => `${d.address}:${d.port}/${d.weight}/${d.forwarding}`).join(','))
    .sort()
    .join('\n');
const identical = shape(a) === shape(b);
if (!identical) {
  const la = shape(a).split('\n');
  const lb = shape(b).split('\n');
  const diff = la.map((l, i) => [l, lb[i]]).filter(([x, y]) => x !== y);
  console.log(`  tables differ on ${diff.length} services (ours ${la.length}, ipvsadm ${lb.length}); first:`);
  for (const [x, y] of diff.slice(0, 3)) console.log(`    ours    ${x}\n    ipvsadm ${y}`);
}
const destinations = a.reduce((n, s) => n + s.destinations.length, 0);

const result = {
  bench: 'ipvs-controller-vm',
  when: new Date().toISOString(),
  environment: 'lab VM (QEMU TCG, Debian kernel); absolute times are emulated, compare ratios',
  kernel: execFileSync('uname', ['-r']).toString().trim(),
  services: log.services,
  destinationsPerService: log.destinationsPerService,
  opLog: existsSync(logPath) ? 'bench/.out/oplog.json (host half)' : 'generated in the VM',
  initial: { operations: count(initial), oursMs: ourSide.initialMs, ipvsadmRestoreMs: admInitial.ms, ratioIpvsadmOverOurs: admInitial.ms / ourSide.initialMs },
  changes: {
    changes: log.changes,
    passes: changeBatches.length,
    operations: count(changeBatches),
    oursMs: ourSide.changesMs,
    oursPerPassMs: ourSide.changesMs / changeBatches.length,
    ipvsadmRestoreOneProcessMs: admChanges.ms,
    ratioIpvsadmOverOurs: admChanges.ms / ourSide.changesMs,
    ipvsadmOneProcessPerPassEstimateMs: admChanges.ms + startupMs * (changeBatches.length - 1),
  },
  ipvsadmStartupMs: startupMs,
  failed: { ours: ourSide.failed, ipvsadm: admInitial.failed + admChanges.failed, stderr: (admInitial.stderr + admChanges.stderr).trim() },
  finalTables: { identical, services: a.length, destinations },
};

const rate = (ops, t) => `${(ops / (t / 1000)).toFixed(0).padStart(7)} ops/s`;
console.log(`\nController operations into real IPVS (${result.kernel}, under TCG): ${log.services} services x ${log.destinationsPerService} destinations`);
console.log(`  initial sync, ${result.initial.operations} ops in one batch`);
console.log(`    our client (IpvsClient.apply)     ${ourSide.initialMs.toFixed(0).padStart(8)} ms  ${rate(result.initial.operations, ourSide.initialMs)}`);
console.log(`    ipvsadm --restore                 ${admInitial.ms.toFixed(0).padStart(8)} ms  ${rate(result.initial.operations, admInitial.ms)}`);
console.log(`    ratio ipvsadm/ours: ${result.initial.ratioIpvsadmOverOurs.toFixed(2)}x`);
console.log(`  change set: ${log.changes} EndpointSlice changes = ${changeBatches.length} controller passes, ${result.changes.operations} ops`);
console.log(`    our client, one apply per pass    ${ourSide.changesMs.toFixed(0).padStart(8)} ms  (${result.changes.oursPerPassMs.toFixed(2)} ms per pass)`);
console.log(`    ipvsadm --restore, one process    ${admChanges.ms.toFixed(0).padStart(8)} ms  (all changes at once: ipvsadm's best case)`);
console.log(`    ratio ipvsadm/ours: ${result.changes.ratioIpvsadmOverOurs.toFixed(2)}x; one ipvsadm process per pass would add ~${startupMs.toFixed(0)} ms each (~${(result.changes.ipvsadmOneProcessPerPassEstimateMs / 1000).toFixed(0)} s)`);
console.log(`  final tables identical (services, destination order, weights): ${identical} (${a.length} services, ${destinations} destinations)`);
mkdirSync(join(repo, 'bench/results'), { recursive: true });
writeFileSync(join(repo, 'bench/results/ipvs-controller-vm.json'), JSON.stringify(result, null, 2) + '\n');
if (ourSide.failed || admInitial.failed || admChanges.failed || !identical) {
  console.error('bench: programming failed', JSON.stringify(result.failed), `identical=${identical}`);
  process.exit(1);
}
