import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findRepoRoot } from '@balanced/testkit';
import {
  AlreadyExists,
  DestinationNotFound,
  InvalidArgument,
  PermissionDenied,
  SchedulerMissing,
  ServiceFlags,
  ServiceNotFound,
  type DestinationSpec,
  type IpvsOperation,
  type ServiceKey,
  type ServiceSpec,
} from '../src/index.js';
import { ipvsNamespace, type IpvsNamespace } from './kernel-fixture.js';

let ns: IpvsNamespace;
beforeAll(async () => {
  ns = await ipvsNamespace();
});
afterAll(async () => {
  await ns?.dispose();
});

const tcp: ServiceKey = { protocol: 'tcp', address: '10.0.0.2', port: 443 };
const udp: ServiceKey = { protocol: 'udp', address: '10.0.0.2', port: 53 };
const v6: ServiceKey = { protocol: 'tcp', address: 'fd00:1::10', port: 80 };
const mark4: ServiceKey = { fwmark: 7, family: 'inet' };
const mark6: ServiceKey = { fwmark: 8, family: 'inet6' };

describe('IPVS client against the real kernel', () => {
  test('info and timeouts', async () => {
    const info = await ns.client.info();
    expect(info.version).toMatch(/^1\.2\.\d+$/);
    expect(info.connectionTableSize).toBeGreaterThan(0);
    const before = await ns.client.getTimeouts();
    await ns.client.setTimeouts({ tcp: 901, tcpFin: 121, udp: 301 });
    expect(await ns.client.getTimeouts()).toEqual({ tcp: 901, tcpFin: 121, udp: 301 });
    await ns.client.setTimeouts({ tcp: 0, tcpFin: 0, udp: 0 }); // 0 = unchanged
    expect(await ns.client.getTimeouts()).toEqual({ tcp: 901, tcpFin: 121, udp: 301 });
    await ns.client.setTimeouts(before);
  });

  test('services: TCP/UDP/fwmark, IPv4/IPv6, flags read back with HASHED masked', async () => {
    const specs: ServiceSpec[] = [
      { key: tcp, scheduler: 'mh', flags: ServiceFlags.MH_FALLBACK | ServiceFlags.MH_PORT },
      { key: udp, scheduler: 'rr' },
      { key: v6, scheduler: 'wrr' },
      { key: mark4, scheduler: 'mh', flags: ServiceFlags.MH_FALLBACK },
      { key: mark6, scheduler: 'rr', flags: ServiceFlags.PERSISTENT, timeout: 120, netmask: 64 },
    ];
    for (const s of specs) await ns.client.addService(s);
    const listed = await ns.client.listServices();
    for (const s of specs) {
      const got = listed.find((l) => JSON.stringify(l.key) === JSON.stringify(s.key));
      expect(got).toBeDefined();
      expect(got?.scheduler).toBe(s.scheduler);
      expect(got?.flags).toBe(s.flags ?? 0);
      const one = await ns.client.getService(s.key);
      expect(one.key).toEqual(s.key);
      expect(one.flags).toBe(s.flags ?? 0);
    }
    expect((await ns.client.getService(mark6)).timeout).toBe(120);
    expect((await ns.client.getService(mark6)).netmask).toBe(64);
    expect((await ns.client.getService(v6)).family).toBe('inet6');

    await ns.client.updateService({ key: udp, scheduler: 'mh', flags: ServiceFlags.MH_PORT });
    const updated = await ns.client.getService(udp);
    expect(updated.scheduler).toBe('mh');
    expect(updated.flags).toBe(ServiceFlags.MH_PORT);
  });

  test('destinations: tunnel IPIP/GUE/GRE, direct, masquerade; list order is reverse insertion', async () => {
    const dests: DestinationSpec[] = [
      { address: '10.1.0.1', port: 443, forwarding: 'tunnel', weight: 1 },
      { address: '10.1.0.2', port: 443, forwarding: 'tunnel', weight: 5, upperThreshold: 100, lowerThreshold: 10, tunnel: { type: 'gue', port: 6080, flags: 2 } },
      { address: '10.1.0.3', port: 443, forwarding: 'tunnel', weight: 2, tunnel: { type: 'gre' } },
      { address: '10.1.0.4', port: 443, forwarding: 'direct', weight: 3 },
      { address: '10.1.0.5', port: 8443, forwarding: 'masquerade', weight: 4 },
    ];
    for (const d of dests) await ns.client.addDestination(tcp, d);
    const got = await ns.client.listDestinations(tcp);
    expect(got.map((d) => d.address)).toEqual(['10.1.0.5', '10.1.0.4', '10.1.0.3', '10.1.0.2', '10.1.0.1']);
    const gue = got.find((d) => d.address === '10.1.0.2');
    expect(gue).toMatchObject({ forwarding: 'tunnel', weight: 5, upperThreshold: 100, lowerThreshold: 10, tunnel: { type: 'gue', port: 6080, flags: 2 } });
    expect(got.find((d) => d.address === '10.1.0.1')?.tunnel).toEqual({ type: 'ipip', port: 0, flags: 0 });
    expect(got.find((d) => d.address === '10.1.0.3')?.tunnel?.type).toBe('gre');
    expect(got.find((d) => d.address === '10.1.0.4')?.forwarding).toBe('direct');
    expect(got.find((d) => d.address === '10.1.0.5')).toMatchObject({ forwarding: 'masquerade', port: 8443 });

    // an edit does not move the destination in the list
    await ns.client.updateDestination(tcp, { address: '10.1.0.3', port: 443, forwarding: 'tunnel', weight: 0, tunnel: { type: 'gre' } });
    const afterEdit = await ns.client.listDestinations(tcp);
    expect(afterEdit.map((d) => d.address)).toEqual(['10.1.0.5', '10.1.0.4', '10.1.0.3', '10.1.0.2', '10.1.0.1']);
    expect(afterEdit.find((d) => d.address === '10.1.0.3')?.weight).toBe(0);

    await ns.client.deleteDestination(tcp, { address: '10.1.0.4', port: 443 });
    expect((await ns.client.listDestinations(tcp)).map((d) => d.address)).toEqual(['10.1.0.5', '10.1.0.3', '10.1.0.2', '10.1.0.1']);
  });

  test('IPv6 destinations, and fwmark services with port-0 destinations', async () => {
    await ns.client.addDestination(v6, { address: 'fd00:2::1', port: 80, forwarding: 'tunnel', weight: 1 });
    await ns.client.addDestination(v6, { address: 'fd00:2::2', port: 80, forwarding: 'direct', weight: 2 });
    const d6 = await ns.client.listDestinations(v6);
    expect(d6.map((d) => [d.address, d.family, d.forwarding])).toEqual([
      ['fd00:2::2', 'inet6', 'direct'],
      ['fd00:2::1', 'inet6', 'tunnel'],
    ]);
    await ns.client.addDestination(mark4, { address: '10.2.0.1', port: 0, forwarding: 'tunnel', weight: 1 });
    expect((await ns.client.listDestinations(mark4))[0]).toMatchObject({ address: '10.2.0.1', port: 0 });
  });

  test('typed errors for every failure path', async () => {
    const missing: ServiceKey = { protocol: 'tcp', address: '10.9.9.9', port: 1 };
    await expect(ns.client.getService(missing)).rejects.toBeInstanceOf(ServiceNotFound);
    await expect(ns.client.deleteService(missing)).rejects.toBeInstanceOf(ServiceNotFound);
    await expect(ns.client.updateService({ key: missing, scheduler: 'rr' })).rejects.toBeInstanceOf(ServiceNotFound);
    await expect(ns.client.addDestination(missing, { address: '10.1.0.1', port: 1, forwarding: 'tunnel', weight: 1 })).rejects.toBeInstanceOf(ServiceNotFound);
    await expect(ns.client.zero(missing)).rejects.toBeInstanceOf(ServiceNotFound);
    // GET_DEST is dump-only; a missing service dumps as empty
    expect(await ns.client.listDestinations(missing)).toEqual([]);

    await expect(ns.client.deleteDestination(tcp, { address: '10.9.9.9', port: 443 })).rejects.toBeInstanceOf(DestinationNotFound);
    await expect(ns.client.updateDestination(tcp, { address: '10.9.9.9', port: 443, forwarding: 'tunnel', weight: 1 })).rejects.toBeInstanceOf(DestinationNotFound);
    await expect(ns.client.addService({ key: { protocol: 'tcp', address: '10.0.0.99', port: 1 }, scheduler: 'no-such-sched' })).rejects.toBeInstanceOf(SchedulerMissing);
    await expect(ns.client.addService({ key: tcp, scheduler: 'mh' })).rejects.toBeInstanceOf(AlreadyExists);
    await expect(ns.client.addDestination(tcp, { address: '10.1.0.1', port: 443, forwarding: 'tunnel', weight: 1 })).rejects.toBeInstanceOf(AlreadyExists);
    // GUE needs a port: the kernel says EINVAL
    await expect(
      ns.client.addDestination(tcp, { address: '10.1.0.9', port: 443, forwarding: 'tunnel', weight: 1, tunnel: { type: 'gue' } }),
    ).rejects.toBeInstanceOf(InvalidArgument);
  });

  test('PermissionDenied for an unprivileged process', async () => {
    const root = findRepoRoot();
    const script = [
      `const { IpvsClient } = await import(${JSON.stringify(`${root}/packages/ipvs/dist/index.js`)});`,
      'const c = await IpvsClient.open();',
      "try { await c.addService({ key: { protocol: 'tcp', address: '10.0.0.77', port: 1 }, scheduler: 'rr' }); console.log('NO-ERROR'); }",
      'catch (e) { console.log(e.name, e.errno); }',
      'c.close();',
    ].join('\n');
    const { stdout } = await promisify(execFile)('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', 'ip', 'netns', 'exec', ns.name, process.execPath, '--input-type=module', '-e', script]).catch(
      async () => promisify(execFile)('ip', ['netns', 'exec', ns.name, 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, '--input-type=module', '-e', script]),
    );
    expect(stdout.trim()).toBe(`${PermissionDenied.name} 1`);
  });

  test('zero resets counters; flush empties the table', async () => {
    await ns.client.zero(tcp);
    await ns.client.zero();
    const s = await ns.client.getService(tcp);
    expect(s.stats?.connections).toBe(0);
    expect(s.stats64?.packetsIn).toBe(0);
  });

  test('ipvsadm -Ln --exact shows the same state our client reads back', async () => {
    const ours = await ns.client.dump();
    const text = await ns.ipvsadm('-Ln', '--exact');
    const theirs = parseIpvsadmList(text);
    const mine = ours.flatMap(({ service, destinations }) => {
      const k = service.key;
      const name = 'fwmark' in k ? `FWM  ${k.fwmark}${service.family === 'inet6' ? ' IPv6' : ''}` : `${k.protocol.toUpperCase()}  ${k.address.includes(':') ? `[${k.address}]` : k.address}:${k.port}`;
      return [
        `${name} ${service.scheduler}`,
        ...destinations.map((d) => `${name} -> ${d.address.includes(':') ? `[${d.address}]` : d.address}:${d.port} ${forwardName(d.forwarding)} ${d.weight}`),
      ];
    });
    expect(theirs.sort()).toEqual(mine.sort());
  });

  test('a batch of 2,000 services x 2 destinations, dumped back multi-part, equals what was added', async () => {
    await ns.client.flush();
    const ops: IpvsOperation[] = [];
    const expected = new Map<string, string[]>();
    for (let i = 0; i < 2000; i++) {
      const key: ServiceKey = { protocol: i % 2 ? 'udp' : 'tcp', address: `10.${100 + (i >> 8)}.${i & 255}.1`, port: 1000 + (i % 50) };
      ops.push({ op: 'add-service', service: { key, scheduler: 'mh', flags: ServiceFlags.MH_FALLBACK } });
      const addrs = [`172.16.${i >> 8}.${i & 255}`, `172.17.${i >> 8}.${i & 255}`];
      for (const a of addrs) ops.push({ op: 'add-destination', service: key, destination: { address: a, port: key.port, forwarding: 'tunnel', weight: 1 } });
      expected.set(JSON.stringify(key), [...addrs].reverse());
    }
    const results = await ns.client.apply(ops);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const dumped = await ns.client.dump();
    expect(dumped).toHaveLength(2000);
    for (const { service, destinations } of dumped) {
      expect(service.flags).toBe(ServiceFlags.MH_FALLBACK);
      expect(destinations.map((d) => d.address)).toEqual(expected.get(JSON.stringify(service.key)));
    }
    await ns.client.flush();
    expect(await ns.client.listServices()).toEqual([]);
  });
});

function forwardName(f: string): string {
  return ({ tunnel: 'Tunnel', direct: 'Route', masquerade: 'Masq', local: 'Local', bypass: 'Bypass' } as Record<string, string>)[f] ?? f;
}

/** `ipvsadm -Ln --exact` → "PROTO  addr:port sched" and "PROTO  addr:port -> dest:port Fwd weight" lines. */
function parseIpvsadmList(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    const svc = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+(IPv6\s+)?(\S+)/.exec(line);
    if (svc) {
      current = `${svc[1]}  ${svc[2]}${svc[3] ? ' IPv6' : ''}`;
      out.push(`${current} ${svc[4]}`);
      continue;
    }
    const dst = /^\s+->\s+(\S+)\s+(\S+)\s+(\d+)/.exec(line);
    if (dst && current) out.push(`${current} -> ${dst[1]} ${dst[2]} ${dst[3]}`);
  }
  return out;
}
