// Cost of one /metrics scrape of a director (docs/metrics.md, "Series count"): a synthetic
// kernel table of S Services × 1 port × E endpoints with realistic names, named through a
// DesiredIndex holding the matching Services and EndpointSlices, scraped three times with and
// without per-destination series. Prints CPU and wall time per scrape, kernel series and text
// size. Build first (npx tsc -b packages/ipvs-controller/tsconfig.build.json).
//   node --expose-gc packages/ipvs-controller/bench/metrics-scrape.bench.mjs [S=10000] [E=10]
import { ControllerMetrics, DesiredIndex, desiredNames } from '../dist/index.js';

const S = Number(process.argv[2] ?? 10_000);
const E = Number(process.argv[3] ?? 10);
const stats = (n) => ({ connections: n, packetsIn: n * 10, packetsOut: 0, bytesIn: n * 1500, bytesOut: 0, connectionsPerSecond: 0, packetsInPerSecond: 0, packetsOutPerSecond: 0, bytesInPerSecond: 0, bytesOutPerSecond: 0 });
const services = [];
const slices = [];
const table = [];
for (let s = 0; s < S; s++) {
  const vip = `10.96.${s >> 8}.${s & 255}`;
  const namespace = `team-${s % 50}`;
  const name = `svc-${s}`;
  services.push({
    metadata: { namespace, name, uid: `u${s}`, creationTimestamp: new Date(0) },
    spec: { type: 'LoadBalancer', loadBalancerClass: 'balanced.dev/ipvs', ports: [{ name: 'http', protocol: 'TCP', port: 80 }] },
    status: { loadBalancer: { ingress: [{ ip: vip }] } },
  });
  const endpoints = [];
  const destinations = [];
  for (let e = 0; e < E; e++) {
    const i = s * E + e;
    const ip = `10.${128 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    endpoints.push({ addresses: [ip], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace, name: `${name}-7d9f8b6c5-${String(e).padStart(5, 'x')}` } });
    destinations.push({ address: ip, port: 80, family: 'inet', forwarding: 'tunnel', weight: 1, upperThreshold: 0, lowerThreshold: 0, activeConnections: e, inactiveConnections: 0, persistentConnections: 0, stats: stats(e), stats64: stats(e) });
  }
  slices.push({ metadata: { namespace, name: `${name}-abc`, labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4', ports: [{ name: 'http', protocol: 'TCP', port: 80 }], endpoints });
  table.push({ service: { key: { protocol: 'tcp', address: vip, port: 80 }, family: 'inet', scheduler: 'mh', flags: 0, timeout: 0, netmask: 0, stats: stats(s), stats64: stats(s) }, destinations });
}
const index = new DesiredIndex({ cluster: { services: () => services, endpointSlices: () => slices, pods: () => [] }, ownsVip: () => true, defaultClass: false, defaultDrainSeconds: 30 });
for (const kind of ['services', 'endpointslices', 'pods']) index.observe(kind);
index.snapshot();

const results = [];
for (const perDestination of [true, false]) {
  const metrics = new ControllerMetrics({ perDestination });
  metrics.nameWith(desiredNames((id) => index.owner(id)));
  metrics.readKernelOnScrape(async () => table, 0); // every scrape reads (and names) the table
  for (let round = 0; round < 3; round++) {
    globalThis.gc?.();
    const wall = performance.now();
    const cpu = process.cpuUsage();
    const text = await metrics.registry.metrics();
    const used = process.cpuUsage(cpu);
    const series = text.split('\n').filter((l) => /^balanced_ipvs_(service|destination|source_range)_/.test(l)).length;
    results.push({ services: S, endpoints: E, perDestination, round, cpuMs: Math.round((used.user + used.system) / 1000), wallMs: Math.round(performance.now() - wall), series, textMB: +(text.length / 1e6).toFixed(1) });
  }
}
process.stdout.write(`${JSON.stringify(results, null, 1)}\n`);
