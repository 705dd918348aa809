import { describe, expect, it, test } from '@jest/globals';
import fc from 'fast-check';
import {
  decodeMessages,
  encodeGeneric,
  encodeMessage,
  HOST_LITTLE_ENDIAN,
  MalformedMessageError,
  NLM_F_MULTI,
  parseIp,
  type NetlinkMessage,
} from '@balanced/netlink';
import * as C from '../src/codec/constants.js';
import { decodeDestination, decodeInfo, decodeService, decodeTimeouts } from '../src/codec/decode.js';
import { encodeDestination, encodeDestinationKey, encodeService, encodeServiceKey, encodeTimeouts } from '../src/codec/encode.js';
import { ServiceFlags, type DestinationSpec, type ServiceKey, type ServiceSpec } from '../src/model.js';

// Golden tables assume a little-endian host (x86-64 / arm64), like the kernels we target.
const describeLE = HOST_LITTLE_ENDIAN ? describe : describe.skip;
const FAMILY_ID = 0x25; // what nlctrl typically hands out for IPVS

function b(...rows: readonly (readonly number[] | Uint8Array)[]): Uint8Array {
  const out = new Uint8Array(rows.reduce((n, r) => n + r.length, 0));
  let offset = 0;
  for (const r of rows) {
    out.set(r, offset);
    offset += r.length;
  }
  return out;
}
const hex = (bytes: Uint8Array): string => Array.from(bytes, (x) => x.toString(16).padStart(2, '0')).join(' ');
const zeros = (n: number): number[] => new Array<number>(n).fill(0);

/** A request as the client sends it: nlmsghdr (REQUEST|ACK, seq 1) + genlmsghdr + attributes. */
function request(command: number, attributes: Uint8Array): Uint8Array {
  return encodeMessage({ type: FAMILY_ID, flags: 5, sequence: 1, portId: 0 }, encodeGeneric({ command, version: 1 }, attributes));
}

/** Wrap attributes as a kernel reply (a dump part) and parse it back into a NetlinkMessage. */
function asReply(command: number, attributes: Uint8Array): NetlinkMessage {
  const [m] = decodeMessages(encodeMessage({ type: FAMILY_ID, flags: NLM_F_MULTI, sequence: 1, portId: 4242 }, encodeGeneric({ command, version: 1 }, attributes)));
  if (!m) throw new Error('no message');
  return m;
}

const TCP_10_0_0_1_80: ServiceKey = { protocol: 'tcp', address: '10.0.0.1', port: 80 };

describeLE('golden requests', () => {
  it('minimal NEW_DEST is exactly 140 bytes', () => {
    const out = request(
      C.IPVS_CMD_NEW_DEST,
      encodeDestination(TCP_10_0_0_1_80, { address: '192.168.1.10', port: 8080, forwarding: 'direct', weight: 100 }),
    );
    const expected = b(
      // nlmsghdr (16)
      [0x8c, 0x00, 0x00, 0x00], // nlmsg_len = 140
      [0x25, 0x00], //             nlmsg_type = IPVS family id 0x25
      [0x05, 0x00], //             nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK
      [0x01, 0x00, 0x00, 0x00], // nlmsg_seq = 1
      [0x00, 0x00, 0x00, 0x00], // nlmsg_pid = 0
      // genlmsghdr (4)
      [0x05, 0x01, 0x00, 0x00], // cmd IPVS_CMD_NEW_DEST, version 1, reserved
      // IPVS_CMD_ATTR_SERVICE (48)
      [0x30, 0x00, 0x01, 0x80], // len 48, type 1 | NLA_F_NESTED
      /**/ [0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_SVC_ATTR_AF u16 AF_INET (+2 pad)
      /**/ [0x06, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00], // IPVS_SVC_ATTR_PROTOCOL u16 IPPROTO_TCP (+2 pad)
      /**/ [0x14, 0x00, 0x03, 0x00], //                         IPVS_SVC_ATTR_ADDR, len 20 (union nf_inet_addr)
      /**/ [0x0a, 0x00, 0x00, 0x01], //                           10.0.0.1
      /**/ zeros(12), //                                          rest of the 16-byte union
      /**/ [0x06, 0x00, 0x04, 0x00, 0x00, 0x50, 0x00, 0x00], // IPVS_SVC_ATTR_PORT be16 80 (+2 pad)
      // IPVS_CMD_ATTR_DEST (72)
      [0x48, 0x00, 0x02, 0x80], // len 72, type 2 | NLA_F_NESTED
      /**/ [0x14, 0x00, 0x01, 0x00], //                         IPVS_DEST_ATTR_ADDR, len 20
      /**/ [0xc0, 0xa8, 0x01, 0x0a], //                           192.168.1.10
      /**/ zeros(12),
      /**/ [0x06, 0x00, 0x02, 0x00, 0x1f, 0x90, 0x00, 0x00], // IPVS_DEST_ATTR_PORT be16 8080 (+2 pad)
      /**/ [0x08, 0x00, 0x03, 0x00, 0x03, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_FWD_METHOD u32 IP_VS_CONN_F_DROUTE
      /**/ [0x08, 0x00, 0x04, 0x00, 0x64, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_WEIGHT u32 100
      /**/ [0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_U_THRESH u32 0
      /**/ [0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_L_THRESH u32 0
      /**/ [0x06, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_ADDR_FAMILY u16 AF_INET (+2 pad)
    );
    expect(out.length).toBe(140);
    expect(expected.length).toBe(140);
    expect(hex(out)).toBe(hex(expected));
  });

  it('NEW_SERVICE tcp 10.0.0.1:80, mh, MH_FALLBACK', () => {
    const out = request(C.IPVS_CMD_NEW_SERVICE, encodeService({ key: TCP_10_0_0_1_80, scheduler: 'mh', flags: ServiceFlags.MH_FALLBACK }));
    const expected = b(
      [0x68, 0x00, 0x00, 0x00], // nlmsg_len = 104 = 16 + 4 + 84
      [0x25, 0x00, 0x05, 0x00], // type 0x25, REQUEST|ACK
      [0x01, 0x00, 0x00, 0x00], // seq 1
      [0x00, 0x00, 0x00, 0x00], // pid 0
      [0x01, 0x01, 0x00, 0x00], // cmd IPVS_CMD_NEW_SERVICE, version 1
      [0x54, 0x00, 0x01, 0x80], // IPVS_CMD_ATTR_SERVICE, len 84, NESTED
      /**/ [0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00], // AF = AF_INET
      /**/ [0x06, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00], // PROTOCOL = TCP
      /**/ [0x14, 0x00, 0x03, 0x00, 0x0a, 0x00, 0x00, 0x01], zeros(12), // ADDR 10.0.0.1
      /**/ [0x06, 0x00, 0x04, 0x00, 0x00, 0x50, 0x00, 0x00], // PORT be16 80
      /**/ [0x07, 0x00, 0x06, 0x00, 0x6d, 0x68, 0x00, 0x00], // SCHED_NAME "mh\0" (+1 pad)
      /**/ [0x0c, 0x00, 0x07, 0x00], //                         FLAGS, struct ip_vs_flags (8 bytes)
      /**/ [0x08, 0x00, 0x00, 0x00], //                           flags = IP_VS_SVC_F_SCHED1 (MH_FALLBACK)
      /**/ [0xff, 0xff, 0xff, 0xff], //                           mask = all bits
      /**/ [0x08, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00], // TIMEOUT u32 0
      /**/ [0x08, 0x00, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff], // NETMASK u32 255.255.255.255 (IPv4 default)
    );
    expect(hex(out)).toBe(hex(expected));
  });

  it('HASHED is never sent, even if the caller sets it', () => {
    const a = encodeService({ key: TCP_10_0_0_1_80, scheduler: 'rr', flags: ServiceFlags.HASHED | ServiceFlags.PERSISTENT });
    const c = encodeService({ key: TCP_10_0_0_1_80, scheduler: 'rr', flags: ServiceFlags.PERSISTENT });
    expect(hex(a)).toBe(hex(c));
  });

  it('DEL_SERVICE by fwmark: AF + FWMARK only', () => {
    const out = request(C.IPVS_CMD_DEL_SERVICE, encodeServiceKey({ fwmark: 7, family: 'inet6' }));
    const expected = b(
      [0x28, 0x00, 0x00, 0x00], // nlmsg_len = 40 = 16 + 4 + 20
      [0x25, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
      [0x03, 0x01, 0x00, 0x00], // cmd IPVS_CMD_DEL_SERVICE
      [0x14, 0x00, 0x01, 0x80], // IPVS_CMD_ATTR_SERVICE, len 20
      /**/ [0x06, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x00], // AF = AF_INET6
      /**/ [0x08, 0x00, 0x05, 0x00, 0x07, 0x00, 0x00, 0x00], // FWMARK u32 7
    );
    expect(hex(out)).toBe(hex(expected));
  });

  it('NEW_SERVICE udp [fd00::1]:53 rr with persistence engine: IPv6 address and /128 netmask', () => {
    const attrs = encodeService({ key: { protocol: 'udp', address: 'fd00::1', port: 53 }, scheduler: 'rr', persistenceEngine: 'sip', timeout: 300, flags: ServiceFlags.PERSISTENT });
    const expected = b(
      [0x5c, 0x00, 0x01, 0x80], // IPVS_CMD_ATTR_SERVICE, len 92
      /**/ [0x06, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x00], // AF = AF_INET6
      /**/ [0x06, 0x00, 0x02, 0x00, 0x11, 0x00, 0x00, 0x00], // PROTOCOL = UDP (17)
      /**/ [0x14, 0x00, 0x03, 0x00], //                         ADDR, len 20
      /**/ [0xfd, 0x00, ...zeros(13), 0x01], //                   fd00::1
      /**/ [0x06, 0x00, 0x04, 0x00, 0x00, 0x35, 0x00, 0x00], // PORT be16 53
      /**/ [0x07, 0x00, 0x06, 0x00, 0x72, 0x72, 0x00, 0x00], // SCHED_NAME "rr\0"
      /**/ [0x08, 0x00, 0x0b, 0x00, 0x73, 0x69, 0x70, 0x00], // PE_NAME "sip\0"
      /**/ [0x0c, 0x00, 0x07, 0x00, 0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff], // FLAGS PERSISTENT / mask
      /**/ [0x08, 0x00, 0x08, 0x00, 0x2c, 0x01, 0x00, 0x00], // TIMEOUT 300
      /**/ [0x08, 0x00, 0x09, 0x00, 0x80, 0x00, 0x00, 0x00], // NETMASK 128 (IPv6 prefix length)
    );
    expect(hex(attrs)).toBe(hex(expected));
  });

  it('GUE destination carries TUN_TYPE, TUN_PORT (be16) and TUN_FLAGS', () => {
    const attrs = encodeDestination(TCP_10_0_0_1_80, {
      address: '10.1.0.2',
      port: 80,
      forwarding: 'tunnel',
      weight: 1,
      upperThreshold: 1000,
      lowerThreshold: 10,
      tunnel: { type: 'gue', port: 6080, flags: 2 },
    });
    const expected = b(
      [0x30, 0x00, 0x01, 0x80], // IPVS_CMD_ATTR_SERVICE, len 48 (as in NEW_DEST above)
      /**/ [0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00],
      /**/ [0x06, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00],
      /**/ [0x14, 0x00, 0x03, 0x00, 0x0a, 0x00, 0x00, 0x01], zeros(12),
      /**/ [0x06, 0x00, 0x04, 0x00, 0x00, 0x50, 0x00, 0x00],
      [0x60, 0x00, 0x02, 0x80], // IPVS_CMD_ATTR_DEST, len 96 = 72 + 3 tunnel attributes
      /**/ [0x14, 0x00, 0x01, 0x00, 0x0a, 0x01, 0x00, 0x02], zeros(12), // ADDR 10.1.0.2
      /**/ [0x06, 0x00, 0x02, 0x00, 0x00, 0x50, 0x00, 0x00], // PORT 80
      /**/ [0x08, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00], // FWD_METHOD IP_VS_CONN_F_TUNNEL
      /**/ [0x08, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00], // WEIGHT 1
      /**/ [0x08, 0x00, 0x05, 0x00, 0xe8, 0x03, 0x00, 0x00], // U_THRESH 1000
      /**/ [0x08, 0x00, 0x06, 0x00, 0x0a, 0x00, 0x00, 0x00], // L_THRESH 10
      /**/ [0x06, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00], // ADDR_FAMILY AF_INET
      /**/ [0x05, 0x00, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x00], // TUN_TYPE u8 GUE (+3 pad)
      /**/ [0x06, 0x00, 0x0e, 0x00, 0x17, 0xc0, 0x00, 0x00], // TUN_PORT be16 6080 (0x17c0)
      /**/ [0x06, 0x00, 0x0f, 0x00, 0x02, 0x00, 0x00, 0x00], // TUN_FLAGS u16 CSUM
    );
    expect(hex(attrs)).toBe(hex(expected));
  });

  it('tunnel attributes are only sent for tunnel forwarding', () => {
    const spec: DestinationSpec = { address: '10.1.0.2', port: 80, forwarding: 'masquerade', weight: 1, tunnel: { type: 'gre' } };
    expect(encodeDestination(TCP_10_0_0_1_80, spec).length).toBe(48 + 72);
    const ipip = encodeDestination(TCP_10_0_0_1_80, { ...spec, forwarding: 'tunnel', tunnel: { type: 'ipip' } });
    expect(ipip.length).toBe(48 + 72 + 8); // TUN_TYPE only
  });

  it('DEL_DEST: service key + ADDR, PORT, ADDR_FAMILY (IPv6 destination)', () => {
    const attrs = encodeDestinationKey({ fwmark: 1, family: 'inet6' }, { address: 'fd00::2', port: 0 });
    const expected = b(
      [0x14, 0x00, 0x01, 0x80], // SERVICE, len 20
      /**/ [0x06, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x00], // AF_INET6
      /**/ [0x08, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00], // FWMARK 1
      [0x28, 0x00, 0x02, 0x80], // DEST, len 40
      /**/ [0x14, 0x00, 0x01, 0x00, 0xfd, 0x00, ...zeros(13), 0x02], // ADDR fd00::2
      /**/ [0x06, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00], // PORT 0
      /**/ [0x06, 0x00, 0x0b, 0x00, 0x0a, 0x00, 0x00, 0x00], // ADDR_FAMILY AF_INET6
    );
    expect(hex(attrs)).toBe(hex(expected));
  });

  it('SET_CONFIG timeouts', () => {
    expect(hex(encodeTimeouts({ tcp: 900, tcpFin: 120, udp: 300 }))).toBe(
      hex(
        b(
          [0x08, 0x00, 0x04, 0x00, 0x84, 0x03, 0x00, 0x00], // IPVS_CMD_ATTR_TIMEOUT_TCP 900
          [0x08, 0x00, 0x05, 0x00, 0x78, 0x00, 0x00, 0x00], // IPVS_CMD_ATTR_TIMEOUT_TCP_FIN 120
          [0x08, 0x00, 0x06, 0x00, 0x2c, 0x01, 0x00, 0x00], // IPVS_CMD_ATTR_TIMEOUT_UDP 300
        ),
      ),
    );
  });

  it('invalid values surface as errors from the encoder, not as bad bytes', () => {
    expect(() => encodeServiceKey({ protocol: 'tcp', address: '10.0.0.1', port: 70000 })).toThrow(/70000/);
    expect(() => encodeServiceKey({ protocol: 'tcp', address: '10.0.0', port: 80 })).toThrow(/invalid address/);
    expect(() => encodeService({ key: TCP_10_0_0_1_80, scheduler: 'r\0r' })).toThrow(/NUL/);
    expect(() => encodeDestination(TCP_10_0_0_1_80, { address: '10.0.0.2', port: 80, forwarding: 'direct', weight: -1 })).toThrow(/-1/);
  });
});

// ---------------------------------------------------------------------------------------
// Kernel-style replies: nests WITHOUT NLA_F_NESTED (IPVS uses nla_nest_start_noflag), HASHED
// set in the flags, and both STATS (u32/u64 mix) and STATS64.

/** IPVS_SVC_ATTR_STATS: u32 except INBYTES/OUTBYTES (u64), as ip_vs_genl_fill_stats writes. */
const STATS_32 = b(
  [0x08, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00], // CONNS u32 5
  [0x08, 0x00, 0x02, 0x00, 0x64, 0x00, 0x00, 0x00], // INPKTS u32 100
  [0x08, 0x00, 0x03, 0x00, 0x32, 0x00, 0x00, 0x00], // OUTPKTS u32 50
  [0x0c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00], // INBYTES u64 2^32
  [0x0c, 0x00, 0x05, 0x00, 0x10, 0x27, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // OUTBYTES u64 10000
  [0x08, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x00], // CPS 1
  [0x08, 0x00, 0x07, 0x00, 0x02, 0x00, 0x00, 0x00], // INPPS 2
  [0x08, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00], // OUTPPS 3
  [0x08, 0x00, 0x09, 0x00, 0x04, 0x00, 0x00, 0x00], // INBPS 4
  [0x08, 0x00, 0x0a, 0x00, 0x05, 0x00, 0x00, 0x00], // OUTBPS 5
);
const STATS_32_DECODED = {
  connections: 5, packetsIn: 100, packetsOut: 50, bytesIn: 2 ** 32, bytesOut: 10000,
  connectionsPerSecond: 1, packetsInPerSecond: 2, packetsOutPerSecond: 3, bytesInPerSecond: 4, bytesOutPerSecond: 5,
};
/** IPVS_SVC_ATTR_STATS64: all u64; an IPVS_STATS_ATTR_PAD (11) may appear and is ignored. */
const u64 = (type: number, v: number): number[] => [0x0c, 0x00, type, 0x00, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24, 0, 0, 0, 0];
const STATS_64 = b(
  [0x04, 0x00, 0x0b, 0x00], // IPVS_STATS_ATTR_PAD, empty
  u64(1, 6), u64(2, 101), u64(3, 51), u64(4, 4096), u64(5, 10001), u64(6, 0), u64(7, 0), u64(8, 0), u64(9, 0), u64(10, 7),
);
const STATS_64_DECODED = {
  connections: 6, packetsIn: 101, packetsOut: 51, bytesIn: 4096, bytesOut: 10001,
  connectionsPerSecond: 0, packetsInPerSecond: 0, packetsOutPerSecond: 0, bytesInPerSecond: 0, bytesOutPerSecond: 7,
};
const nest = (type: number, body: Uint8Array): Uint8Array => b([(body.length + 4) & 0xff, (body.length + 4) >> 8, type, 0x00], body); // no NLA_F_NESTED

const SERVICE_BODY = b(
  [0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00], // AF AF_INET
  [0x06, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00], // PROTOCOL TCP
  [0x14, 0x00, 0x03, 0x00, 0x0a, 0x00, 0x00, 0x01], zeros(12), // ADDR 10.0.0.1
  [0x06, 0x00, 0x04, 0x00, 0x00, 0x50, 0x00, 0x00], // PORT 80
  [0x07, 0x00, 0x06, 0x00, 0x6d, 0x68, 0x00, 0x00], // SCHED_NAME "mh"
  [0x0c, 0x00, 0x07, 0x00, 0x0a, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff], // FLAGS: MH_FALLBACK | HASHED, mask
  [0x08, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00], // TIMEOUT 0
  [0x08, 0x00, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff], // NETMASK
);

describeLE('decodeService (kernel-style replies)', () => {
  it('decodes a service with unflagged nests, masks HASHED, reads STATS and STATS64', () => {
    const m = asReply(C.IPVS_CMD_NEW_SERVICE, nest(1, b(SERVICE_BODY, nest(10, STATS_32), nest(12, STATS_64))));
    expect(decodeService(m)).toEqual({
      key: { protocol: 'tcp', address: '10.0.0.1', port: 80 },
      family: 'inet',
      scheduler: 'mh',
      flags: ServiceFlags.MH_FALLBACK,
      timeout: 0,
      netmask: 0xffffffff,
      persistenceEngine: undefined,
      stats: STATS_32_DECODED,
      stats64: STATS_64_DECODED,
    });
  });

  it('decodes a fwmark IPv6 service (no PROTOCOL/ADDR/PORT) with a PE name', () => {
    const body = b(
      [0x06, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x00], // AF_INET6
      [0x08, 0x00, 0x05, 0x00, 0x2a, 0x00, 0x00, 0x00], // FWMARK 42
      [0x08, 0x00, 0x06, 0x00, 0x77, 0x6c, 0x63, 0x00], // SCHED_NAME "wlc"
      [0x08, 0x00, 0x0b, 0x00, 0x73, 0x69, 0x70, 0x00], // PE_NAME "sip"
      [0x0c, 0x00, 0x07, 0x00, 0x03, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff], // PERSISTENT | HASHED
      [0x08, 0x00, 0x08, 0x00, 0x2c, 0x01, 0x00, 0x00], // TIMEOUT 300
      [0x08, 0x00, 0x09, 0x00, 0x40, 0x00, 0x00, 0x00], // NETMASK /64
    );
    expect(decodeService(asReply(C.IPVS_CMD_NEW_SERVICE, nest(1, body)))).toEqual({
      key: { fwmark: 42, family: 'inet6' },
      family: 'inet6',
      scheduler: 'wlc',
      flags: ServiceFlags.PERSISTENT,
      timeout: 300,
      netmask: 64,
      persistenceEngine: 'sip',
      stats: undefined,
      stats64: undefined,
    });
  });

  const malformed: [string, Uint8Array][] = [
    ['no SERVICE attribute', b([0x08, 0x00, 0x02, 0x00, 0, 0, 0, 0])],
    ['missing ADDR', nest(1, b(SERVICE_BODY.subarray(0, 16), SERVICE_BODY.subarray(36)))],
    ['bad AF', nest(1, b([0x06, 0x00, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00], SERVICE_BODY.subarray(8)))],
    ['missing AF', nest(1, SERVICE_BODY.subarray(8))],
    ['unknown protocol', nest(1, b(SERVICE_BODY.subarray(0, 8), [0x06, 0x00, 0x02, 0x00, 0x63, 0x00, 0x00, 0x00], SERVICE_BODY.subarray(16)))],
    ['IPv6 AF with a 4-byte ADDR', nest(1, b([0x06, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x00], SERVICE_BODY.subarray(8, 16), [0x08, 0x00, 0x03, 0x00, 1, 2, 3, 4], SERVICE_BODY.subarray(36)))],
    ['PORT as u32', nest(1, b(SERVICE_BODY.subarray(0, 36), [0x08, 0x00, 0x04, 0x00, 0, 0x50, 0, 0], SERVICE_BODY.subarray(44)))],
    ['truncated nest', nest(1, SERVICE_BODY).subarray(0, 30)],
    ['nest length past its content', b([0xff, 0x00, 0x01, 0x00], SERVICE_BODY)],
    ['truncated STATS member', nest(1, b(SERVICE_BODY, nest(10, STATS_32.subarray(0, 10))))],
    ['STATS counter of 2 bytes', nest(1, b(SERVICE_BODY, nest(10, Uint8Array.of(0x06, 0x00, 0x01, 0x00, 1, 0, 0, 0))))],
  ];
  test.each(malformed)('%s → MalformedMessageError', (_name, attrs) => {
    expect(() => decodeService(asReply(C.IPVS_CMD_NEW_SERVICE, attrs))).toThrow(MalformedMessageError);
  });

  it('points at the broken byte of a truncated nest (20 = nlmsghdr + genlmsghdr)', () => {
    try {
      decodeService(asReply(C.IPVS_CMD_NEW_SERVICE, b([0xff, 0x00, 0x01, 0x00], SERVICE_BODY)));
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toBeInstanceOf(MalformedMessageError);
      expect((e as MalformedMessageError).offset).toBe(20);
    }
    try {
      // STATS nest at SERVICE offset 4 + SERVICE_BODY; its second member is cut after 2 bytes.
      decodeService(asReply(C.IPVS_CMD_NEW_SERVICE, nest(1, b(SERVICE_BODY, nest(10, STATS_32.subarray(0, 10))))));
      throw new Error('expected a throw');
    } catch (e) {
      expect((e as MalformedMessageError).offset).toBe(20 + 4 + SERVICE_BODY.length + 4 + 8);
    }
  });

  it('rejects a reply too short for the generic header', () => {
    const [m] = decodeMessages(encodeMessage({ type: FAMILY_ID, flags: 0, sequence: 1, portId: 1 }, Uint8Array.of(1, 1)));
    expect(() => decodeService(m as NetlinkMessage)).toThrow(MalformedMessageError);
  });
});

const DEST_BODY = b(
  [0x14, 0x00, 0x01, 0x00, 0xc0, 0xa8, 0x01, 0x0a], zeros(12), // ADDR 192.168.1.10
  [0x06, 0x00, 0x02, 0x00, 0x1f, 0x90, 0x00, 0x00], // PORT 8080
  [0x08, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00], // FWD_METHOD TUNNEL
  [0x08, 0x00, 0x04, 0x00, 0x0a, 0x00, 0x00, 0x00], // WEIGHT 10
  [0x05, 0x00, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x00], // TUN_TYPE GUE
  [0x06, 0x00, 0x0e, 0x00, 0x17, 0xc0, 0x00, 0x00], // TUN_PORT 6080
  [0x06, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x00], // TUN_FLAGS NOCSUM
  [0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00], // U_THRESH 0
  [0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00], // L_THRESH 0
  [0x08, 0x00, 0x07, 0x00, 0x03, 0x00, 0x00, 0x00], // ACTIVE_CONNS 3
  [0x08, 0x00, 0x08, 0x00, 0x04, 0x00, 0x00, 0x00], // INACT_CONNS 4
  [0x08, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00], // PERSIST_CONNS 0
);
const DEST_AF_INET = Uint8Array.of(0x06, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00); // ADDR_FAMILY AF_INET

describeLE('decodeDestination (kernel-style replies)', () => {
  it('decodes a GUE tunnel destination with stats', () => {
    const m = asReply(C.IPVS_CMD_NEW_DEST, nest(2, b(DEST_BODY, DEST_AF_INET, nest(10, STATS_32), nest(12, STATS_64))));
    expect(decodeDestination(m, 'inet')).toEqual({
      address: '192.168.1.10',
      port: 8080,
      family: 'inet',
      forwarding: 'tunnel',
      weight: 10,
      upperThreshold: 0,
      lowerThreshold: 0,
      tunnel: { type: 'gue', port: 6080, flags: 1 },
      activeConnections: 3,
      inactiveConnections: 4,
      persistentConnections: 0,
      stats: STATS_32_DECODED,
      stats64: STATS_64_DECODED,
    });
  });

  it('without ADDR_FAMILY (older kernels) the service family applies; non-tunnel has no tunnel', () => {
    const body = b(
      [0x14, 0x00, 0x01, 0x00, 0xfd, 0x00, ...zeros(13), 0x05], // ADDR fd00::5
      [0x06, 0x00, 0x02, 0x00, 0x00, 0x50, 0x00, 0x00], // PORT 80
      [0x08, 0x00, 0x03, 0x00, 0x03, 0x00, 0x00, 0x00], // FWD DROUTE
      [0x08, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00], // WEIGHT 0
      [0x05, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x00], // TUN_TYPE 0 (sent regardless)
    );
    expect(decodeDestination(asReply(C.IPVS_CMD_NEW_DEST, nest(2, body)), 'inet6')).toMatchObject({
      address: 'fd00::5',
      family: 'inet6',
      forwarding: 'direct',
      weight: 0,
      tunnel: undefined,
    });
  });

  it('FWD_METHOD keeps only IP_VS_CONN_F_FWD_MASK', () => {
    const body = b(DEST_BODY.subarray(0, 28), [0x08, 0x00, 0x03, 0x00, 0x83, 0x01, 0x00, 0x00], DEST_BODY.subarray(36));
    expect(decodeDestination(asReply(C.IPVS_CMD_NEW_DEST, nest(2, body)), 'inet').forwarding).toBe('direct');
  });

  const malformed: [string, Uint8Array][] = [
    ['no DEST attribute', nest(1, SERVICE_BODY)],
    ['missing ADDR', nest(2, DEST_BODY.subarray(20))],
    ['bad ADDR_FAMILY', nest(2, b(DEST_BODY, [0x06, 0x00, 0x0b, 0x00, 0x07, 0x00, 0x00, 0x00]))],
    ['ADDR_FAMILY inet6 with an IPv4-sized address', nest(2, b([0x08, 0x00, 0x01, 0x00, 1, 2, 3, 4], [0x06, 0x00, 0x0b, 0x00, 0x0a, 0x00, 0x00, 0x00]))],
    ['truncated nest', nest(2, DEST_BODY).subarray(0, 50)],
    ['WEIGHT as u16', nest(2, b(DEST_BODY.subarray(0, 36), [0x06, 0x00, 0x04, 0x00, 0x0a, 0x00, 0x00, 0x00], DEST_BODY.subarray(44)))],
  ];
  test.each(malformed)('%s → MalformedMessageError', (_name, attrs) => {
    expect(() => decodeDestination(asReply(C.IPVS_CMD_NEW_DEST, attrs), 'inet')).toThrow(MalformedMessageError);
  });
});

describeLE('decodeInfo / decodeTimeouts', () => {
  it('decodes GET_INFO', () => {
    const m = asReply(C.IPVS_CMD_SET_INFO, b(
      [0x08, 0x00, 0x01, 0x00, 0x03, 0x02, 0x01, 0x00], // INFO_VERSION 0x010203 → 1.2.3
      [0x08, 0x00, 0x02, 0x00, 0x00, 0x10, 0x00, 0x00], // CONN_TAB_SIZE 4096
    ));
    expect(decodeInfo(m)).toEqual({ version: '1.2.3', versionCode: 0x010203, connectionTableSize: 4096 });
  });

  it('decodes GET_CONFIG', () => {
    expect(decodeTimeouts(asReply(C.IPVS_CMD_SET_CONFIG, encodeTimeouts({ tcp: 900, tcpFin: 120, udp: 300 })))).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
  });

  it('rejects a wrong-sized info attribute', () => {
    expect(() => decodeInfo(asReply(C.IPVS_CMD_SET_INFO, Uint8Array.of(0x06, 0x00, 0x01, 0x00, 1, 2, 0, 0)))).toThrow(MalformedMessageError);
  });
});

// ---------------------------------------------------------------------------------------
// Round trips: what we send, echoed back as a reply, decodes to the same fields.

const port = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.nat({ max: 0xffffffff });
const name = fc.string({ unit: 'grapheme-ascii', maxLength: 15 }).filter((s) => !s.includes('\0'));
const address = fc.oneof(fc.ipV4(), fc.ipV6());
const serviceKey: fc.Arbitrary<ServiceKey> = fc.oneof(
  fc.record({ protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const), address, port }),
  fc.record({ fwmark: fc.integer({ min: 1, max: 0xffffffff }), family: fc.constantFrom('inet' as const, 'inet6' as const) }),
);
const serviceSpec: fc.Arbitrary<ServiceSpec> = fc.record(
  {
    key: serviceKey,
    scheduler: name,
    flags: fc.nat({ max: 0x7fffffff }),
    timeout: u32,
    netmask: u32,
    persistenceEngine: name,
  },
  { requiredKeys: ['key', 'scheduler'] },
);
const destinationSpec: fc.Arbitrary<DestinationSpec> = fc.record(
  {
    address,
    port,
    forwarding: fc.constantFrom('masquerade' as const, 'local' as const, 'tunnel' as const, 'direct' as const, 'bypass' as const),
    weight: fc.nat({ max: 0x7fffffff }), // the kernel's weight is an int
    upperThreshold: u32,
    lowerThreshold: u32,
    tunnel: fc.record({ type: fc.constantFrom('ipip' as const, 'gue' as const, 'gre' as const), port, flags: port }, { requiredKeys: ['type'] }),
  },
  { requiredKeys: ['address', 'port', 'forwarding', 'weight'] },
);

function canonicalKey(key: ServiceKey): ServiceKey {
  return 'fwmark' in key ? key : { ...key, address: parseIp(key.address).text };
}
const familyOf = (key: ServiceKey) => ('fwmark' in key ? key.family : parseIp(key.address).family);

describe('round trips', () => {
  it('ServiceSpec → encodeService → reply → decodeService', () => {
    fc.assert(
      fc.property(serviceSpec, (spec) => {
        const s = decodeService(asReply(C.IPVS_CMD_NEW_SERVICE, encodeService(spec)));
        expect(s).toEqual({
          key: canonicalKey(spec.key),
          family: familyOf(spec.key),
          scheduler: spec.scheduler,
          flags: (spec.flags ?? 0) & ~ServiceFlags.HASHED,
          timeout: spec.timeout ?? 0,
          netmask: spec.netmask ?? (familyOf(spec.key) === 'inet' ? 0xffffffff : 128),
          persistenceEngine: spec.persistenceEngine,
          stats: undefined,
          stats64: undefined,
        });
      }),
      { numRuns: 300 },
    );
  });

  it('ServiceKey → encodeServiceKey → reply → decodeService key', () => {
    fc.assert(
      fc.property(serviceKey, (key) => {
        expect(decodeService(asReply(C.IPVS_CMD_NEW_SERVICE, encodeServiceKey(key))).key).toEqual(canonicalKey(key));
      }),
    );
  });

  it('DestinationSpec → encodeDestination → reply → decodeDestination', () => {
    fc.assert(
      fc.property(serviceKey, destinationSpec, (service, spec) => {
        const d = decodeDestination(asReply(C.IPVS_CMD_NEW_DEST, encodeDestination(service, spec)), familyOf(service));
        const ip = parseIp(spec.address);
        expect(d).toEqual({
          address: ip.text,
          port: spec.port,
          family: ip.family,
          forwarding: spec.forwarding,
          weight: spec.weight,
          upperThreshold: spec.upperThreshold ?? 0,
          lowerThreshold: spec.lowerThreshold ?? 0,
          tunnel:
            spec.forwarding === 'tunnel'
              ? { type: spec.tunnel?.type ?? 'ipip', port: spec.tunnel?.port ?? 0, flags: spec.tunnel?.flags ?? 0 }
              : undefined,
          activeConnections: 0,
          inactiveConnections: 0,
          persistentConnections: 0,
          stats: undefined,
          stats64: undefined,
        });
      }),
      { numRuns: 300 },
    );
  });

  // SRC BUG: decodeService returns `flags & ~ServiceFlags.HASHED`, a signed 32-bit result, so
  // a flags word with bit 31 set decodes negative and no longer "compares equal to what was
  // set" (model.ts). Fix in codec/decode.ts: `flags: (flags & ~ServiceFlags.HASHED) >>> 0`.
  test('service flags with bit 31 set round-trip unsigned', () => {
    const spec: ServiceSpec = { key: TCP_10_0_0_1_80, scheduler: 'rr', flags: 0x80000001 };
    expect(decodeService(asReply(C.IPVS_CMD_NEW_SERVICE, encodeService(spec))).flags).toBe(0x80000001);
  });

  it('corrupted replies never crash: a decode either succeeds or throws MalformedMessageError', () => {
    const services = fc.sample(serviceSpec, { numRuns: 20, seed: 42 }).map((s) => encodeService(s));
    const full = nest(1, b(SERVICE_BODY, nest(10, STATS_32), nest(12, STATS_64)));
    const dest = nest(2, b(DEST_BODY, DEST_AF_INET, nest(10, STATS_32)));
    const corpus = [...services, full, dest];
    const mutation = fc.record({
      pick: fc.nat(),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      cut: fc.option(fc.nat()),
    });
    fc.assert(
      fc.property(mutation, ({ pick, edits, cut }) => {
        const original = corpus[pick % corpus.length] as Uint8Array;
        const bytes = Uint8Array.from(original);
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        const attrs = cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
        for (const decode of [
          () => decodeService(asReply(C.IPVS_CMD_NEW_SERVICE, attrs)),
          () => decodeDestination(asReply(C.IPVS_CMD_NEW_DEST, attrs), 'inet'),
        ]) {
          try {
            decode();
          } catch (e) {
            expect(e).toBeInstanceOf(MalformedMessageError);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
