// Program 5,000 services x 10 destinations into real IPVS three ways, each in a fresh
// network namespace of the same boot: our batched client, our client one request at a time,
// and `ipvsadm --restore` with the same content. Runs inside the lab VM:
//   npm run bench -w @balanced/ipvs
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IpvsClient, ServiceFlags } from '../dist/index.js';
import { NETLINK_GENERIC, NetlinkConnection, NetlinkSocket } from '@balanced/netlink';

const SERVICES = Number(process.env.BENCH_SERVICES ?? 5000);
const DESTS = Number(process.env.BENCH_DESTS ?? 10);
const repo = join(dirname(fileURLToPath(import.meta.url)), '../../..');

if (spawnSync('sh', ['-c', 'test -e /proc/net/ip_vs']).status !== 0) {
  console.error('no IPVS here: run through the lab (npm run bench -w @balanced/ipvs)');
  process.exit(2);
}

const ops = [];
const restore = [];
for (let i = 0; i < SERVICES; i++) {
  const vip = `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
  const key = { protocol: 'tcp', address: vip, port: 80 };
  ops.push({ op: 'add-service', service: { key, scheduler: 'mh', flags: ServiceFlags.MH_FALLBACK } });
  restore.push(`-A -t ${vip}:80 -s mh -b mh-fallback`);
  for (let d = 0; d < DESTS; d++) {
    const rip = `172.${16 + d}.${(i >> 8) & 255}.${i & 255}`;
    ops.push({ op: 'add-destination', service: key, destination: { address: rip, port: 80, forwarding: 'tunnel', weight: 1 } });
    restore.push(`-a -t ${vip}:80 -r ${rip}:80 -i -w 1`);
  }
}

function netns(name) {
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return `/run/netns/${name}`;
}

async function ours(name, oneAtATime) {
  const path = netns(name);
  const socket = NetlinkSocket.open(NETLINK_GENERIC, { netns: path });
  // One request per window: budget the whole receive buffer to each ack.
  const connection = new NetlinkConnection(socket, oneAtATime ? { ackBudgetBytes: socket.receiveBufferBytes } : {});
  const client = await IpvsClient.over(connection);
  const t0 = process.hrtime.bigint();
  const results = await client.apply(ops);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const failed = results.filter((r) => !r.ok).length;
  const services = (await client.listServices()).length;
  client.close();
  return { ms, failed, services };
}

function ipvsadm(name) {
  netns(name);
  const input = restore.join('\n') + '\n';
  const t0 = process.hrtime.bigint();
  const r = spawnSync('ip', ['netns', 'exec', name, 'ipvsadm', '--restore'], { input, maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const services = Number(execFileSync('sh', ['-c', `ip netns exec ${name} ipvsadm -Ln | grep -c '^TCP'`]).toString().trim());
  return { ms, failed: r.status === 0 ? 0 : 1, services, stderr: r.stderr.toString().slice(0, 500) };
}

// Startup cost of `ip netns exec` + ipvsadm itself, to show what is process overhead.
function ipvsadmStartup(name) {
  netns(name);
  const t0 = process.hrtime.bigint();
  spawnSync('ip', ['netns', 'exec', name, 'ipvsadm', '--restore'], { input: '' });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const batched = await ours('bench-ours', false);
const restored = ipvsadm('bench-ipvsadm');
const single = await ours('bench-single', true);
const startup = ipvsadmStartup('bench-empty');

const result = {
  bench: 'ipvs-program',
  when: new Date().toISOString(),
  environment: 'lab VM (QEMU TCG, Debian 6.1 kernel); absolute times are emulated, compare ratios',
  kernel: execFileSync('uname', ['-r']).toString().trim(),
  services: SERVICES,
  destinationsPerService: DESTS,
  operations: ops.length,
  oursBatched: batched,
  oursOneRequestPerAck: single,
  ipvsadmRestore: restored,
  ipvsadmStartupMs: startup,
  ratioIpvsadmOverOursBatched: restored.ms / batched.ms,
  ratioIpvsadmOverOursSingle: restored.ms / single.ms,
};
const rows = [
  ['our client, batched', batched.ms, batched.services, batched.failed],
  ['our client, one request per ack', single.ms, single.services, single.failed],
  ['ipvsadm --restore', restored.ms, restored.services, restored.failed],
];
console.log(`\nIPVS programming: ${SERVICES} services x ${DESTS} destinations = ${ops.length} operations (${result.kernel}, under TCG)`);
for (const [name, ms, services, failed] of rows) {
  console.log(`  ${name.padEnd(34)} ${ms.toFixed(0).padStart(8)} ms  ${(ops.length / (ms / 1000)).toFixed(0).padStart(8)} ops/s  services=${services} failed=${failed}`);
}
console.log(`  ipvsadm process startup (empty restore): ${startup.toFixed(0)} ms`);
console.log(`  ratio ipvsadm/ours (batched): ${result.ratioIpvsadmOverOursBatched.toFixed(2)}x   (one-per-ack): ${result.ratioIpvsadmOverOursSingle.toFixed(2)}x`);
mkdirSync(join(repo, 'bench/results'), { recursive: true });
writeFileSync(join(repo, 'bench/results/ipvs.json'), JSON.stringify(result, null, 2) + '\n');
if (batched.failed || restored.failed || single.failed || batched.services !== SERVICES || restored.services !== SERVICES) {
  console.error('bench: programming failed', JSON.stringify(result));
  process.exit(1);
}
