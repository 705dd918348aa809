import { describe, expect, it } from '@jest/globals';
import { existsSync, readlinkSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import {
  cgroupOfPid,
  cgroupPids,
  createTestCgroup,
  createTestPinRoot,
  ensureBpffs,
  isBpfMounted,
  removeTestCgroup,
  removeTestPinRoot,
  spawnInCgroupNetns,
  withResolverLab,
  createNetns,
  deleteNetns,
} from '../src/index.js';
import { readFileSync } from 'node:fs';

// Root only. No BPF is attached here: these tests prove the lab's own helpers. All traffic
// goes to addresses on the loopback of a namespace the test creates, from a client that
// runs inside that namespace.
const B1 = '10.200.0.11';
const B2 = '10.200.0.12';
const B6 = 'fd00:200::11';
const PORT = 8080;

const netnsInode = (pid: number): string => readlinkSync(`/proc/${pid}/ns/net`);
const fileInode = (path: string): number => statSync(path).ino;

describe('resolver lab helpers (no BPF)', () => {
  it('creates and removes a test cgroup, killing what is left in it', async () => {
    const cg = await createTestCgroup();
    const ns = await createNetns();
    try {
      expect(cg.startsWith('/sys/fs/cgroup/unified/balanced-test-')).toBe(true);
      const child = spawnInCgroupNetns(cg, ns, 'sleep', ['60']);
      const deadline = Date.now() + 5000;
      while ((await cgroupPids(cg)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await cgroupPids(cg)).toEqual([child.pid]);
      expect(await cgroupOfPid(child.pid!)).toBe(`/${basename(cg)}`);
      expect(netnsInode(child.pid!)).toBe(`net:[${fileInode(`/run/netns/${ns}`)}]`);
      const exited = new Promise((r) => child.once('exit', r));
      await removeTestCgroup(cg);
      await exited;
      expect(existsSync(cg)).toBe(false);
      await removeTestCgroup(cg); // missing is fine
      await expect(removeTestCgroup('/sys/fs/cgroup/unified')).rejects.toThrow(/not a folder below/);
    } finally {
      await removeTestCgroup(cg);
      await deleteNetns(ns);
    }
  });

  it('mounts bpffs when needed and makes/removes pin folders', async () => {
    await ensureBpffs();
    expect(isBpfMounted(readFileSync('/proc/mounts', 'utf8'))).toBe(true);
    const pin = await createTestPinRoot();
    expect(existsSync(pin)).toBe(true);
    await removeTestPinRoot(pin);
    expect(existsSync(pin)).toBe(false);
    await removeTestPinRoot(pin);
  });

  it('reaches identity servers directly from a client in a test cgroup + netns, and cleans up', async () => {
    let made: { ns: string; cg: string; pin: string } | undefined;
    await withResolverLab(async (lab) => {
      const ns = await lab.netns();
      const cg = await lab.cgroup();
      const pin = await lab.pinRoot();
      made = { ns, cg, pin };
      await lab.addresses(ns, [B1, B2, B6]);
      const servers = await lab.servers({
        netns: ns,
        listeners: [
          { name: 'b1', address: B1, port: PORT },
          { name: 'b2', address: B2, port: PORT },
          { name: 'b6', address: B6, port: PORT },
        ],
      });
      const client = await lab.client({ netns: ns, cgroup: cg });
      expect(await cgroupOfPid(client.pid)).toBe(`/${basename(cg)}`);
      expect(netnsInode(client.pid)).toBe(`net:[${fileInode(`/run/netns/${ns}`)}]`);
      expect(netnsInode(servers.pid)).toBe(`net:[${fileInode(`/run/netns/${ns}`)}]`);

      const tcp = await client.tcp({ address: B1, port: PORT, count: 5, exchange: 10, concurrency: 2 });
      expect(tcp.counts).toEqual({ b1: 5 });
      expect(tcp.failures).toEqual({});
      expect(tcp.peers).toEqual({ [`${B1}:${PORT}`]: 5 });
      expect(tcp.connections.every((c) => c.ok && c.remoteAddress === B1 && c.remotePort === PORT)).toBe(true);

      const tcp6 = await client.tcp({ address: B6, port: PORT, count: 2 });
      expect(tcp6.counts).toEqual({ b6: 2 });
      expect(tcp6.peers).toEqual({ [`[${B6}]:${PORT}`]: 2 });

      const udp = await client.udpUnconnected({ address: B2, port: PORT, count: 4 });
      expect(udp.counts).toEqual({ b2: 4 });
      expect(udp.sources).toEqual({ [`${B2}:${PORT}`]: 4 });
      const udp6 = await client.udpUnconnected({ address: B6, port: PORT, count: 2 });
      expect(udp6.sources).toEqual({ [`[${B6}]:${PORT}`]: 2 });

      const connected = await client.udpConnected({ address: B1, port: PORT, count: 3 });
      expect(connected.counts).toEqual({ b1: 3 });
      expect(connected.peers).toEqual({ [`${B1}:${PORT}`]: 3 });

      // Nothing listens on port 9: the kernel answers with a RST at once.
      const refused = await client.refused({ address: B1, port: 9, count: 3 });
      expect(refused.map((r) => r.error)).toEqual(['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);
      expect(Math.max(...refused.map((r) => r.ms))).toBeLessThan(500);

      const loop = await client.startLoop({ address: B2, port: PORT });
      await new Promise((r) => setTimeout(r, 300));
      const { timeline } = await loop.stop();
      expect(timeline.length).toBeGreaterThan(5);
      expect(timeline.every((a) => a.ok && a.backend === 'b2')).toBe(true);

      // A held TCP connection that the server resets: the client reports it and reconnects.
      const held = await client.hold({ address: B1, port: PORT, protocol: 'tcp' });
      expect(held.opened).toEqual({ backend: 'b1', remoteAddress: B1, remotePort: PORT });
      expect(await servers.kick('b1')).toBeGreaterThanOrEqual(1);
      const { events, timedOut } = await held.waitForEvents(2, 5000);
      expect(timedOut).toBe(false);
      expect(events[0]).toMatchObject({ kind: 'closed', backend: 'b1', error: 'ECONNRESET' });
      expect(events[1]).toMatchObject({ kind: 'reconnected', backend: 'b1', remoteAddress: B1 });
      await held.stop();

      // A held UDP socket keeps answering while its server lives; pings reach it.
      const heldUdp = await client.hold({ address: B2, port: PORT, protocol: 'udp', pingMs: 50 });
      expect(heldUdp.opened.backend).toBe('b2');
      await new Promise((r) => setTimeout(r, 300));
      expect(await heldUdp.events()).toEqual([]);
      expect((await servers.stats()).b2!.udp).toBeGreaterThanOrEqual(4);
      // Closing the listener: the next ping gets ECONNREFUSED (ICMP port unreachable) or times out.
      await servers.close('b2');
      const lost = await heldUdp.waitForEvents(1, 5000);
      expect(lost.events[0]).toMatchObject({ kind: 'closed', backend: 'b2' });
      await heldUdp.stop();
    });
    expect(made).toBeDefined();
    expect(existsSync(`/run/netns/${made!.ns}`)).toBe(false);
    expect(existsSync(made!.cg)).toBe(false);
    expect(existsSync(made!.pin)).toBe(false);
  });
});
