import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readlinkSync } from 'node:fs';
import { createNetns, deleteNetns } from '@balanced/testkit';
import {
  Errno,
  NETLINK_ROUTE,
  NetlinkConnection,
  NetlinkError,
  NetlinkSocket,
  RouteClient,
  AttributeEncoder,
  LinkNotFoundError,
  type NetlinkRequest,
} from '../src/index.js';

/** IFLA_IFNAME (if_link.h): names the link in RTM_GETLINK. */
const IFLA_IFNAME_FOR_TEST = 3;

// Runs on this host as root, inside a namespace the test creates (the host kernel has veth
// and netns; it has no dummy or IPVS — those are covered by the kernel project in the VM).
let ns: string;
let route: RouteClient;
beforeAll(async () => {
  ns = await createNetns();
  route = RouteClient.open({ netns: `/run/netns/${ns}` });
});
afterAll(async () => {
  route?.close();
  if (ns) await deleteNetns(ns);
});

describe('rtnetlink in a test namespace', () => {
  test('a socket opened in a namespace stays bound to it and the process does not move', async () => {
    const before = readlinkSync('/proc/thread-self/ns/net');
    const links = await route.listLinks();
    expect(readlinkSync('/proc/thread-self/ns/net')).toBe(before);
    // a fresh namespace holds only lo
    expect(links.map((l) => l.name)).toEqual(['lo']);
  });

  test('veth create, up, mtu, addresses add/list/delete, link delete', async () => {
    const link = await route.createLink({ name: 've-a', kind: 'veth', peerName: 've-b', mtu: 1400 });
    expect(link).toMatchObject({ name: 've-a', kind: 'veth', mtu: 1400, up: false });
    await route.setUp('ve-a', true);
    await route.setUp('ve-b', true);
    expect((await route.getLink('ve-a'))?.up).toBe(true);
    await route.setMtu('ve-a', 1380);
    expect((await route.getLink('ve-a'))?.mtu).toBe(1380);

    await route.addAddress('ve-a', '10.77.0.1/32');
    await route.addAddress('ve-a', '10.77.0.2/32');
    await route.addAddress('ve-a', 'fd77::1/128');
    const addrs = (await route.listAddresses('ve-a')).filter((a) => !a.address.startsWith('fe80'));
    expect(addrs.map((a) => `${a.address}/${a.prefixLength}`).sort()).toEqual(['10.77.0.1/32', '10.77.0.2/32', 'fd77::1/128']);

    const dup = route.addAddress('ve-a', '10.77.0.1/32');
    await expect(dup).rejects.toBeInstanceOf(NetlinkError);
    await expect(dup).rejects.toMatchObject({ errno: Errno.EEXIST });

    await route.deleteAddress('ve-a', '10.77.0.2/32');
    expect((await route.listAddresses('ve-a')).map((a) => a.address)).not.toContain('10.77.0.2');
    await expect(route.deleteAddress('ve-a', '10.77.0.2/32')).rejects.toMatchObject({ errno: Errno.EADDRNOTAVAIL });

    // ensureLink is idempotent
    expect((await route.ensureLink({ name: 've-a', kind: 'veth', peerName: 've-b', up: true })).index).toBe(link.index);

    await route.deleteLink('ve-a');
    expect(await route.getLink('ve-a')).toBeUndefined();
    expect(await route.getLink('ve-b')).toBeUndefined(); // the peer goes with it
    await expect(route.setUp('ve-a', true)).rejects.toBeInstanceOf(LinkNotFoundError);
  });

  test('the kernel extended ack reaches the error', async () => {
    const err = await route.createLink({ name: 'x0', kind: 'no-such-kind' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).errno).toBe(Errno.EOPNOTSUPP);
    expect((err as NetlinkError).extAck.message).toBe('Unknown device type');
    expect((err as NetlinkError).message).toContain('kernel says: Unknown device type');
  });

  test('bad input is refused before it reaches the kernel', async () => {
    await expect(route.addAddress('lo', '10.0.0.300/32')).rejects.toThrow(/invalid address/);
    await expect(route.addAddress('lo', '10.0.0.1/33')).rejects.toThrow(/prefix length/);
  });
});

describe('pipelined batches against the real kernel', () => {
  const getLo = (): NetlinkRequest => ({
    type: 18, // RTM_GETLINK
    data: concat(new Uint8Array(16), new AttributeEncoder().string(IFLA_IFNAME_FOR_TEST, 'lo').encode()),
    op: 'RTM_GETLINK lo',
  });

  test('a window sized to the receive buffer never overflows', async () => {
    const socket = NetlinkSocket.open(NETLINK_ROUTE, { netns: `/run/netns/${ns}`, receiveBufferBytes: 64 * 1024 });
    const conn = new NetlinkConnection(socket);
    const requests = Array.from({ length: 2000 }, () => ({ ...getLo(), replyBytes: 8192 }));
    const outcomes = await conn.execute(requests);
    conn.close();
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    expect(outcomes.every((o) => o.ok && o.messages.length === 1)).toBe(true);
  });

  test('an oversized window overflows (ENOBUFS): unanswered requests are reported outcome-unknown', async () => {
    const socket = NetlinkSocket.open(NETLINK_ROUTE, { netns: `/run/netns/${ns}`, receiveBufferBytes: 16 * 1024 });
    // Budget 1 byte per request: the whole batch goes out in one sendmsg.
    const conn = new NetlinkConnection(socket, { ackBudgetBytes: 1 });
    const outcomes = await conn.execute(Array.from({ length: 2000 }, getLo));
    conn.close();
    const answered = outcomes.filter((o) => o.ok).length;
    const unknown = outcomes.filter((o) => !o.ok && o.error.code === 'NETLINK_OUTCOME_UNKNOWN').length;
    expect(unknown).toBeGreaterThan(0);
    expect(answered + unknown).toBe(2000);
    expect(outcomes.every((o) => o.ok || o.error.outcomeUnknown)).toBe(true);
    // GETLINK has no side effect; the kernel did process every request, but their acks were lost.
  });

  test('sequence numbers of a batch match each reply to its request', async () => {
    const socket = NetlinkSocket.open(NETLINK_ROUTE, { netns: `/run/netns/${ns}` });
    const conn = new NetlinkConnection(socket);
    const names = ['lo', 'nope0', 'lo', 'nope1'];
    const outcomes = await conn.execute(
      names.map((n) => ({ type: 18, data: concat(new Uint8Array(16), new AttributeEncoder().string(IFLA_IFNAME_FOR_TEST, n).encode()), op: `GETLINK ${n}`, replyBytes: 8192 })),
    );
    conn.close();
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.error.errno))).toEqual(['ok', Errno.ENODEV, 'ok', Errno.ENODEV]);
  });
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
