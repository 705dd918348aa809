import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { IpvsClient, type ServiceKey } from '@balanced/ipvs';
import { createNetns, deleteNetns, runChecked, TestApiServer } from '@balanced/testkit';
import { startController, type ControllerConfig, type RunningController } from '../src/app.js';
import { connect } from 'node:net';
import { parseControllerArgs } from '../src/options.js';

// Inside the lab VM: the controller app with the real client-node talking HTTP to the test
// API server (on the VM's loopback), programming real IPVS in a test namespace.
const VIP = '10.96.0.10';
const KEY: ServiceKey = { protocol: 'tcp', address: VIP, port: 80 };

let server: TestApiServer;
let ns: string;
let ipvs: IpvsClient;
let config: ControllerConfig;
let running: RunningController | undefined;

function service(name: string, ip: string, annotations: Record<string, string> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'shop', annotations },
    spec: { type: 'LoadBalancer', loadBalancerClass: 'balanced.dev/ipvs', selector: { app: name }, ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80 }] },
    status: { loadBalancer: { ingress: [{ ip }] } },
  };
}
function slice(name: string, service: string, endpoints: [string, boolean?, boolean?][]) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
    endpoints: endpoints.map(([address, ready = true, terminating = false]) => ({ addresses: [address], conditions: { ready, serving: true, terminating } })),
  };
}

async function eventually<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await probe();
  }
  return last;
}
const dests = async () => (await ipvs.listDestinations(KEY)).map((d) => `${d.address}:${d.weight}`);
const writes = async (r: RunningController) => {
  const text = await r.metrics.registry.metrics();
  return [...text.matchAll(/^balanced_ipvs_operations_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
};

beforeAll(async () => {
  server = await TestApiServer.start({ bookmarkIntervalMs: 500 });
  ns = await createNetns();
  ipvs = await IpvsClient.open({ netns: `/run/netns/${ns}` });
  const dir = mkdtempSync(join(tmpdir(), 'ctl-'));
  writeFileSync(join(dir, 'kubeconfig'), server.kubeconfigYaml());
  config = {
    kubeconfig: join(dir, 'kubeconfig'),
    vipCidrs: ['10.96.0.0/24'],
    vipInterface: 'balanced0',
    defaultClass: false,
    networking: 'host', // (host mode sets the sysctls; here the "host" is the test namespace)
    netns: `/run/netns/${ns}`,
    resyncSeconds: 30,
    drainSeconds: 1,
    metricsHost: parseControllerArgs(['--vip-cidr', '10.96.0.0/24']).config.metricsHost, // the default
    metricsPort: 0,
    sysctls: true,
    notrack: true,
  };
  running = await startController(config, pino({ level: 'silent' }));
});
afterAll(async () => {
  await running?.stop();
  ipvs?.close();
  if (ns) await deleteNetns(ns);
  await server?.stop();
});

describe('ipvs-controller ↔ test API server ↔ real IPVS', () => {
  test('a Service with endpoints is programmed: mh + mh-fallback, tunnel, director order, VIP on the dummy link', async () => {
    server.store.put('services', service('web', VIP));
    server.store.put('endpointslices', slice('web-1', 'web', [['10.244.0.7'], ['10.244.0.3']]));
    expect(await eventually('programming', dests, (d) => d.length === 2)).toEqual(['10.244.0.7:1', '10.244.0.3:1']);
    const svc = await ipvs.getService(KEY);
    expect(svc).toMatchObject({ scheduler: 'mh', flags: 0x8 });
    expect(await runChecked('ip', ['-n', ns, '-o', 'addr', 'show', 'dev', 'balanced0'])).toContain(`${VIP}/32`);
    expect(await runChecked('ip', ['netns', 'exec', ns, 'sysctl', '-n', 'net.ipv4.vs.sloppy_tcp'])).toBe('1\n');
    expect(await runChecked('ip', ['netns', 'exec', ns, 'iptables-save', '-t', 'raw'])).toContain('-A BALANCED-NOTRACK -d 10.96.0.0/24 -j CT --notrack');
    const ready = await fetch(`${running!.health.url}/readyz`);
    expect(ready.status).toBe(200);
  });

  test('scale up, a terminating endpoint drains to weight 0, a removed one goes', async () => {
    server.store.put('endpointslices', slice('web-1', 'web', [['10.244.0.7'], ['10.244.0.3', false, true], ['10.244.0.5']]));
    expect(await eventually('scale-up + drain', dests, (d) => d.length === 3 && d.includes('10.244.0.3:0'))).toEqual(['10.244.0.7:1', '10.244.0.5:1', '10.244.0.3:0']);
    server.store.put('endpointslices', slice('web-1', 'web', [['10.244.0.7'], ['10.244.0.5']]));
    expect(await eventually('removal', dests, (d) => d.length === 2)).toEqual(['10.244.0.7:1', '10.244.0.5:1']);
  });

  test('a malformed annotation gives a Warning Event and no crash; the live Service keeps working', async () => {
    server.store.put('services', service('bad', '10.96.0.20', { 'balanced.dev/scheduler': 'fastest' }));
    const events = await eventually('an Event', async () => server.store.list('events'), (e) => e.some((x) => (x as { involvedObject?: { name?: string } }).involvedObject?.name === 'bad'));
    const ev = events.find((x) => (x as { involvedObject?: { name?: string } }).involvedObject?.name === 'bad') as { reason?: string; type?: string; message?: string };
    expect(ev.type).toBe('Warning');
    expect(ev.message).toContain('fastest');
    expect((await ipvs.listServices()).map((s) => s.key)).toEqual([KEY]);
    // a typo on the live Service keeps its last good state
    server.store.put('services', service('web', VIP, { 'balanced.dev/scheduler': 'fastest' }));
    await new Promise((r) => setTimeout(r, 2000));
    expect(await dests()).toEqual(['10.244.0.7:1', '10.244.0.5:1']);
    server.store.put('services', service('web', VIP));
  });

  test('an API server restart and cut watches lose no update', async () => {
    await server.restart({ downtimeMs: 1000 });
    server.store.put('endpointslices', slice('web-1', 'web', [['10.244.0.7'], ['10.244.0.5'], ['10.244.0.9']]));
    await eventually('update after restart', dests, (d) => d.length === 3);
    server.cutWatches();
    server.store.put('endpointslices', slice('web-1', 'web', [['10.244.0.7'], ['10.244.0.5'], ['10.244.0.9'], ['10.244.0.1']]));
    expect(await eventually('update after cut', dests, (d) => d.length === 4)).toEqual(['10.244.0.9:1', '10.244.0.7:1', '10.244.0.5:1', '10.244.0.1:1']);
  });

  test('a controller restart makes zero IPVS writes when nothing changed', async () => {
    await running!.stop();
    const log: string[] = [];
    running = await startController(config, pino({ level: 'debug' }, { write: (line: string) => void log.push(line) }));
    await eventually('ready', async () => (await fetch(`${running!.health.url}/readyz`)).status, (s) => s === 200);
    // on failure, show what the restarted controller did and why
    expect({ writes: await writes(running), log: (await writes(running)) === 0 ? [] : log }).toEqual({ writes: 0, log: [] });
    expect(await dests()).toEqual(['10.244.0.9:1', '10.244.0.7:1', '10.244.0.5:1', '10.244.0.1:1']);
  });

  test('by default /metrics and the probes answer on loopback only, never on a VIP of this node', async () => {
    // Host networking: the VIPs sit on the same namespace as the controller. Put one on a
    // dummy link here (inside the lab VM), as the director's own VIP interface would.
    await runChecked('ip', ['link', 'add', 'vipcheck0', 'type', 'dummy']);
    try {
      await runChecked('ip', ['addr', 'add', `${VIP}/32`, 'dev', 'vipcheck0']);
      await runChecked('ip', ['link', 'set', 'vipcheck0', 'up']);
      const port = Number(new URL(running!.health.url).port);
      const attempt = (host: string) =>
        new Promise<string>((resolve) => {
          const s = connect({ host, port }, () => (s.destroy(), resolve('connected')));
          s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        });
      expect(await attempt('127.0.0.1')).toBe('connected');
      expect(await attempt(VIP)).toBe('ECONNREFUSED');
    } finally {
      await runChecked('ip', ['link', 'del', 'vipcheck0']);
    }
  });

  test('a wildcard or VIP metrics address is refused at start', async () => {
    for (const host of ['0.0.0.0', '::', VIP]) await expect(startController({ ...config, metricsHost: host }, pino({ level: 'silent' }))).rejects.toThrow(/--metrics-host/);
  });

  test('loadBalancerSourceRanges become an nftables rule before IPVS; a malformed range is a Warning Event and closes the VIP', async () => {
    const nft = () => runChecked('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'balanced_source_ranges']).catch(() => '');
    const web = service('web', VIP);
    server.store.put('services', { ...web, spec: { ...web.spec, loadBalancerSourceRanges: ['10.100.1.7/24'] } });
    const table = await eventually('the source-range rule', nft, (t) => t.includes('@allow_0'));
    expect(table).toContain('10.100.1.0/24');
    expect(table).toMatch(new RegExp(`ip daddr ${VIP.replace(/\./g, '\\.')} .*dport 80 ip saddr != @allow_0 counter packets \\d+ bytes \\d+ drop comment "tcp/${VIP}:80"`));
    server.store.put('services', { ...web, spec: { ...web.spec, loadBalancerSourceRanges: ['bogus'] } });
    const events = await eventually('an Event', async () => server.store.list('events'), (e) => e.some((x) => (x as { reason?: string }).reason === 'InvalidSourceRange'));
    expect((events.find((x) => (x as { reason?: string }).reason === 'InvalidSourceRange') as { message?: string }).message).toContain('"bogus"');
    expect(await eventually('closed VIP', nft, (t) => t.includes('@allow_0') && !t.includes('10.100.1.0/24'))).toContain('auto-merge');
    server.store.put('services', web);
    expect(await eventually('no rule', nft, (t) => !t.includes('@allow_0'))).toContain('chain prerouting');
    expect(await dests()).toEqual(['10.244.0.9:1', '10.244.0.7:1', '10.244.0.5:1', '10.244.0.1:1']);
  });

  test('deleting the Service drains and removes it from IPVS and the VIP from the link', async () => {
    server.store.delete('services', 'web', 'shop');
    await eventually('service gone', async () => (await ipvs.listServices()).length, (n) => n === 0);
    expect(await runChecked('ip', ['-n', ns, '-o', 'addr', 'show', 'dev', 'balanced0'])).not.toContain(VIP);
  });
});
