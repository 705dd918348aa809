import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createNetns, createVethPair, deleteNetns, execInNetns, runChecked, TestApiServer, uniqueName } from '@balanced/testkit';
import { startEndpointController, type EndpointControllerConfig, type RunningEndpointController } from '../src/index.js';
import type { PodNetnsResolver } from '../src/netns/resolver.js';
import { pod, service, slice } from './fixtures.js';

// Inside the lab VM (Debian 6.1 kernel: ipip/tunl0, nf_tables, xt_TCPMSS): the controller app,
// in process, against the test API server over HTTP, programming real pod namespaces found
// through an injected resolver (uid → /run/netns/<name>; the CRI and /proc resolvers have
// their own tests). "node" plays the node and, for the traffic check, a director and client.
const NODE = 'node-a';
const VIP1 = '10.96.0.10';
const VIP2 = '10.96.0.11';
const VIP_API = '10.96.0.20';

interface PodNs {
  ns: string;
  ip: string;
  podIf: string;
  nodeIf: string;
}

let server: TestApiServer;
let nodeNs: string;
const pods: Record<string, PodNs> = {};
const uidToNs = new Map<string, string>();
const asked: string[] = [];
const spawned: ChildProcess[] = [];
let config: EndpointControllerConfig;
let running: RunningEndpointController | undefined;
const threadNetns = readlinkSync('/proc/thread-self/ns/net');

const resolver: PodNetnsResolver = {
  name: 'test map',
  resolve: async (p) => {
    asked.push(p.uid);
    const ns = uidToNs.get(p.uid);
    return ns !== undefined && existsSync(`/run/netns/${ns}`) ? `/run/netns/${ns}` : null;
  },
};

async function podNetns(key: string, index: number, mtu = 1500): Promise<PodNs> {
  const ns = await createNetns(uniqueName('ecp'));
  const ip = `10.244.${index}.2`;
  const pair = await createVethPair({ netns: ns, address: `${ip}/24` }, { netns: nodeNs, address: `10.244.${index}.1/24` });
  if (mtu !== 1500) await runChecked('ip', ['-n', ns, 'link', 'set', pair.a.name, 'mtu', String(mtu)]);
  await runChecked('ip', ['-n', ns, 'route', 'add', 'default', 'via', `10.244.${index}.1`]);
  const p = { ns, ip, podIf: pair.a.name, nodeIf: pair.b.name };
  pods[key] = p;
  return p;
}

const sh = async (ns: string, cmd: string, ...args: string[]) => (await execInNetns(ns, cmd, args)).stdout;
async function tunnel(ns: string): Promise<{ up: boolean; mtu: number; addrs: string[] } | undefined> {
  const links = JSON.parse(await runChecked('ip', ['-n', ns, '-j', 'link', 'show'])) as { ifname: string; mtu: number; flags: string[] }[];
  const t = links.find((l) => l.ifname === 'tunl0');
  if (t === undefined) return undefined;
  const addrs = JSON.parse(await runChecked('ip', ['-n', ns, '-j', '-4', 'addr', 'show', 'dev', 'tunl0'])) as { addr_info: { local: string; prefixlen: number }[] }[];
  return { up: t.flags.includes('UP'), mtu: t.mtu, addrs: (addrs[0]?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`).sort() };
}
const rpFilter = (ns: string) => sh(ns, 'cat', '/proc/sys/net/ipv4/conf/tunl0/rp_filter').then((s) => s.trim());
const mangle = async (ns: string) => (await sh(ns, 'iptables-save', '-t', 'mangle')).split('\n').filter((l) => l.includes('BALANCED-MSS'));
const metric = async (name: string): Promise<number> => {
  const text = await running!.metrics.registry.metrics();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
};

interface RecordedEvent {
  involvedObject: { name: string; uid?: string };
  type: string;
  reason: string;
  message: string;
  count: number;
}
const events = (): RecordedEvent[] => server.store.list('events') as unknown as RecordedEvent[];

async function eventually<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
    last = await probe();
  }
  return last;
}
/** Wait for `n` more completed passes (each one started after this call). */
async function passes(n: number): Promise<void> {
  const start = await metric('balanced_endpoint_passes_total');
  for (let i = 0; i < n; i++) {
    running!.controller.markDirty();
    const target = start + i + 1;
    await eventually('a pass', () => metric('balanced_endpoint_passes_total'), (v) => v >= target);
  }
}

function putWorld(): void {
  server.store.put('pods', pod('web-0', 'u-web0', pods['web0']!.ip));
  server.store.put('pods', pod('web-1', 'u-web1', pods['web1']!.ip));
  server.store.put('pods', pod('api-0', 'u-api0', pods['api0']!.ip));
  server.store.put('pods', pod('quiet-0', 'u-quiet', pods['quiet']!.ip, { annotations: { 'balanced.dev/tunnel-ignore': 'true' } }));
  server.store.put('pods', pod('hostnet-0', 'u-host', '192.168.50.1', { hostNetwork: true }));
  server.store.put('pods', pod('web-9', 'u-web9', '10.244.90.2', { node: 'node-b' }));
  server.store.put('services', service('web', [VIP1, VIP2]));
  server.store.put('services', service('api', [VIP_API]));
  server.store.put('services', service('ext', ['192.0.2.50']));
  server.store.put(
    'endpointslices',
    slice('web-a', 'web', [
      { address: pods['web0']!.ip, pod: 'web-0', uid: 'u-web0' },
      { address: pods['web1']!.ip, pod: 'web-1', uid: 'u-web1' },
      { address: pods['quiet']!.ip, pod: 'quiet-0', uid: 'u-quiet' },
      { address: '192.168.50.1', pod: 'hostnet-0', uid: 'u-host' },
      { address: '10.244.90.2', pod: 'web-9', uid: 'u-web9' },
    ]),
  );
  server.store.put('endpointslices', slice('api-a', 'api', [{ address: pods['api0']!.ip, pod: 'api-0', uid: 'u-api0', ready: false, serving: true, terminating: true }]));
  server.store.put('endpointslices', slice('ext-a', 'ext', [{ address: pods['web0']!.ip, pod: 'web-0', uid: 'u-web0' }]));
}

beforeAll(async () => {
  server = await TestApiServer.start({ bookmarkIntervalMs: 500 });
  nodeNs = await createNetns(uniqueName('ecn'));
  await podNetns('web0', 1, 1400);
  await podNetns('web1', 2);
  // A namespace without the fallback tunl0 (created while the node keeps fallback tunnels to
  // itself): the controller must create the device.
  const fb = '/proc/sys/net/core/fb_tunnels_only_for_init_net';
  writeFileSync(fb, '1\n');
  try {
    await podNetns('api0', 3);
  } finally {
    writeFileSync(fb, '0\n');
  }
  await podNetns('quiet', 4);
  uidToNs.set('u-web0', pods['web0']!.ns).set('u-web1', pods['web1']!.ns).set('u-api0', pods['api0']!.ns).set('u-quiet', pods['quiet']!.ns);

  // Leftovers in web-0: an owned stale VIP (must go) and a foreign address (must stay);
  // strict rp_filter for the whole namespace (tunl0's loose setting must win).
  const w = pods['web0']!.ns;
  await runChecked('ip', ['-n', w, 'addr', 'add', '10.96.0.99/32', 'dev', 'tunl0']);
  await runChecked('ip', ['-n', w, 'addr', 'add', '192.0.2.99/32', 'dev', 'tunl0']);
  await sh(w, 'sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=1');

  const dir = mkdtempSync(join(tmpdir(), 'ec-'));
  writeFileSync(join(dir, 'kubeconfig'), server.kubeconfigYaml());
  config = {
    kubeconfig: join(dir, 'kubeconfig'),
    nodeName: NODE,
    vipCidrs: ['10.96.0.0/24'],
    defaultClass: false,
    criSockets: [],
    procScan: false,
    procRoot: '/proc',
    resyncSeconds: 600,
    metricsHost: '127.0.0.1',
    metricsPort: 0,
    resolver,
  };
  putWorld();
  running = await startEndpointController(config, pino({ level: 'silent' }));
});

afterAll(async () => {
  await running?.stop();
  for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const p of Object.values(pods)) await deleteNetns(p.ns);
  if (nodeNs) await deleteNetns(nodeNs);
  await server?.stop();
});

describe('endpoint-controller in real pod namespaces', () => {
  test('backends get their VIPs on tunl0 (up, MTU - 20, loose rp_filter, MSS clamp); nothing else is touched', async () => {
    const web0 = await eventually('web-0 programmed', () => tunnel(pods['web0']!.ns), (t) => t?.addrs.length === 3 && t.up);
    expect(web0).toEqual({ up: true, mtu: 1380, addrs: ['10.96.0.10/32', '10.96.0.11/32', '192.0.2.99/32'] });
    expect(await rpFilter(pods['web0']!.ns)).toBe('2');
    expect(await mangle(pods['web0']!.ns)).toEqual([
      ':BALANCED-MSS - [0:0]',
      '-A OUTPUT -j BALANCED-MSS',
      '-A BALANCED-MSS -s 10.96.0.10/32 -p tcp -m tcp --tcp-flags SYN,RST,ACK SYN,ACK -j TCPMSS --set-mss 1340',
      '-A BALANCED-MSS -s 10.96.0.11/32 -p tcp -m tcp --tcp-flags SYN,RST,ACK SYN,ACK -j TCPMSS --set-mss 1340',
    ]);
    expect(await eventually('web-1 programmed', () => tunnel(pods['web1']!.ns), (t) => t?.addrs.length === 2)).toEqual({ up: true, mtu: 1480, addrs: ['10.96.0.10/32', '10.96.0.11/32'] });
    // a terminating (still serving) backend, in a namespace that had no tunl0
    expect(await eventually('api-0 programmed', () => tunnel(pods['api0']!.ns), (t) => t?.addrs.length === 1)).toEqual({ up: true, mtu: 1480, addrs: ['10.96.0.20/32'] });
    expect(await rpFilter(pods['api0']!.ns)).toBe('2');
    // opted out: untouched; hostNetwork: never even looked up
    expect(await tunnel(pods['quiet']!.ns)).toEqual({ up: false, mtu: 1480, addrs: [] });
    expect(await mangle(pods['quiet']!.ns)).toEqual([]);
    expect(asked).not.toContain('u-quiet');
    expect(asked).not.toContain('u-host');
    expect(asked).not.toContain('u-web9');

    const web0Events = events().filter((e) => e.involvedObject.name === 'web-0');
    expect(web0Events.map((e) => [e.type, e.reason])).toEqual([['Normal', 'TunnelConfigured']]);
    expect(web0Events[0]?.message).toContain('added VIPs 10.96.0.10/32, 10.96.0.11/32; removed VIP 10.96.0.99/32');
    expect(web0Events[0]?.involvedObject.uid).toBe('u-web0');
    expect((await fetch(`${running!.health.url}/readyz`)).status).toBe(200);
    expect(await metric('balanced_endpoint_pods_programmed')).toBe(3);
    expect(await metric('balanced_endpoint_vips_configured')).toBe(5);
    expect(await metric('balanced_endpoint_pods_skipped')).toBe(2);
    expect(await metric('balanced_endpoint_errors_total')).toBe(0);
    // this thread never stayed in a pod namespace
    expect(readlinkSync('/proc/thread-self/ns/net')).toBe(threadNetns);
  });

  test('an IPIP-encapsulated SYN to the VIP is accepted despite strict rp_filter, and the SYN-ACK carries the clamped MSS', async () => {
    const web0 = pods['web0']!;
    // "node" acts as director and client: IPIP to the pod IP, client address on the veth.
    await runChecked('ip', ['-n', nodeNs, 'link', 'add', 'dsr0', 'type', 'ipip', 'remote', web0.ip, 'local', '10.244.1.1']);
    await runChecked('ip', ['-n', nodeNs, 'link', 'set', 'dsr0', 'up']);
    await runChecked('ip', ['-n', nodeNs, 'route', 'add', `${VIP1}/32`, 'dev', 'dsr0']);
    for (const k of ['all', 'default', web0.nodeIf, 'dsr0']) await sh(nodeNs, 'sysctl', '-qw', `net.ipv4.conf.${k}.rp_filter=0`);
    const start = (ns: string, args: string[]) => {
      const c = spawn('ip', ['netns', 'exec', ns, 'busybox', 'nc', ...args], { stdio: ['pipe', 'ignore', 'ignore'] });
      spawned.push(c);
      return c;
    };
    // The client counts the SYN-ACKs from the VIP: those carrying MSS 1340, and any others.
    const synAck = `-s ${VIP1}/32 -p tcp -m tcp --tcp-flags SYN,ACK SYN,ACK`;
    await runChecked('ip', ['netns', 'exec', nodeNs, 'iptables-restore', '--noflush'], {
      input: `*mangle\n-A INPUT ${synAck} -m tcpmss --mss 1340 -j ACCEPT\n-A INPUT ${synAck} -j ACCEPT\nCOMMIT\n`,
    });
    start(web0.ns, ['-l', '-p', '8080']);
    await eventually('listener', () => sh(web0.ns, 'ss', '-Hltn', 'sport = :8080'), (s) => s.includes('8080'));
    start(nodeNs, [VIP1, '8080']);
    const counted = async () => [...(await sh(nodeNs, 'iptables-save', '-c', '-t', 'mangle')).matchAll(/^\[(\d+):\d+\] -A INPUT .*$/gm)].map((m) => Number(m[1]));
    // pod eth0 MTU 1400: unclamped it would advertise 1360 (and land in the second rule)
    expect(await eventually('a SYN-ACK', counted, (c) => c.reduce((a, b) => a + b, 0) > 0)).toEqual([1, 0]);
    expect(await sh(nodeNs, 'ss', '-Htn', 'state', 'established', 'dst', VIP1)).toContain(`${VIP1}:8080`);
  });

  test('a restarted controller finds everything in place and changes nothing', async () => {
    await running!.stop();
    running = await startEndpointController(config, pino({ level: 'silent' }));
    await eventually('ready', async () => (await fetch(`${running!.health.url}/readyz`)).status, (s) => s === 200);
    expect(await metric('balanced_endpoint_operations_total')).toBe(0);
    expect(await metric('balanced_endpoint_pods_programmed')).toBe(3);
  });

  test('a pod that restarts is programmed again: replaced (same name, new UID), or its sandbox recreated (same UID and IP)', async () => {
    const old = pods['web1']!;
    await deleteNetns(old.ns);
    const fresh = await podNetns('web1', 2);
    uidToNs.set('u-web1b', fresh.ns);
    server.store.delete('pods', 'web-1', 'shop');
    server.store.put('pods', pod('web-1', 'u-web1b', fresh.ip));
    const s = server.store.get('endpointslices', 'web-a', 'shop') as unknown as { endpoints: { targetRef?: { uid?: string } }[] };
    for (const e of s.endpoints) if (e.targetRef?.uid === 'u-web1') e.targetRef.uid = 'u-web1b';
    server.store.put('endpointslices', s);
    expect(await eventually('new web-1 programmed', () => tunnel(fresh.ns), (t) => t?.addrs.length === 2)).toEqual({ up: true, mtu: 1480, addrs: ['10.96.0.10/32', '10.96.0.11/32'] });

    // Its sandbox dies and is recreated: same UID, same IP, a new (empty) namespace. Kubelet
    // updates the pod's status; that alone makes the controller look again.
    await deleteNetns(fresh.ns);
    const again = await podNetns('web1', 2);
    uidToNs.set('u-web1b', again.ns);
    const updated = pod('web-1', 'u-web1b', again.ip);
    updated.status!.containerStatuses = [{ name: 'app', image: 'app', imageID: 'app', ready: true, restartCount: 1 }];
    server.store.put('pods', updated);
    expect(await eventually('recreated sandbox programmed', () => tunnel(again.ns), (t) => t?.addrs.length === 2)).toEqual({ up: true, mtu: 1480, addrs: ['10.96.0.10/32', '10.96.0.11/32'] });
    expect(await metric('balanced_endpoint_errors_total')).toBe(0);
  });

  test('VIPs no longer wanted are removed (a VIP leaves the Service; a pod leaves the Service), MSS rules follow', async () => {
    server.store.put('services', service('web', [VIP1]));
    const s = server.store.get('endpointslices', 'web-a', 'shop') as unknown as { endpoints: { targetRef?: { name?: string } }[] };
    s.endpoints = s.endpoints.filter((e) => e.targetRef?.name !== 'web-1');
    server.store.put('endpointslices', s);
    expect(await eventually('web-0 down to one VIP', () => tunnel(pods['web0']!.ns), (t) => t?.addrs.length === 2)).toMatchObject({ addrs: ['10.96.0.10/32', '192.0.2.99/32'] });
    expect(await mangle(pods['web0']!.ns)).toEqual([
      ':BALANCED-MSS - [0:0]',
      '-A OUTPUT -j BALANCED-MSS',
      '-A BALANCED-MSS -s 10.96.0.10/32 -p tcp -m tcp --tcp-flags SYN,RST,ACK SYN,ACK -j TCPMSS --set-mss 1340',
    ]);
    expect(await eventually('web-1 cleaned', () => tunnel(pods['web1']!.ns), (t) => t?.addrs.length === 0)).toMatchObject({ addrs: [] });
    expect(await mangle(pods['web1']!.ns)).toEqual([]);
  });

  test('a pod whose namespace is gone: one Warning, bounded retries, no errors once the pod is deleted', async () => {
    const api = pods['api0']!;
    await deleteNetns(api.ns);
    // something changes for the pod, so it is looked at again
    server.store.put('services', service('api', [VIP_API, '10.96.0.21']));
    await eventually('a failure and a retry', () => metric('balanced_endpoint_errors_total'), (n) => n >= 2);
    expect(await metric('balanced_endpoint_pods_failing')).toBe(1);
    const warnings = events().filter(
      (e) => e.involvedObject.name === 'api-0' && e.reason === 'TunnelFailed',
    );
    expect(warnings.map((e) => e.count)).toEqual([1]);
    expect(warnings[0]?.message).toContain('NetnsNotFound');

    server.store.delete('pods', 'api-0', 'shop');
    await eventually('state dropped', () => metric('balanced_endpoint_pods_failing'), (n) => n === 0);
    const errors = await metric('balanced_endpoint_errors_total');
    await passes(3);
    expect(await metric('balanced_endpoint_errors_total')).toBe(errors);
    expect(await metric('balanced_endpoint_pods_failing')).toBe(0);
    expect(readlinkSync('/proc/thread-self/ns/net')).toBe(threadNetns);
    expect(readFileSync('/proc/sys/net/core/fb_tunnels_only_for_init_net', 'utf8').trim()).toBe('0');
  });
});
