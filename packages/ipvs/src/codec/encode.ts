import { AttributeEncoder, familyNumber, HOST_LITTLE_ENDIAN, parseIp, type AddressFamily } from '@balanced/netlink';
import { isFwmarkKey, ServiceFlags, type DestinationKey, type DestinationSpec, type ForwardingMethod, type Protocol, type ServiceKey, type ServiceSpec, type TunnelType } from '../model.js';
import * as C from './constants.js';

const FORWARDING: Record<ForwardingMethod, number> = {
  masquerade: C.IP_VS_CONN_F_MASQ,
  local: C.IP_VS_CONN_F_LOCALNODE,
  tunnel: C.IP_VS_CONN_F_TUNNEL,
  direct: C.IP_VS_CONN_F_DROUTE,
  bypass: C.IP_VS_CONN_F_BYPASS,
};
const TUNNEL: Record<TunnelType, number> = {
  ipip: C.IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
  gue: C.IP_VS_CONN_F_TUNNEL_TYPE_GUE,
  gre: C.IP_VS_CONN_F_TUNNEL_TYPE_GRE,
};
const PROTOCOL: Record<Protocol, number> = { tcp: C.IPPROTO_TCP, udp: C.IPPROTO_UDP, sctp: C.IPPROTO_SCTP };

/** union nf_inet_addr: 16 bytes, IPv4 in the first four. */
function inetAddr(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set(bytes);
  return out;
}

export function keyFamily(key: ServiceKey): AddressFamily {
  return isFwmarkKey(key) ? key.family : parseIp(key.address).family;
}

/** AF + (PROTOCOL, ADDR, PORT) or FWMARK: what names a service. */
function putServiceKey(e: AttributeEncoder, key: ServiceKey): void {
  if (isFwmarkKey(key)) {
    // A zero mark reads back as "no fwmark": refuse it rather than create an unnamed service.
    if (key.fwmark === 0) throw new RangeError('fwmark must be 1..4294967295 (0 means no mark)');
    e.u16(C.IPVS_SVC_ATTR_AF, familyNumber(key.family)).u32(C.IPVS_SVC_ATTR_FWMARK, key.fwmark);
    return;
  }
  const ip = parseIp(key.address);
  e.u16(C.IPVS_SVC_ATTR_AF, familyNumber(ip.family))
    .u16(C.IPVS_SVC_ATTR_PROTOCOL, PROTOCOL[key.protocol])
    .bytes(C.IPVS_SVC_ATTR_ADDR, inetAddr(ip.bytes))
    .be16(C.IPVS_SVC_ATTR_PORT, key.port);
}

/** Top-level attributes naming a service (delete, get, dests dump, zero). */
export function encodeServiceKey(key: ServiceKey): Uint8Array {
  return new AttributeEncoder().nested(C.IPVS_CMD_ATTR_SERVICE, (s) => putServiceKey(s, key)).encode();
}

/** The full service entry the kernel requires for NEW_SERVICE / SET_SERVICE. */
export function encodeService(spec: ServiceSpec): Uint8Array {
  const family = keyFamily(spec.key);
  const flags = new Uint8Array(8);
  const v = new DataView(flags.buffer);
  v.setUint32(0, (spec.flags ?? 0) & ~ServiceFlags.HASHED, HOST_LITTLE_ENDIAN);
  v.setUint32(4, 0xffffffff, HOST_LITTLE_ENDIAN); // mask: set every bit to the given value
  return new AttributeEncoder()
    .nested(C.IPVS_CMD_ATTR_SERVICE, (s) => {
      putServiceKey(s, spec.key);
      s.string(C.IPVS_SVC_ATTR_SCHED_NAME, spec.scheduler);
      if (spec.persistenceEngine !== undefined) s.string(C.IPVS_SVC_ATTR_PE_NAME, spec.persistenceEngine);
      s.bytes(C.IPVS_SVC_ATTR_FLAGS, flags)
        .u32(C.IPVS_SVC_ATTR_TIMEOUT, spec.timeout ?? 0)
        .u32(C.IPVS_SVC_ATTR_NETMASK, spec.netmask ?? (family === 'inet' ? 0xffffffff : 128));
    })
    .encode();
}

function putDestinationKey(e: AttributeEncoder, d: DestinationKey): AddressFamily {
  const ip = parseIp(d.address);
  e.bytes(C.IPVS_DEST_ATTR_ADDR, inetAddr(ip.bytes)).be16(C.IPVS_DEST_ATTR_PORT, d.port);
  return ip.family;
}

/** Service key + full destination entry, for NEW_DEST / SET_DEST. */
export function encodeDestination(service: ServiceKey, d: DestinationSpec): Uint8Array {
  return new AttributeEncoder()
    .nested(C.IPVS_CMD_ATTR_SERVICE, (s) => putServiceKey(s, service))
    .nested(C.IPVS_CMD_ATTR_DEST, (e) => {
      const family = putDestinationKey(e, d);
      e.u32(C.IPVS_DEST_ATTR_FWD_METHOD, FORWARDING[d.forwarding])
        .u32(C.IPVS_DEST_ATTR_WEIGHT, d.weight)
        .u32(C.IPVS_DEST_ATTR_U_THRESH, d.upperThreshold ?? 0)
        .u32(C.IPVS_DEST_ATTR_L_THRESH, d.lowerThreshold ?? 0)
        .u16(C.IPVS_DEST_ATTR_ADDR_FAMILY, familyNumber(family));
      if (d.forwarding === 'tunnel' && d.tunnel) {
        e.u8(C.IPVS_DEST_ATTR_TUN_TYPE, TUNNEL[d.tunnel.type]);
        if (d.tunnel.port !== undefined) e.be16(C.IPVS_DEST_ATTR_TUN_PORT, d.tunnel.port);
        if (d.tunnel.flags !== undefined) e.u16(C.IPVS_DEST_ATTR_TUN_FLAGS, d.tunnel.flags);
      }
    })
    .encode();
}

/** Service key + destination address/port, for DEL_DEST. */
export function encodeDestinationKey(service: ServiceKey, d: DestinationKey): Uint8Array {
  return new AttributeEncoder()
    .nested(C.IPVS_CMD_ATTR_SERVICE, (s) => putServiceKey(s, service))
    .nested(C.IPVS_CMD_ATTR_DEST, (e) => {
      const family = putDestinationKey(e, d);
      e.u16(C.IPVS_DEST_ATTR_ADDR_FAMILY, familyNumber(family));
    })
    .encode();
}

export function encodeTimeouts(t: { tcp: number; tcpFin: number; udp: number }): Uint8Array {
  return new AttributeEncoder()
    .u32(C.IPVS_CMD_ATTR_TIMEOUT_TCP, t.tcp)
    .u32(C.IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, t.tcpFin)
    .u32(C.IPVS_CMD_ATTR_TIMEOUT_UDP, t.udp)
    .encode();
}

export { FORWARDING, TUNNEL, PROTOCOL };
