import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { IpvsClient } from '@balanced/ipvs';
import { createNetns, deleteNetns, execInNetns, TestApiServer } from '@balanced/testkit';
import { startController, type RunningController } from '../src/app.js';

// Inside the lab VM: the controller app's /metrics over HTTP, after real IPVS scheduled a
// connection — the kernel's counters, typed counter, named after the Service port and the pods
// of the EndpointSlice the controller already watches. The client runs in the test namespace.
const VIP = '10.96.0.10';
const PODS = [
  ['10.244.0.3', 'web-0'],
  ['10.244.0.7', 'web-1'],
] as const;

let server: TestApiServer;
let ns: string;
let ipvs: IpvsClient;
let running: RunningController | undefined;

beforeAll(async () => {
  server = await TestApiServer.start({ bookmarkIntervalMs: 500 });
  ns = await createNetns();
  ipvs = await IpvsClient.open({ netns: `/run/netns/${ns}` });
  const dir = mkdtempSync(join(tmpdir(), 'ctl-metrics-'));
  writeFileSync(join(dir, 'kubeconfig'), server.kubeconfigYaml());
  running = await startController(
    {
      kubeconfig: join(dir, 'kubeconfig'),
      vipCidrs: ['10.96.0.0/24'],
      vipInterface: 'balanced0',
      defaultClass: false,
      networking: 'host',
      netns: `/run/netns/${ns}`,
      resyncSeconds: 30,
      drainSeconds: 1,
      metricsHost: '127.0.0.1',
      metricsPort: 0,
      sysctls: true,
      notrack: false,
    },
    pino({ level: 'silent' }),
  );
});
afterAll(async () => {
  await running?.stop();
  ipvs?.close();
  if (ns) await deleteNetns(ns);
  await server?.stop();
});

test('/metrics: kernel counters as counters, with namespace, Service, port and pod labels', async () => {
  server.store.put('services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { type: 'LoadBalancer', loadBalancerClass: 'balanced.dev/ipvs', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80 }] },
    status: { loadBalancer: { ingress: [{ ip: VIP }] } },
  });
  server.store.put('endpointslices', {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
    endpoints: PODS.map(([address, pod]) => ({ addresses: [address], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: 'shop', name: pod } })),
  });
  const deadline = Date.now() + 60_000;
  while ((await ipvs.listDestinations({ protocol: 'tcp', address: VIP, port: 80 }).catch(() => [])).length < 2) {
    if (Date.now() > deadline) throw new Error('the Service was not programmed');
    await new Promise((r) => setTimeout(r, 200));
  }
  // One connection attempt from inside the test namespace: IPVS schedules it (and counts it)
  // and tunnels the SYN towards a pod address that goes nowhere. Its budget is generous: in
  // the emulated VM on a busy host, starting bash alone has taken longer than 2 s (CI saw no
  // connection at all). Then /metrics is read once the kernel shows the count: the app reads
  // the kernel's stats on a scrape at most every 10 s, so an early scrape would pin a 0.
  await execInNetns(ns, 'timeout', ['20', 'bash', '-c', `exec 3<>/dev/tcp/${VIP}/80`]).catch(() => undefined);
  const counted = Date.now() + 10_000;
  while (((await ipvs.listServices().catch(() => [])).find((v) => 'address' in v.key && v.key.address === VIP)?.stats?.connections ?? 0) < 1) {
    if (Date.now() > counted) throw new Error('IPVS did not count the connection attempt');
    await new Promise((r) => setTimeout(r, 200));
  }

  const text = await (await fetch(`${running!.health.url}/metrics`)).text();
  const svc = `virtual_service="tcp/${VIP}:80",namespace="shop",service="web",port="http"`;
  const sample = (name: string, labels: string): number => Number(new RegExp(`^${name}\\{${labels.replace(/[.[\]]/g, '\\$&')}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  for (const name of ['connections', 'packets_in', 'bytes_in', 'packets_out', 'bytes_out']) expect(text).toContain(`# TYPE balanced_ipvs_service_${name}_total counter`);
  for (const name of ['connections', 'packets_in', 'bytes_in']) expect(text).toContain(`# TYPE balanced_ipvs_destination_${name}_total counter`);
  expect(text).toContain('# TYPE balanced_ipvs_destination_weight gauge');
  expect(sample('balanced_ipvs_service_connections_total', svc)).toBe(1);
  expect(sample('balanced_ipvs_service_packets_in_total', svc)).toBeGreaterThanOrEqual(1);
  // Replies never pass a DSR director; ICMP errors about its connections do, and count as out:
  // here the tunnel's route to the pod address fails and the kernel answers the client with one.
  expect(sample('balanced_ipvs_service_packets_out_total', svc)).toBeGreaterThanOrEqual(0);
  const perPod = PODS.map(([address, pod]) => sample('balanced_ipvs_destination_connections_total', `${svc},destination="${address}:80",pod="${pod}"`));
  expect(perPod.sort()).toEqual([0, 1]);
  for (const [address, pod] of PODS) expect(sample('balanced_ipvs_destination_weight', `${svc},destination="${address}:80",pod="${pod}"`)).toBe(1);
});
