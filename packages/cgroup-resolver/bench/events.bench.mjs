// Cost of resolution events: connect rate through the cgroup resolver with events off, on
// (ring buffer → reader → pino JSON lines to /dev/null) and on (log + a Redis stream), in one
// run, interleaved; and the Redis stream's write throughput (entries/s) at the default cap.
// The C client (native.mjs) connects sequentially from a test-made cgroup inside a test-made
// netns to a Service address the resolver rewrites to an echo server in that netns; the
// events reader runs in this process as it runs in the agent. redis-server is started here on
// a unix socket in a temporary folder. Writes bench/results/resolver-events.json.
//
// The machine is shared and busy: each round measures the three modes back to back (order
// rotated per round), and the overhead is the median over rounds of each round's own ratio.
//
// Env: BENCH_COUNT=10000 (connects per measurement)  BENCH_REPEAT=9 (rounds)
//      BENCH_REDIS_ENTRIES=200000 (entries in the stream throughput run)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
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
  runChecked,
} from '@balanced/testkit';
import { buildNative, parseClientOutput } from './native.mjs';
import { BACKEND_PORT, SERVICE_PORT, desiredState, serviceVip } from './rules.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const pkgRoot = resolve(here, '..');
const repoRoot = resolve(pkgRoot, '..', '..');
const resultsPath = join(repoRoot, 'bench', 'results', 'resolver-events.json');
const dist = (p) => join(pkgRoot, 'dist', p);

const envInt = (name, dflt) => (process.env[name] ? Number.parseInt(process.env[name], 10) : dflt);
const COUNT = envInt('BENCH_COUNT', 10_000);
const REPEAT = envInt('BENCH_REPEAT', 9);
const REDIS_ENTRIES = envInt('BENCH_REDIS_ENTRIES', 200_000);
const WARMUP = 500;
const BACKENDS = ['10.200.0.1', '10.200.0.2'];
const CLIENT_ADDRESS = '10.200.0.100';

if (process.getuid?.() !== 0) {
  console.error('events bench: needs root (network namespaces, cgroups, BPF)');
  process.exit(1);
}
for (const p of ['events/index.js', 'loader/resolver-programs.js', 'maps/resolver-maps.js', 'plan/index.js', 'bpf/resolver.bpf.o']) {
  if (!existsSync(dist(p))) {
    console.error(`events bench: ${dist(p)} missing: build the package (npx tsc -b packages/cgroup-resolver/tsconfig.build.json && npm run build:bpf -w @balanced/cgroup-resolver)`);
    process.exit(1);
  }
}
const { startEvents, RedisStreamSink, recordFields, DEFAULT_EVENTS_STREAM_MAXLEN } = await import(dist('events/index.js'));
const { ResolverPrograms, hostNetnsCookie } = await import(dist('loader/resolver-programs.js'));
const { ResolverMaps } = await import(dist('maps/resolver-maps.js'));
const { planMaps } = await import(dist('plan/index.js'));

// ---- cleanup: LIFO, always (also on SIGINT/SIGTERM) ----
const cleanups = [];
const defer = (fn) => cleanups.push(fn);
async function cleanupAll() {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()();
    } catch (e) {
      console.error(`cleanup: ${e.message}`);
    }
  }
}
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => void cleanupAll().finally(() => process.exit(130)));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'balanced-bench-redis-'));
  const socket = join(dir, 'redis.sock');
  const pidfile = join(dir, 'redis.pid');
  const child = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--daemonize', 'yes', '--pidfile', pidfile, '--dir', dir, '--logfile', join(dir, 'redis.log')], { stdio: 'ignore' });
  const code = await new Promise((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`redis-server exited ${code} (apt-get install redis-server)`);
  for (let i = 0; !existsSync(socket) || !existsSync(pidfile); i++) {
    if (i > 1000) throw new Error('redis-server did not start');
    await sleep(10);
  }
  const pid = Number(readFileSync(pidfile, 'utf8').trim());
  defer(async () => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return `unix://${socket}`;
}

async function benchNetns(native) {
  const ns = await createNetns();
  defer(() => deleteNetns(ns));
  await addLocalAddresses(ns, [...BACKENDS, CLIENT_ADDRESS]);
  await runChecked('ip', ['-n', ns, 'route', 'add', '10.96.0.0/16', 'dev', 'lo', 'src', CLIENT_ADDRESS]);
  const server = spawn('ip', ['netns', 'exec', ns, native.server, String(BACKEND_PORT)], { stdio: ['ignore', 'pipe', 'pipe'] });
  defer(async () => {
    if (server.exitCode === null && server.signalCode === null) {
      const gone = new Promise((r) => server.once('exit', r));
      server.kill('SIGKILL');
      await gone;
    }
  });
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('echo server did not start')), 10_000);
    server.stdout.on('data', (d) => d.toString().includes('ready') && (clearTimeout(timer), ok()));
    server.once('exit', (c) => fail(new Error(`echo server exited ${c}`)));
  });
  return ns;
}

async function connectRate(native, ns, cgroup, vip) {
  const r = await execInCgroupNetns(cgroup, ns, native.client, [vip, String(SERVICE_PORT), String(COUNT), '0', String(WARMUP)], { timeoutMs: 600_000 });
  const out = parseClientOutput(r.stdout);
  if (r.code !== 0 || out.errors > 0) throw new Error(`client: exit ${r.code}, ${out.errors} errors (${out.lastError}) ${r.stderr.slice(-300)}`);
  return (out.latUs.length / out.totalNs) * 1e9;
}

async function main() {
  await ensureBpffs();
  const native = await buildNative();
  defer(native.cleanup);
  const redisUrl = await startRedis();
  const ns = await benchNetns(native);
  const cgroup = await createTestCgroup('balanced-bench-events');
  const pinRoot = await createTestPinRoot('balanced-bench-events');
  let maps;
  defer(async () => {
    maps?.close();
    try {
      ResolverPrograms.detach(pinRoot);
    } finally {
      await removeTestPinRoot(pinRoot);
      await removeTestCgroup(cgroup);
    }
  });
  ResolverPrograms.attach({ pinRoot, cgroupPath: cgroup }).close();
  maps = ResolverMaps.open(pinRoot);
  const config = (events) => maps.writeConfig({ hostNetnsCookie: hostNetnsCookie(), hostNetnsOnly: false, events });
  config(false);
  const desired = desiredState(1, BACKENDS.length, BACKENDS);
  const plan = planMaps(desired, maps.dump());
  maps.apply(plan);
  const vip = serviceVip(0);

  const metrics = { resolution() {}, eventsLost() {}, logSuppressed() {}, redisWritten() {}, redisDropped() {}, redisConnected() {} };
  const devnull = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));

  const runs = { off: [], log: [], redis: [] };
  const handled = { log: 0, redis: 0 };
  // CPU time this process (the reader, as in the agent) spends per event: independent of how
  // busy the shared machine is, unlike the connect rates.
  const cpuUs = { log: 0, redis: 0 };
  let ringLost = 0;
  let e2eRedis = { entries: 0, ms: 0 };
  for (let round = 0; round < REPEAT; round++) {
    const modes = ['off', 'log', 'redis'];
    for (const mode of [...modes.slice(round % 3), ...modes.slice(0, round % 3)]) {
      let events;
      if (mode !== 'off') {
        let written = 0;
        events = startEvents(
          { log: { sample: 1, perSecond: 1e9 }, ...(mode === 'redis' ? { redis: { url: redisUrl, stream: 'bench:events', maxLen: DEFAULT_EVENTS_STREAM_MAXLEN, queueLimit: 10_000 } } : {}) },
          { ringFd: maps.fd('bd_events'), cgroupRoot: cgroup, metrics: { ...metrics, redisWritten: (n) => (written += n) }, log: devnull },
        );
        events.services.learn(plan);
        if (mode === 'redis') while (!events.redis.connected) await sleep(10);
        config(true);
        const lostBefore = maps.counters().eventsDropped;
        const handledBefore = events.pipeline.handled;
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        runs[mode].push(await connectRate(native, ns, cgroup, vip));
        config(false);
        await sleep(300); // the reader's last wake-up
        await events.pipeline.idle();
        if (mode === 'redis') {
          while (events.redis.pending > 0) await sleep(5);
          e2eRedis = { entries: e2eRedis.entries + written, ms: e2eRedis.ms + (performance.now() - t0) };
        }
        const cpu = process.cpuUsage(cpu0);
        cpuUs[mode] += cpu.user + cpu.system;
        handled[mode] += events.pipeline.handled - handledBefore;
        ringLost += Number(maps.counters().eventsDropped - lostBefore);
        await events.close();
      } else {
        runs.off.push(await connectRate(native, ns, cgroup, vip));
      }
      console.error(`  round ${round + 1} ${mode.padEnd(5)} ${Math.round(runs[mode].at(-1))} connects/s`);
    }
  }

  // Redis stream throughput at the default cap: the sink alone, entries shaped like real ones.
  const sample = recordFields({
    time: Date.now(), hook: 'connect4', result: 'resolved', protocol: 'TCP', kind: 'service', frontend: '10.96.0.10:80', backend: '10.244.1.1:8080',
    service: 'shop/web:http/TCP IPv4', object: 'shop/web', client: { kind: 'pod', namespace: 'shop', pod: 'checkout-7d4f9', container: 'app', podUid: '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0' },
    comm: 'checkout', cgroupId: 12345n, netnsCookie: 4096n, socketCookie: 1n,
  });
  let written = 0;
  let dropped = 0;
  const sink = new RedisStreamSink({ url: redisUrl, stream: 'bench:throughput', maxLen: DEFAULT_EVENTS_STREAM_MAXLEN, queueLimit: REDIS_ENTRIES, onWritten: (n) => (written += n), onDropped: (n) => (dropped += n) });
  while (!sink.connected) await sleep(10);
  const t0 = performance.now();
  for (let i = 0; i < REDIS_ENTRIES; i++) sink.push(sample);
  while (written + dropped < REDIS_ENTRIES) await sleep(5);
  const redisMs = performance.now() - t0;
  await sink.close();
  if (dropped > 0) throw new Error(`${dropped} entries dropped in the throughput run`);

  const off = median(runs.off);
  const log = median(runs.log);
  const red = median(runs.redis);
  const paired = (mode) => median(runs[mode].map((x, i) => 1 - x / runs.off[i]));
  const round3 = (x) => Math.round(x * 1000) / 1000;
  const result = {
    connectsPerSecOff: Math.round(off),
    connectsPerSecLog: Math.round(log),
    connectsPerSecRedis: Math.round(red),
    eventsOverhead: round3(paired('redis')),
    logOverhead: round3(paired('log')),
    eventsOverheadOfMedians: round3(1 - red / off),
    redisEntriesPerSec: Math.round((REDIS_ENTRIES / redisMs) * 1000),
    redisEntriesPerSecDuringConnects: e2eRedis.ms > 0 ? Math.round((e2eRedis.entries / e2eRedis.ms) * 1000) : null,
    streamCap: DEFAULT_EVENTS_STREAM_MAXLEN,
    eventsHandled: handled,
    readerCpuUsPerEvent: Object.fromEntries(Object.entries(cpuUs).map(([k, us]) => [k, handled[k] > 0 ? Math.round((us / handled[k]) * 10) / 10 : null])),
    eventsRingLost: ringLost,
    runs: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.map(Math.round)])),
    connectsPerRun: COUNT,
    rounds: REPEAT,
    goal: 'eventsOverhead <= 0.10',
    machine: { cpus: cpus().length, kernel: release(), node: process.version },
    note: 'Connect+close rate of one sequential C client (SO_LINGER 0) through the resolver; the events reader (koffi: epoll_wait on a libuv worker, ring_buffer__consume on the main thread) runs in the bench process as in the agent; rates are medians over rounds; eventsOverhead/logOverhead are medians of each round own 1 - mode/off (the three modes of a round run back to back, order rotated). Shared 2-core machine under load from other jobs: the connect rates swing between rounds; readerCpuUsPerEvent (CPU of the reader process per event, log = every event logged, redis = every event logged and streamed) is the steadier cost figure.',
    date: new Date().toISOString(),
  };
  await mkdir(dirname(resultsPath), { recursive: true });
  await writeFile(resultsPath, `${JSON.stringify(result, null, 2)}\n`);
  console.error(JSON.stringify(result, null, 2));
}

try {
  await main();
} catch (e) {
  console.error(e.stack ?? e.message);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
