import { AttributeDecoder, decodeGeneric, formatIp, HOST_LITTLE_ENDIAN, MalformedMessageError, AF_INET, AF_INET6, type AddressFamily, type NetlinkMessage } from '@balanced/netlink';
import { ServiceFlags, type Destination, type ForwardingMethod, type Info, type Protocol, type Service, type ServiceKey, type Stats, type Timeouts, type TunnelType } from '../model.js';
import * as C from './constants.js';

const FORWARDING_BY_NUMBER: readonly ForwardingMethod[] = ['masquerade', 'local', 'tunnel', 'direct', 'bypass'];
const TUNNEL_BY_NUMBER: readonly TunnelType[] = ['ipip', 'gue', 'gre'];
const PROTOCOL_BY_NUMBER = new Map<number, Protocol>([
  [C.IPPROTO_TCP, 'tcp'],
  [C.IPPROTO_UDP, 'udp'],
  [C.IPPROTO_SCTP, 'sctp'],
]);

function family(n: number, at: number): AddressFamily {
  if (n === AF_INET) return 'inet';
  if (n === AF_INET6) return 'inet6';
  throw new MalformedMessageError(`address family ${n} is neither AF_INET nor AF_INET6`, at);
}

/** A counter attribute: IPVS_SVC_ATTR_STATS mixes u32 and u64, STATS64 is all u64. */
function counter(d: AttributeDecoder): number {
  return d.bytes().length === 8 ? Number(d.u64()) : d.u32();
}

function decodeStats(d: AttributeDecoder): Stats {
  const s = { connections: 0, packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, connectionsPerSecond: 0, packetsInPerSecond: 0, packetsOutPerSecond: 0, bytesInPerSecond: 0, bytesOutPerSecond: 0 };
  d.nested((n) => {
    while (n.next()) {
      switch (n.type()) {
        case C.IPVS_STATS_ATTR_CONNS: s.connections = counter(n); break;
        case C.IPVS_STATS_ATTR_INPKTS: s.packetsIn = counter(n); break;
        case C.IPVS_STATS_ATTR_OUTPKTS: s.packetsOut = counter(n); break;
        case C.IPVS_STATS_ATTR_INBYTES: s.bytesIn = counter(n); break;
        case C.IPVS_STATS_ATTR_OUTBYTES: s.bytesOut = counter(n); break;
        case C.IPVS_STATS_ATTR_CPS: s.connectionsPerSecond = counter(n); break;
        case C.IPVS_STATS_ATTR_INPPS: s.packetsInPerSecond = counter(n); break;
        case C.IPVS_STATS_ATTR_OUTPPS: s.packetsOutPerSecond = counter(n); break;
        case C.IPVS_STATS_ATTR_INBPS: s.bytesInPerSecond = counter(n); break;
        case C.IPVS_STATS_ATTR_OUTBPS: s.bytesOutPerSecond = counter(n); break;
      }
    }
  });
  return s;
}

function topLevel(message: NetlinkMessage): AttributeDecoder {
  const { attributes } = decodeGeneric(message.data);
  return new AttributeDecoder(attributes, 20);
}

/** A NEW_SERVICE reply (GET_SERVICE or its dump). */
export function decodeService(message: NetlinkMessage): Service {
  const top = topLevel(message);
  let service: Service | undefined;
  while (top.next()) {
    if (top.type() === C.IPVS_CMD_ATTR_SERVICE) top.nested((s) => (service = decodeServiceAttributes(s)));
  }
  const e = top.err();
  if (e) throw e;
  if (!service) throw new MalformedMessageError('service reply without IPVS_CMD_ATTR_SERVICE', 20);
  return service;
}

function decodeServiceAttributes(s: AttributeDecoder): Service | undefined {
  let af = 0;
  let protocol = 0;
  let addr: Uint8Array | undefined;
  let port = 0;
  let fwmark: number | undefined;
  let scheduler = '';
  let flags = 0;
  let timeout = 0;
  let netmask = 0;
  let persistenceEngine: string | undefined;
  let stats: Stats | undefined;
  let stats64: Stats | undefined;
  while (s.next()) {
    switch (s.type()) {
      case C.IPVS_SVC_ATTR_AF: af = s.u16(); break;
      case C.IPVS_SVC_ATTR_PROTOCOL: protocol = s.u16(); break;
      case C.IPVS_SVC_ATTR_ADDR: addr = s.bytes(); break;
      case C.IPVS_SVC_ATTR_PORT: port = s.be16(); break;
      case C.IPVS_SVC_ATTR_FWMARK: fwmark = s.u32(); break;
      case C.IPVS_SVC_ATTR_SCHED_NAME: scheduler = s.string(); break;
      case C.IPVS_SVC_ATTR_FLAGS: {
        const b = s.bytes();
        if (b.length >= 4) flags = new DataView(b.buffer, b.byteOffset, 4).getUint32(0, HOST_LITTLE_ENDIAN);
        break;
      }
      case C.IPVS_SVC_ATTR_TIMEOUT: timeout = s.u32(); break;
      case C.IPVS_SVC_ATTR_NETMASK: netmask = s.u32(); break;
      case C.IPVS_SVC_ATTR_PE_NAME: persistenceEngine = s.string(); break;
      case C.IPVS_SVC_ATTR_STATS: stats = decodeStats(s); break;
      case C.IPVS_SVC_ATTR_STATS64: stats64 = decodeStats(s); break;
    }
  }
  if (s.err()) return undefined;
  const fam = family(af, 0);
  let key: ServiceKey;
  if (fwmark !== undefined && fwmark !== 0) {
    key = { fwmark, family: fam };
  } else {
    const proto = PROTOCOL_BY_NUMBER.get(protocol);
    if (!proto) throw new MalformedMessageError(`service protocol ${protocol} is not tcp, udp or sctp`, 0);
    if (!addr || addr.length < (fam === 'inet' ? 4 : 16)) throw new MalformedMessageError('service without a usable IPVS_SVC_ATTR_ADDR', 0);
    key = { protocol: proto, address: formatIp(addr, fam), port };
  }
  return { key, family: fam, scheduler, flags: (flags & ~ServiceFlags.HASHED) >>> 0, timeout, netmask, persistenceEngine, stats, stats64 };
}

/** A NEW_DEST reply from the GET_DEST dump. */
export function decodeDestination(message: NetlinkMessage, serviceFamily: AddressFamily): Destination {
  const top = topLevel(message);
  let dest: Destination | undefined;
  while (top.next()) {
    if (top.type() === C.IPVS_CMD_ATTR_DEST) top.nested((d) => (dest = decodeDestinationAttributes(d, serviceFamily)));
  }
  const e = top.err();
  if (e) throw e;
  if (!dest) throw new MalformedMessageError('destination reply without IPVS_CMD_ATTR_DEST', 20);
  return dest;
}

function decodeDestinationAttributes(d: AttributeDecoder, serviceFamily: AddressFamily): Destination | undefined {
  let addr: Uint8Array | undefined;
  let port = 0;
  let fwd = 0;
  let weight = 0;
  let upperThreshold = 0;
  let lowerThreshold = 0;
  let activeConnections = 0;
  let inactiveConnections = 0;
  let persistentConnections = 0;
  let af: number | undefined;
  let tunType: number | undefined;
  let tunPort = 0;
  let tunFlags = 0;
  let stats: Stats | undefined;
  let stats64: Stats | undefined;
  while (d.next()) {
    switch (d.type()) {
      case C.IPVS_DEST_ATTR_ADDR: addr = d.bytes(); break;
      case C.IPVS_DEST_ATTR_PORT: port = d.be16(); break;
      case C.IPVS_DEST_ATTR_FWD_METHOD: fwd = d.u32() & C.IP_VS_CONN_F_FWD_MASK; break;
      case C.IPVS_DEST_ATTR_WEIGHT: weight = d.u32() | 0; break;
      case C.IPVS_DEST_ATTR_U_THRESH: upperThreshold = d.u32(); break;
      case C.IPVS_DEST_ATTR_L_THRESH: lowerThreshold = d.u32(); break;
      case C.IPVS_DEST_ATTR_ACTIVE_CONNS: activeConnections = d.u32(); break;
      case C.IPVS_DEST_ATTR_INACT_CONNS: inactiveConnections = d.u32(); break;
      case C.IPVS_DEST_ATTR_PERSIST_CONNS: persistentConnections = d.u32(); break;
      case C.IPVS_DEST_ATTR_ADDR_FAMILY: af = d.u16(); break;
      case C.IPVS_DEST_ATTR_TUN_TYPE: tunType = d.u8(); break;
      case C.IPVS_DEST_ATTR_TUN_PORT: tunPort = d.be16(); break;
      case C.IPVS_DEST_ATTR_TUN_FLAGS: tunFlags = d.u16(); break;
      case C.IPVS_DEST_ATTR_STATS: stats = decodeStats(d); break;
      case C.IPVS_DEST_ATTR_STATS64: stats64 = decodeStats(d); break;
    }
  }
  if (d.err()) return undefined;
  const fam = af === undefined ? serviceFamily : family(af, 0);
  if (!addr || addr.length < (fam === 'inet' ? 4 : 16)) throw new MalformedMessageError('destination without a usable IPVS_DEST_ATTR_ADDR', 0);
  const forwarding = FORWARDING_BY_NUMBER[fwd] ?? 'masquerade';
  const tunnel =
    forwarding === 'tunnel' ? { type: TUNNEL_BY_NUMBER[tunType ?? 0] ?? 'ipip', port: tunPort, flags: tunFlags } : undefined;
  return {
    address: formatIp(addr, fam),
    port,
    family: fam,
    forwarding,
    weight,
    upperThreshold,
    lowerThreshold,
    tunnel,
    activeConnections,
    inactiveConnections,
    persistentConnections,
    stats,
    stats64,
  };
}

export function decodeInfo(message: NetlinkMessage): Info {
  const d = topLevel(message);
  let versionCode = 0;
  let connectionTableSize = 0;
  while (d.next()) {
    if (d.type() === C.IPVS_INFO_ATTR_VERSION) versionCode = d.u32();
    else if (d.type() === C.IPVS_INFO_ATTR_CONN_TAB_SIZE) connectionTableSize = d.u32();
  }
  const e = d.err();
  if (e) throw e;
  const version = `${(versionCode >> 16) & 0xff}.${(versionCode >> 8) & 0xff}.${versionCode & 0xff}`;
  return { version, versionCode, connectionTableSize };
}

export function decodeTimeouts(message: NetlinkMessage): Timeouts {
  const d = topLevel(message);
  let tcp = 0;
  let tcpFin = 0;
  let udp = 0;
  while (d.next()) {
    switch (d.type()) {
      case C.IPVS_CMD_ATTR_TIMEOUT_TCP: tcp = d.u32(); break;
      case C.IPVS_CMD_ATTR_TIMEOUT_TCP_FIN: tcpFin = d.u32(); break;
      case C.IPVS_CMD_ATTR_TIMEOUT_UDP: udp = d.u32(); break;
    }
  }
  const e = d.err();
  if (e) throw e;
  return { tcp, tcpFin, udp };
}
