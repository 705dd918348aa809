// balanced demo: program the sample Services of example/services.yaml into real IPVS with
// our netlink client, send probe connections from a client namespace, print the table with
// its stats, and check every connection against the Maglev model of the kernel's `mh`.
// Runs inside the lab VM (Debian kernel with IPVS): `npm run demo`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { IpvsClient, ServiceFlags } from '@balanced/ipvs';
import { RouteClient } from '@balanced/netlink';
import { explain } from '@balanced/maglev';
import { parseIpvsConn } from '@balanced/testkit';

const here = dirname(fileURLToPath(import.meta.url));
if (!existsSync('/proc/net/ip_vs')) {
  console.error('This kernel has no IPVS. Run the demo through the lab VM: npm run demo');
  process.exit(2);
}

// ---- 1. Desired state from the sample objects (ipvs-controller's job, simplified) -------
const objects = parseAllDocuments(readFileSync(join(here, 'services.yaml'), 'utf8')).map((d) => d.toJS());
const slicesOf = (svc) =>
  objects.filter((o) => o.kind === 'EndpointSlice' && o.metadata.namespace === svc.metadata.namespace && o.metadata.labels?.['kubernetes.io/service-name'] === svc.metadata.name);
const flagBits = { 'mh-fallback': ServiceFlags.MH_FALLBACK, 'mh-port': ServiceFlags.MH_PORT };

const desired = [];
for (const svc of objects.filter((o) => o.kind === 'Service' && o.spec?.type === 'LoadBalancer')) {
  const a = svc.metadata.annotations ?? {};
  const scheduler = a['balanced.dev/scheduler'] ?? 'mh';
  const flagNames = (a['balanced.dev/scheduler-flags'] ?? 'mh-fallback').split(',').map((s) => s.trim()).filter(Boolean);
  const flags = scheduler === 'mh' ? flagNames.reduce((f, n) => f | (flagBits[n] ?? 0), 0) : 0;
  for (const ingress of svc.status?.loadBalancer?.ingress ?? []) {
    for (const port of svc.spec.ports) {
      const key = { protocol: port.protocol.toLowerCase(), address: ingress.ip, port: port.port };
      const destinations = [];
      for (const slice of slicesOf(svc)) {
        const slicePort = slice.ports.find((p) => p.name === port.name);
        if (!slicePort) continue;
        for (const ep of slice.endpoints) {
          for (const address of ep.addresses) {
            destinations.push({ address, port: slicePort.port, forwarding: 'tunnel', weight: ep.conditions?.ready === false ? 0 : 1 });
          }
        }
      }
      desired.push({ name: `${svc.metadata.namespace}/${svc.metadata.name}:${port.name}`, service: { key, scheduler, flags }, destinations });
    }
  }
}

// ---- 2. A director and a client namespace, joined by a veth -----------------------------
const sh = (...args) => execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const D = 'demo-director';
const K = 'demo-client';
for (const ns of [D, K]) {
  sh('ip', 'netns', 'add', ns);
  sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
}
sh('ip', 'link', 'add', 'demo-d', 'netns', D, 'type', 'veth', 'peer', 'name', 'demo-k', 'netns', K);
sh('ip', '-n', D, 'addr', 'add', '10.255.0.1/30', 'dev', 'demo-d');
sh('ip', '-n', K, 'addr', 'add', '10.255.0.2/30', 'dev', 'demo-k');
sh('ip', '-n', D, 'link', 'set', 'demo-d', 'up');
sh('ip', '-n', K, 'link', 'set', 'demo-k', 'up');
sh('ip', '-n', K, 'route', 'add', '10.96.100.0/24', 'via', '10.255.0.1');
sh('ip', '-n', D, 'route', 'add', '10.255.1.0/24', 'via', '10.255.0.2');
// Backends live on worker nodes in a real cluster; here tunnelled packets end in a blackhole.
sh('ip', '-n', D, 'route', 'add', 'blackhole', '10.244.0.0/16');

const CLIENTS = Array.from({ length: 200 }, (_, i) => `10.255.1.${i + 1}`);
const route = RouteClient.open({ netns: `/run/netns/${D}` });
const clientRoute = RouteClient.open({ netns: `/run/netns/${K}` });
await route.ensureLink({ name: 'balanced0', kind: 'dummy', up: true });
for (const vip of new Set(desired.map((d) => d.service.key.address))) await route.addAddress('balanced0', `${vip}/32`);
for (const c of CLIENTS) await clientRoute.addAddress('demo-k', `${c}/32`);
route.close();
clientRoute.close();

// ---- 3. Program IPVS in one pipelined batch ----------------------------------------------
const ipvs = await IpvsClient.open({ netns: `/run/netns/${D}` });
const info = await ipvs.info();
const ops = desired.flatMap((d) => [
  { op: 'add-service', service: d.service },
  ...d.destinations.map((destination) => ({ op: 'add-destination', service: d.service.key, destination })),
]);
const t0 = process.hrtime.bigint();
const results = await ipvs.apply(ops);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const failed = results.filter((r) => !r.ok);
for (const f of failed) console.error(`  failed: ${f.error.message}`);

// ---- 4. Probe traffic from the client namespace ------------------------------------------
const probe = `
const net = await import('node:net'); const dgram = await import('node:dgram');
const [clients, targets] = JSON.parse(process.argv[1]);
const jobs = [];
for (const t of targets) for (const c of clients) jobs.push([c, t]);
let next = 0;
async function worker() {
  while (next < jobs.length) {
    const [c, t] = jobs[next++];
    await new Promise((done) => {
      if (t.protocol === 'udp') {
        const s = dgram.createSocket('udp4');
        s.bind({ address: c }, () => s.send('hi', t.port, t.address, () => { s.close(); done(); }));
      } else {
        const s = net.connect({ host: t.address, port: t.port, localAddress: c });
        s.on('error', () => {});
        setTimeout(() => { s.destroy(); done(); }, 150);
      }
    });
  }
}
await Promise.all(Array.from({ length: 50 }, worker));
`;
const targets = desired.map((d) => d.service.key);
const probeRun = spawnSync('ip', ['netns', 'exec', K, process.execPath, '--input-type=module', '-e', probe, JSON.stringify([CLIENTS, targets])], { encoding: 'utf8' });
if (probeRun.status !== 0) console.error(probeRun.stderr);

// ---- 5. The table, its stats, and the model's verdict ------------------------------------
// IPVS folds its per-CPU counters into the stats every 2 s (the rate estimator's timer).
await new Promise((r) => setTimeout(r, 2500));
const table = await ipvs.dump();
const conns = parseIpvsConn(sh('ip', 'netns', 'exec', D, 'cat', '/proc/net/ip_vs_conn'));
const kernel = sh('uname', '-r').trim();
console.log(`\nbalanced demo - IPVS ${info.version} on Linux ${kernel} (lab VM)`);
console.log(`programmed ${desired.length} virtual services, ${ops.length - desired.length} destinations: ${ops.length} operations in one pipelined batch, ${ms.toFixed(1)} ms, ${failed.length} failed`);
console.log(`probed each service from ${CLIENTS.length} client addresses in a client namespace\n`);
console.log('Prot VIP:Port              Scheduler Flags                 Conns  InPkts');
console.log('  -> Destination:Port      Forward Weight ActiveConn InActConn  Conns  Model');
let predicted = 0;
let checked = 0;
for (const { service, destinations } of table) {
  const k = service.key;
  const flags = [service.flags & ServiceFlags.MH_FALLBACK && 'mh-fallback', service.flags & ServiceFlags.MH_PORT && 'mh-port'].filter(Boolean).join(',');
  const s = service.stats64 ?? service.stats;
  console.log(`${k.protocol.toUpperCase().padEnd(4)} ${`${k.address}:${k.port}`.padEnd(21)} ${service.scheduler.padEnd(9)} ${(flags || '-').padEnd(21)} ${String(s?.connections ?? 0).padStart(5)} ${String(s?.packetsIn ?? 0).padStart(7)}`);
  const model = {
    af: 'inet',
    schedulerFlags: { mhPort: (service.flags & ServiceFlags.MH_PORT) !== 0, mhFallback: (service.flags & ServiceFlags.MH_FALLBACK) !== 0 },
    destinations: destinations.map((d) => ({ address: d.address, port: d.port, weight: d.weight })),
  };
  const mine = conns.filter((c) => c.protocol.toLowerCase() === k.protocol && c.vip === k.address && c.vipPort === k.port);
  const modelCounts = new Map();
  let agree = 0;
  for (const c of mine) {
    const verdict = explain(model, c.client, c.clientPort);
    const addr = verdict?.destination.address;
    modelCounts.set(addr, (modelCounts.get(addr) ?? 0) + 1);
    if (addr === c.dest) agree++;
  }
  predicted += agree;
  checked += mine.length;
  for (const d of destinations) {
    const ds = d.stats64 ?? d.stats;
    console.log(
      `  -> ${`${d.address}:${d.port}`.padEnd(20)} ${(d.forwarding === 'tunnel' ? 'Tunnel' : d.forwarding).padEnd(7)} ${String(d.weight).padStart(6)} ${String(d.activeConnections).padStart(10)} ${String(d.inactiveConnections).padStart(9)} ${String(ds?.connections ?? 0).padStart(6)} ${String(modelCounts.get(d.address) ?? 0).padStart(6)}`,
    );
  }
}
console.log(`\nMaglev model (explain) predicted ${predicted} of ${checked} kernel scheduling decisions (${checked ? ((100 * predicted) / checked).toFixed(2) : '0'}%).`);
console.log('Weight-0 destinations are drained: mh-fallback sends their clients to the next choice.');
ipvs.close();
if (failed.length || checked === 0 || predicted !== checked) process.exit(1);
