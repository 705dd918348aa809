import type { AddressFamily } from '@balanced/netlink';

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** A virtual service is named by protocol + address + port, or by firewall mark. */
export type ServiceKey =
  | { readonly protocol: Protocol; readonly address: string; readonly port: number }
  | { readonly fwmark: number; readonly family: AddressFamily };

/** Service flag bits (IP_VS_SVC_F_*). Scheduler-specific meanings share SCHED1..3. */
export const ServiceFlags = {
  PERSISTENT: 0x0001,
  /** Set by the kernel on every service it holds; masked out of what the client returns. */
  HASHED: 0x0002,
  ONE_PACKET: 0x0004,
  SCHED1: 0x0008,
  SCHED2: 0x0010,
  SCHED3: 0x0020,
  /** mh: when the chosen destination is unavailable, try the next choice. */
  MH_FALLBACK: 0x0008,
  /** mh: hash the client port as well as the address. */
  MH_PORT: 0x0010,
  SH_FALLBACK: 0x0008,
  SH_PORT: 0x0010,
} as const;

export type Scheduler = 'rr' | 'wrr' | 'lc' | 'wlc' | 'lblc' | 'lblcr' | 'dh' | 'sh' | 'sed' | 'nq' | 'fo' | 'ovf' | 'mh' | 'twos';

export interface ServiceSpec {
  readonly key: ServiceKey;
  /** Scheduler module name, e.g. "mh". */
  readonly scheduler: Scheduler | (string & {});
  /** ServiceFlags bits; HASHED is ignored. Default 0. */
  readonly flags?: number;
  /** Persistence timeout in seconds (with PERSISTENT). Default 0. */
  readonly timeout?: number;
  /** Persistence netmask: an IPv4 mask as u32, or an IPv6 prefix length. Default host. */
  readonly netmask?: number;
  /** Persistence engine, e.g. "sip". */
  readonly persistenceEngine?: string;
}

export interface Stats {
  readonly connections: number;
  readonly packetsIn: number;
  readonly packetsOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly connectionsPerSecond: number;
  readonly packetsInPerSecond: number;
  readonly packetsOutPerSecond: number;
  readonly bytesInPerSecond: number;
  readonly bytesOutPerSecond: number;
}

export interface Service {
  readonly key: ServiceKey;
  readonly family: AddressFamily;
  readonly scheduler: string;
  /** ServiceFlags with HASHED masked out, so it compares equal to what was set. */
  readonly flags: number;
  readonly timeout: number;
  readonly netmask: number;
  readonly persistenceEngine: string | undefined;
  /** 32-bit counters (IPVS_SVC_ATTR_STATS). */
  readonly stats: Stats | undefined;
  /** 64-bit counters (IPVS_SVC_ATTR_STATS64), when the kernel sends them. */
  readonly stats64: Stats | undefined;
}

export type ForwardingMethod = 'masquerade' | 'local' | 'tunnel' | 'direct' | 'bypass';
export type TunnelType = 'ipip' | 'gue' | 'gre';

export interface TunnelSpec {
  readonly type: TunnelType;
  /** Destination UDP port for GUE (required there). */
  readonly port?: number;
  /** IP_VS_TUNNEL_ENCAP_FLAG_* bits (NOCSUM 1, CSUM 2, REMCSUM 4). */
  readonly flags?: number;
}

export interface DestinationKey {
  readonly address: string;
  readonly port: number;
}

export interface DestinationSpec extends DestinationKey {
  readonly forwarding: ForwardingMethod;
  readonly weight: number;
  /** Upper connection threshold; 0 = none. */
  readonly upperThreshold?: number;
  /** Lower connection threshold; 0 = none. */
  readonly lowerThreshold?: number;
  /** Encapsulation for `tunnel` forwarding; default IPIP. */
  readonly tunnel?: TunnelSpec;
}

export interface Destination extends DestinationKey {
  readonly family: AddressFamily;
  readonly forwarding: ForwardingMethod;
  readonly weight: number;
  readonly upperThreshold: number;
  readonly lowerThreshold: number;
  readonly tunnel: Required<TunnelSpec> | undefined;
  readonly activeConnections: number;
  readonly inactiveConnections: number;
  readonly persistentConnections: number;
  readonly stats: Stats | undefined;
  readonly stats64: Stats | undefined;
}

export interface Info {
  /** "major.minor.patch" of the IPVS core. */
  readonly version: string;
  readonly versionCode: number;
  readonly connectionTableSize: number;
}

/** Connection timeouts in seconds (0 on set = leave unchanged). */
export interface Timeouts {
  readonly tcp: number;
  readonly tcpFin: number;
  readonly udp: number;
}

/** One change to the kernel table, for batched `apply`. */
export type IpvsOperation =
  | { readonly op: 'add-service'; readonly service: ServiceSpec }
  | { readonly op: 'update-service'; readonly service: ServiceSpec }
  | { readonly op: 'delete-service'; readonly service: ServiceKey }
  | { readonly op: 'add-destination'; readonly service: ServiceKey; readonly destination: DestinationSpec }
  | { readonly op: 'update-destination'; readonly service: ServiceKey; readonly destination: DestinationSpec }
  | { readonly op: 'delete-destination'; readonly service: ServiceKey; readonly destination: DestinationKey };

export function isFwmarkKey(key: ServiceKey): key is Extract<ServiceKey, { fwmark: number }> {
  return 'fwmark' in key;
}

/** A stable text form: "tcp/10.0.0.1:80", "udp/[fd00::1]:53", "fwmark/inet/7". */
export function serviceKeyString(key: ServiceKey): string {
  if (isFwmarkKey(key)) return `fwmark/${key.family}/${key.fwmark}`;
  const host = key.address.includes(':') ? `[${key.address}]` : key.address;
  return `${key.protocol}/${host}:${key.port}`;
}

export function destinationKeyString(d: DestinationKey): string {
  const host = d.address.includes(':') ? `[${d.address}]` : d.address;
  return `${host}:${d.port}`;
}
