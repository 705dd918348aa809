// The TypeScript mirror of bpf/resolver.h: constants, the byte layout of every struct as
// data (STRUCTS: size + member offsets), and pure codecs over Uint8Array that read their
// offsets from that same table. test/btf-layout.integration.test.ts compares STRUCTS with
// the compiled object's BTF, so a field added on one side only fails the build.
//
// Byte order: ports are network order (big-endian); every other multi-byte field is host
// order, which on the only supported host (x86-64) is little-endian. Nothing here touches
// koffi or the kernel.
import ipaddr from 'ipaddr.js';
import { newSlotArray, type BackendEntry, type FrontendEntry, type FrontendKind, type Protocol, type ServiceTable } from '../model.js';
import { dottedQuadValue } from '../dotted-quad.js';

// ---------------------------------------------------------------- errors

export type LayoutErrorCode =
  /** A value does not fit its field (or is not valid there): nothing was encoded. */
  | 'BPF_LAYOUT_RANGE'
  /** Bytes read from a map are not a valid instance of the struct. */
  | 'BPF_LAYOUT_MALFORMED';

/** The codec layer's one error: which struct and field, and why. */
export class LayoutError extends Error {
  override readonly name = 'LayoutError';
  readonly code: LayoutErrorCode;
  /** `struct.field`, e.g. `frontend_key.port`. */
  readonly field: string;

  constructor(code: LayoutErrorCode, field: string, message: string) {
    super(`${field}: ${message}`);
    this.code = code;
    this.field = field;
  }
}

// ---------------------------------------------------------------- constants (resolver.h)

/** Host order of non-port fields: little-endian (x86-64). */
export const HOST_LITTLE_ENDIAN = true;

export const MAX_FRONTENDS = 262144;
export const MAX_SERVICES = 65536;
export const MAX_BACKENDS = 262144;
export const MAX_REVNAT = 65536;
export const MAX_AFFINITY = 16384;
export const MAX_DOOMED = 65536;
export const EVENTS_RING_BYTES = 256 * 1024;

export const SERVICE_CHUNK_BYTES = 64;
export const SERVICE_IDS_PER_CHUNK = 16;
export const SERVICE_SLOTS_PER_CHUNK = 32;
export const SERVICE_MAX_BACKENDS = 65535;

export const SVC_F_AFFINITY = 0x1;
export const SVC_F_LOCAL_ONLY = 0x2;
export const SVC_F_REFUSE_EMPTY = 0x4;
/** service_header.skip_cgroups entries: cgroup ids a service is not resolved for. */
export const MAX_SKIP_CGROUPS = 4;
/** Ancestor levels (1 ..) of a client's cgroup the programs compare with a skip list. */
export const SKIP_CGROUP_LEVELS = 16;
const SVC_F_ALL = SVC_F_AFFINITY | SVC_F_LOCAL_ONLY | SVC_F_REFUSE_EMPTY;

export const BACKEND_F_LOCAL = 0x1;

export const CFG_F_HOST_NETNS_ONLY = 0x1;
export const CFG_F_EVENTS = 0x2;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** enum frontend_kind, by the model's name. */
export const FRONTEND_KIND_VALUES: Readonly<Record<FrontendKind, number>> = { redirect: 0, balancing: 1, service: 2 };
export const FRONTEND_KIND_COUNT = 3;

/** enum resolver_counter, by name (index into bd_counters). */
export const COUNTERS = {
  resolved: 0,
  refused: 1,
  fallthrough: 2,
  noBackend: 3,
  revnat: 4,
  revnatStale: 5,
  affinityHit: 6,
  eventsDropped: 7,
  destroyed: 8,
  skippedNetns: 9,
  skippedSelf: 10,
} as const;
export type CounterName = keyof typeof COUNTERS;
/** CNT_MAX: bd_counters max_entries. */
export const CNT_MAX = 16;

/** enum resolution_hook, by name. */
export const HOOKS = ['connect4', 'connect6', 'sendmsg4', 'sendmsg6', 'recvmsg4', 'recvmsg6', 'getpeername4', 'getpeername6'] as const;
export type HookName = (typeof HOOKS)[number];
/** enum resolution_outcome, by name. */
export const OUTCOMES = ['resolved', 'refused', 'no-backend', 'family-mismatch'] as const;
export type OutcomeName = (typeof OUTCOMES)[number];

/** The C enums as data (the BTF test compares them with the object's ENUM types when present). */
export const ENUMS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  frontend_kind: { FRONTEND_KIND_REDIRECT: 0, FRONTEND_KIND_BALANCING: 1, FRONTEND_KIND_SERVICE: 2, FRONTEND_KIND_COUNT: 3 },
  resolver_counter: {
    CNT_RESOLVED: 0, CNT_REFUSED: 1, CNT_FALLTHROUGH: 2, CNT_NO_BACKEND: 3, CNT_REVNAT: 4, CNT_REVNAT_STALE: 5,
    CNT_AFFINITY_HIT: 6, CNT_EVENTS_DROPPED: 7, CNT_DESTROYED: 8, CNT_SKIPPED_NETNS: 9, CNT_SKIPPED_SELF: 10, CNT_MAX: 16,
  },
  resolution_hook: {
    HOOK_CONNECT4: 0, HOOK_CONNECT6: 1, HOOK_SENDMSG4: 2, HOOK_SENDMSG6: 3,
    HOOK_RECVMSG4: 4, HOOK_RECVMSG6: 5, HOOK_GETPEERNAME4: 6, HOOK_GETPEERNAME6: 7,
  },
  resolution_outcome: { OUTCOME_RESOLVED: 0, OUTCOME_REFUSED: 1, OUTCOME_NO_BACKEND: 2, OUTCOME_FAMILY_MISMATCH: 3 },
};

// ---------------------------------------------------------------- struct layouts as data

/** Element type of a member: `u16be` is a network-order u16; `struct` a nested struct. */
export type FieldType = 'u8' | 'u16' | 'u16be' | 'u32' | 'u64' | 'struct';

export interface FieldLayout {
  readonly name: string;
  /** Byte offset from the start of the struct (members of an anonymous union are flattened). */
  readonly offset: number;
  /** Total bytes (element size × count). */
  readonly size: number;
  readonly type: FieldType;
}

export interface StructLayout<N extends string = string> {
  readonly name: string;
  readonly size: number;
  readonly fields: readonly FieldLayout[];
  /** Offset by member name, for the codecs. */
  readonly at: Readonly<Record<N, number>>;
}

type FieldDef<N extends string> = readonly [name: N, offset: number, type: FieldType, size: number];

function struct<const N extends string>(name: string, size: number, defs: readonly FieldDef<N>[]): StructLayout<N> {
  const at = {} as Record<N, number>;
  const fields = defs.map(([field, offset, type, bytes]) => {
    at[field] = offset;
    return { name: field, offset, size: bytes, type };
  });
  return { name, size, fields, at };
}

export const FRONTEND_KEY = struct('frontend_key', 20, [
  ['addr', 0, 'u8', 16],
  ['port', 16, 'u16be', 2],
  ['proto', 18, 'u8', 1],
  ['kind', 19, 'u8', 1],
]);
export const FRONTEND_VALUE = struct('frontend_value', 4, [['service_id', 0, 'u32', 4]]);
export const SERVICE_HEADER = struct('service_header', 64, [
  ['table_size', 0, 'u32', 4],
  ['backend_count', 4, 'u32', 4],
  ['flags', 8, 'u32', 4],
  ['affinity_timeout', 12, 'u32', 4],
  ['backends_end', 16, 'u32', 4],
  ['revision', 20, 'u32', 4],
  ['skip_cgroups', 24, 'u64', 8 * MAX_SKIP_CGROUPS],
  ['pad', 56, 'u8', 8],
]);
/** One value of an inner service map: a union, flattened (every member at offset 0). */
export const SERVICE_CHUNK = struct('service_chunk', SERVICE_CHUNK_BYTES, [
  ['header', 0, 'struct', 64],
  ['ids', 0, 'u32', 4 * SERVICE_IDS_PER_CHUNK],
  ['slots', 0, 'u16', 2 * SERVICE_SLOTS_PER_CHUNK],
  ['bytes', 0, 'u8', SERVICE_CHUNK_BYTES],
]);
export const BACKEND_VALUE = struct('backend_value', 20, [
  ['addr', 0, 'u8', 16],
  ['port', 16, 'u16be', 2],
  ['flags', 18, 'u8', 1],
  ['pad', 19, 'u8', 1],
]);
export const REVNAT_KEY = struct('revnat_key', 32, [
  ['cookie', 0, 'u64', 8],
  ['addr', 8, 'u8', 16],
  ['port', 24, 'u16be', 2],
  ['pad', 26, 'u8', 6],
]);
export const REVNAT_VALUE = struct('revnat_value', 24, [
  ['addr', 0, 'u8', 16],
  ['port', 16, 'u16be', 2],
  ['proto', 18, 'u8', 1],
  ['kind', 19, 'u8', 1],
  ['service_id', 20, 'u32', 4],
]);
export const AFFINITY_KEY = struct('affinity_key', 16, [
  ['netns_cookie', 0, 'u64', 8],
  ['service_id', 8, 'u32', 4],
  ['pad', 12, 'u32', 4],
]);
export const AFFINITY_VALUE = struct('affinity_value', 16, [
  ['last_used_ns', 0, 'u64', 8],
  ['backend_id', 8, 'u32', 4],
  ['index', 12, 'u32', 4],
]);
export const DOOMED_KEY = struct('doomed_key', 24, [
  ['service_id', 0, 'u32', 4],
  ['port', 4, 'u16be', 2],
  ['pad', 6, 'u16', 2],
  ['addr', 8, 'u8', 16],
]);
export const RESOLVER_CONFIG = struct('resolver_config', 16, [
  ['host_netns_cookie', 0, 'u64', 8],
  ['flags', 8, 'u32', 4],
  ['pad', 12, 'u32', 4],
]);
/** EVENT_COMM_BYTES: the task name in an event (TASK_COMM_LEN). */
export const EVENT_COMM_BYTES = 16;
export const RESOLUTION_EVENT = struct('resolution_event', 96, [
  ['timestamp_ns', 0, 'u64', 8],
  ['cgroup_id', 8, 'u64', 8],
  ['netns_cookie', 16, 'u64', 8],
  ['socket_cookie', 24, 'u64', 8],
  ['frontend_addr', 32, 'u8', 16],
  ['backend_addr', 48, 'u8', 16],
  ['frontend_port', 64, 'u16be', 2],
  ['backend_port', 66, 'u16be', 2],
  ['service_id', 68, 'u32', 4],
  ['backend_id', 72, 'u32', 4],
  ['proto', 76, 'u8', 1],
  ['hook', 77, 'u8', 1],
  ['outcome', 78, 'u8', 1],
  ['kind', 79, 'u8', 1],
  ['comm', 80, 'u8', EVENT_COMM_BYTES],
]);

/** Every struct of resolver.h, by its C name. */
export const STRUCTS: Readonly<Record<string, StructLayout>> = Object.fromEntries(
  [
    FRONTEND_KEY, FRONTEND_VALUE, SERVICE_HEADER, SERVICE_CHUNK, BACKEND_VALUE, REVNAT_KEY, REVNAT_VALUE,
    AFFINITY_KEY, AFFINITY_VALUE, DOOMED_KEY, RESOLVER_CONFIG, RESOLUTION_EVENT,
  ].map((s) => [s.name, s as StructLayout]),
);

// ---------------------------------------------------------------- maps

/** enum bpf_map_type values the resolver uses (linux/bpf.h). */
export const BPF_MAP_TYPE = {
  HASH: 1,
  ARRAY: 2,
  PERCPU_ARRAY: 6,
  LRU_HASH: 9,
  HASH_OF_MAPS: 13,
  RINGBUF: 27,
} as const;

export type ResolverMapName =
  | 'bd_frontends' | 'bd_services' | 'bd_backends' | 'bd_revnat' | 'bd_affinity'
  | 'bd_doomed' | 'bd_config' | 'bd_counters' | 'bd_events';

export interface MapSpec {
  readonly type: number;
  readonly keySize: number;
  /** As the kernel reports it (per-CPU maps: one CPU's value; HASH_OF_MAPS: 4, the fd/id). */
  readonly valueSize: number;
  readonly maxEntries: number;
}

/** Every pinned map: what ResolverMaps.open checks the kernel's map info against. */
export const MAP_SPECS: Readonly<Record<ResolverMapName, MapSpec>> = {
  bd_frontends: { type: BPF_MAP_TYPE.HASH, keySize: FRONTEND_KEY.size, valueSize: FRONTEND_VALUE.size, maxEntries: MAX_FRONTENDS },
  bd_services: { type: BPF_MAP_TYPE.HASH_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: MAX_SERVICES },
  bd_backends: { type: BPF_MAP_TYPE.HASH, keySize: 4, valueSize: BACKEND_VALUE.size, maxEntries: MAX_BACKENDS },
  bd_revnat: { type: BPF_MAP_TYPE.LRU_HASH, keySize: REVNAT_KEY.size, valueSize: REVNAT_VALUE.size, maxEntries: MAX_REVNAT },
  bd_affinity: { type: BPF_MAP_TYPE.LRU_HASH, keySize: AFFINITY_KEY.size, valueSize: AFFINITY_VALUE.size, maxEntries: MAX_AFFINITY },
  bd_doomed: { type: BPF_MAP_TYPE.HASH, keySize: DOOMED_KEY.size, valueSize: 1, maxEntries: MAX_DOOMED },
  bd_config: { type: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: RESOLVER_CONFIG.size, maxEntries: 1 },
  bd_counters: { type: BPF_MAP_TYPE.PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: CNT_MAX },
  bd_events: { type: BPF_MAP_TYPE.RINGBUF, keySize: 0, valueSize: 0, maxEntries: EVENTS_RING_BYTES },
};

export const MAP_NAMES = Object.keys(MAP_SPECS) as ResolverMapName[];

// ---------------------------------------------------------------- scalar helpers

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// The hot codecs (u32 keys, backend values, frontend keys and values, service tables) write
// and read bytes directly: a DataView needs `bytes.buffer`, and reading that off a small typed
// array makes V8 move its bytes out of the heap (one malloc'd backing store each, ~3 µs and GC
// work). A first pass at 10,000 Services encodes about 450,000 such arrays.

/** u32 at `offset`, little-endian (the host order: HOST_LITTLE_ENDIAN). */
function putU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = value >>> 24;
}

function getU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] as number) | ((bytes[offset + 1] as number) << 8) | ((bytes[offset + 2] as number) << 16) | ((bytes[offset + 3] as number) << 24)) >>> 0;
}

/** A port in network order (u16be) at `offset`. */
function putPortBytes(bytes: Uint8Array, offset: number, port: number, field: string): void {
  checkUint(field, port, 16);
  bytes[offset] = port >>> 8;
  bytes[offset + 1] = port & 0xff;
}

function getPortBytes(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] as number) << 8) | (bytes[offset + 1] as number);
}

function checkLength(field: string, bytes: Uint8Array, size: number): void {
  if (bytes.byteLength !== size) throw malformed(field, `expected ${size} bytes, got ${bytes.byteLength}`);
}

function range(field: string, message: string): LayoutError {
  return new LayoutError('BPF_LAYOUT_RANGE', field, message);
}

function malformed(field: string, message: string): LayoutError {
  return new LayoutError('BPF_LAYOUT_MALFORMED', field, message);
}

function checkUint(field: string, value: number, bits: 8 | 16 | 32, min = 0): number {
  const max = 2 ** bits - 1;
  if (!Number.isInteger(value) || value < min || value > max) throw range(field, `${value} is not an integer in ${min}..${max}`);
  return value;
}

function checkU64(field: string, value: bigint): bigint {
  if (typeof value !== 'bigint' || value < 0n || value > 0xffff_ffff_ffff_ffffn) throw range(field, `${String(value)} is not a u64`);
  return value;
}

function checkSize(field: string, bytes: Uint8Array, size: number): DataView {
  if (bytes.byteLength !== size) throw malformed(field, `expected ${size} bytes, got ${bytes.byteLength}`);
  return view(bytes);
}

/** Text address → 16 bytes (IPv4 as ::ffff:a.b.c.d). IPv4 must be a dotted quad, never IPv4-mapped text. */
export function encodeAddress(address: string, field = 'addr'): Uint8Array {
  const v4 = new Uint8Array(16);
  if (putDottedQuad(v4, 0, address)) return v4;
  if (!ipaddr.IPv6.isValid(address)) throw range(field, `${JSON.stringify(address)} is not an IPv4 dotted quad or an IPv6 address`);
  const v6 = ipaddr.IPv6.parse(address);
  if (v6.zoneId !== undefined) throw range(field, `${address}: a zone id cannot be stored`);
  if (v6.isIPv4MappedAddress()) throw range(field, `${address}: write IPv4 as a dotted quad (${v6.toIPv4Address().toString()})`);
  return Uint8Array.from(v6.toByteArray());
}

/**
 * A dotted quad as ipaddr.js's isValidFourPartDecimal reads it (no leading zeros, each ≤ 255)
 * → ::ffff:a.b.c.d written at bytes[offset..offset+16) (which must be zero); false (and
 * nothing written) when `address` is not one.
 */
function putDottedQuad(bytes: Uint8Array, offset: number, address: string): boolean {
  const quad = dottedQuadValue(address);
  if (quad < 0) return false;
  bytes[offset + 10] = 0xff;
  bytes[offset + 11] = 0xff;
  bytes[offset + 12] = quad >>> 24;
  bytes[offset + 13] = (quad >>> 16) & 0xff;
  bytes[offset + 14] = (quad >>> 8) & 0xff;
  bytes[offset + 15] = quad & 0xff;
  return true;
}

/** 16 bytes → model text: dotted quad when IPv4-mapped, else canonical IPv6 (RFC 5952). */
export function decodeAddress(bytes: Uint8Array): string {
  if (bytes.byteLength !== 16) throw malformed('addr', `expected 16 bytes, got ${bytes.byteLength}`);
  if (isV4Mapped(bytes)) return [bytes[12], bytes[13], bytes[14], bytes[15]].join('.'); // a dump reads 100,000s: no IPv6 object each
  const v6 = new ipaddr.IPv6(Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)));
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address().toString() : v6.toRFC5952String();
}

/** ::ffff:a.b.c.d (the kernel's form of an IPv4 address). */
function isV4Mapped(bytes: Uint8Array): boolean {
  return isV4MappedAt(bytes, 0);
}

/** {@link isV4Mapped} of the 16 bytes at `at`. */
function isV4MappedAt(bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < 10; i++) if (bytes[at + i] !== 0) return false;
  return bytes[at + 10] === 0xff && bytes[at + 11] === 0xff;
}

/** Model protocol → IPPROTO_*. */
export function encodeProtocol(protocol: Protocol, field = 'proto'): number {
  if (protocol === 'TCP') return IPPROTO_TCP;
  if (protocol === 'UDP') return IPPROTO_UDP;
  throw range(field, `${String(protocol)} is not TCP or UDP`);
}

/** IPPROTO_* → model protocol. */
export function decodeProtocol(value: number, field = 'proto'): Protocol {
  if (value === IPPROTO_TCP) return 'TCP';
  if (value === IPPROTO_UDP) return 'UDP';
  throw malformed(field, `protocol ${value} is not TCP (6) or UDP (17)`);
}

function encodeKind(kind: FrontendKind, field: string): number {
  const value = FRONTEND_KIND_VALUES[kind];
  if (value === undefined) throw range(field, `${String(kind)} is not a frontend kind`);
  return value;
}

function decodeKind(value: number, field: string): FrontendKind {
  const kind = (Object.keys(FRONTEND_KIND_VALUES) as FrontendKind[]).find((k) => FRONTEND_KIND_VALUES[k] === value);
  if (kind === undefined) throw malformed(field, `frontend kind ${value} is unknown`);
  return kind;
}

function putAddress(bytes: Uint8Array, offset: number, address: string, field: string): void {
  if (!putDottedQuad(bytes, offset, address)) bytes.set(encodeAddress(address, field), offset);
}

function getAddress(bytes: Uint8Array, offset: number): string {
  return decodeAddress(bytes.subarray(offset, offset + 16));
}

function putPort(v: DataView, offset: number, port: number, field: string): void {
  v.setUint16(offset, checkUint(field, port, 16), false);
}

// ---------------------------------------------------------------- frontends

/** (address, port, protocol, kind) of a frontend → frontend_key. */
export function encodeFrontendKey(f: Pick<FrontendEntry, 'address' | 'port' | 'protocol' | 'kind'>): Uint8Array {
  const L = FRONTEND_KEY.at;
  const bytes = new Uint8Array(FRONTEND_KEY.size);
  putAddress(bytes, L.addr, f.address, 'frontend_key.addr');
  putPortBytes(bytes, L.port, f.port, 'frontend_key.port');
  bytes[L.proto] = encodeProtocol(f.protocol, 'frontend_key.proto');
  bytes[L.kind] = encodeKind(f.kind, 'frontend_key.kind');
  return bytes;
}

export function decodeFrontendKey(bytes: Uint8Array): Omit<FrontendEntry, 'serviceId'> {
  const L = FRONTEND_KEY.at;
  checkLength('frontend_key', bytes, FRONTEND_KEY.size);
  return {
    address: getAddress(bytes, L.addr),
    port: getPortBytes(bytes, L.port),
    protocol: decodeProtocol(bytes[L.proto] as number, 'frontend_key.proto'),
    kind: decodeKind(bytes[L.kind] as number, 'frontend_key.kind'),
  };
}

/** Service id (≥ 1: 0 is never a service) → frontend_value. */
export function encodeFrontendValue(serviceId: number): Uint8Array {
  const bytes = new Uint8Array(FRONTEND_VALUE.size);
  putU32(bytes, FRONTEND_VALUE.at.service_id, checkUint('frontend_value.service_id', serviceId, 32, 1));
  return bytes;
}

export function decodeFrontendValue(bytes: Uint8Array): number {
  checkLength('frontend_value', bytes, FRONTEND_VALUE.size);
  return getU32(bytes, FRONTEND_VALUE.at.service_id);
}

/** A u32 map key (bd_services, bd_backends, bd_config, bd_counters). `min` 1 for service ids. */
export function encodeU32Key(value: number, field = 'key', min = 0): Uint8Array {
  const bytes = new Uint8Array(4);
  putU32(bytes, 0, checkUint(field, value, 32, min));
  return bytes;
}

/** {@link encodeU32Key} written at `offset` of `target` (packed batches). */
export function encodeU32KeyInto(target: Uint8Array, offset: number, value: number, field = 'key', min = 0): void {
  putU32(target, offset, checkUint(field, value, 32, min));
}

export function decodeU32(bytes: Uint8Array, field = 'key'): number {
  checkLength(field, bytes, 4);
  return getU32(bytes, 0);
}

// ---------------------------------------------------------------- backends

export function encodeBackendValue(b: BackendEntry): Uint8Array {
  const bytes = new Uint8Array(BACKEND_VALUE.size);
  encodeBackendValueInto(bytes, 0, b);
  return bytes;
}

/**
 * {@link encodeBackendValue} written at `offset` of `target` (packed batches), whose
 * BACKEND_VALUE.size bytes there must be zero. On a LayoutError nothing is written.
 */
export function encodeBackendValueInto(target: Uint8Array, offset: number, b: BackendEntry): void {
  const L = BACKEND_VALUE.at;
  checkUint('backend_value.port', b.port, 16);
  putAddress(target, offset + L.addr, b.address, 'backend_value.addr');
  putPortBytes(target, offset + L.port, b.port, 'backend_value.port');
  target[offset + L.flags] = b.local ? BACKEND_F_LOCAL : 0;
}

/**
 * backend_value at `offset` of `values` holds `b`, as decodeBackendValue would read it (unknown
 * flag bits and the pad byte ignored), without decoding it: a re-read compares 100,000 of them.
 */
export function backendValueHolds(values: Uint8Array, offset: number, b: BackendEntry): boolean {
  const L = BACKEND_VALUE.at;
  if ((((values[offset + L.port] as number) << 8) | (values[offset + L.port + 1] as number)) !== b.port) return false;
  if ((((values[offset + L.flags] as number) & BACKEND_F_LOCAL) !== 0) !== b.local) return false;
  const at = offset + L.addr;
  if (isV4MappedAt(values, at)) {
    const quad = (((values[at + 12] as number) << 24) | ((values[at + 13] as number) << 16) | ((values[at + 14] as number) << 8) | (values[at + 15] as number)) >>> 0;
    return dottedQuadValue(b.address) === quad;
  }
  return decodeAddress(values.subarray(at, at + 16)) === b.address;
}

/** Unknown flag bits and the pad byte are ignored. */
export function decodeBackendValue(bytes: Uint8Array): BackendEntry {
  const L = BACKEND_VALUE.at;
  checkLength('backend_value', bytes, BACKEND_VALUE.size);
  return {
    address: getAddress(bytes, L.addr),
    port: getPortBytes(bytes, L.port),
    local: ((bytes[L.flags] as number) & BACKEND_F_LOCAL) !== 0,
  };
}

// ---------------------------------------------------------------- reverse NAT, affinity, doomed

export interface RevnatKey {
  readonly cookie: bigint;
  readonly address: string;
  readonly port: number;
}

export interface RevnatValue {
  readonly address: string;
  readonly port: number;
  readonly protocol: Protocol;
  readonly kind: FrontendKind;
  readonly serviceId: number;
}

export function encodeRevnatKey(k: RevnatKey): Uint8Array {
  const L = REVNAT_KEY.at;
  const bytes = new Uint8Array(REVNAT_KEY.size);
  const v = view(bytes);
  v.setBigUint64(L.cookie, checkU64('revnat_key.cookie', k.cookie), HOST_LITTLE_ENDIAN);
  putAddress(bytes, L.addr, k.address, 'revnat_key.addr');
  putPort(v, L.port, k.port, 'revnat_key.port');
  return bytes;
}

export function decodeRevnatKey(bytes: Uint8Array): RevnatKey {
  const L = REVNAT_KEY.at;
  const v = checkSize('revnat_key', bytes, REVNAT_KEY.size);
  return { cookie: v.getBigUint64(L.cookie, HOST_LITTLE_ENDIAN), address: getAddress(bytes, L.addr), port: v.getUint16(L.port, false) };
}

export function encodeRevnatValue(r: RevnatValue): Uint8Array {
  const L = REVNAT_VALUE.at;
  const bytes = new Uint8Array(REVNAT_VALUE.size);
  const v = view(bytes);
  putAddress(bytes, L.addr, r.address, 'revnat_value.addr');
  putPort(v, L.port, r.port, 'revnat_value.port');
  v.setUint8(L.proto, encodeProtocol(r.protocol, 'revnat_value.proto'));
  v.setUint8(L.kind, encodeKind(r.kind, 'revnat_value.kind'));
  v.setUint32(L.service_id, checkUint('revnat_value.service_id', r.serviceId, 32, 1), HOST_LITTLE_ENDIAN);
  return bytes;
}

export function decodeRevnatValue(bytes: Uint8Array): RevnatValue {
  const L = REVNAT_VALUE.at;
  const v = checkSize('revnat_value', bytes, REVNAT_VALUE.size);
  return {
    address: getAddress(bytes, L.addr),
    port: v.getUint16(L.port, false),
    protocol: decodeProtocol(v.getUint8(L.proto), 'revnat_value.proto'),
    kind: decodeKind(v.getUint8(L.kind), 'revnat_value.kind'),
    serviceId: v.getUint32(L.service_id, HOST_LITTLE_ENDIAN),
  };
}

export interface AffinityKey {
  readonly netnsCookie: bigint;
  readonly serviceId: number;
}

export interface AffinityValue {
  readonly lastUsedNs: bigint;
  readonly backendId: number;
  /** Position in the service's backend list. */
  readonly index: number;
}

export function encodeAffinityKey(k: AffinityKey): Uint8Array {
  const L = AFFINITY_KEY.at;
  const bytes = new Uint8Array(AFFINITY_KEY.size);
  const v = view(bytes);
  v.setBigUint64(L.netns_cookie, checkU64('affinity_key.netns_cookie', k.netnsCookie), HOST_LITTLE_ENDIAN);
  v.setUint32(L.service_id, checkUint('affinity_key.service_id', k.serviceId, 32, 1), HOST_LITTLE_ENDIAN);
  return bytes;
}

export function decodeAffinityKey(bytes: Uint8Array): AffinityKey {
  const L = AFFINITY_KEY.at;
  const v = checkSize('affinity_key', bytes, AFFINITY_KEY.size);
  return { netnsCookie: v.getBigUint64(L.netns_cookie, HOST_LITTLE_ENDIAN), serviceId: v.getUint32(L.service_id, HOST_LITTLE_ENDIAN) };
}

export function encodeAffinityValue(a: AffinityValue): Uint8Array {
  const L = AFFINITY_VALUE.at;
  const bytes = new Uint8Array(AFFINITY_VALUE.size);
  const v = view(bytes);
  v.setBigUint64(L.last_used_ns, checkU64('affinity_value.last_used_ns', a.lastUsedNs), HOST_LITTLE_ENDIAN);
  v.setUint32(L.backend_id, checkUint('affinity_value.backend_id', a.backendId, 32), HOST_LITTLE_ENDIAN);
  v.setUint32(L.index, checkUint('affinity_value.index', a.index, 32), HOST_LITTLE_ENDIAN);
  return bytes;
}

export function decodeAffinityValue(bytes: Uint8Array): AffinityValue {
  const L = AFFINITY_VALUE.at;
  const v = checkSize('affinity_value', bytes, AFFINITY_VALUE.size);
  return {
    lastUsedNs: v.getBigUint64(L.last_used_ns, HOST_LITTLE_ENDIAN),
    backendId: v.getUint32(L.backend_id, HOST_LITTLE_ENDIAN),
    index: v.getUint32(L.index, HOST_LITTLE_ENDIAN),
  };
}

/** (service id, backend address, backend port) → doomed_key (bd_doomed; value is one u8). */
export function encodeDoomedKey(serviceId: number, address: string, port: number): Uint8Array {
  const L = DOOMED_KEY.at;
  const bytes = new Uint8Array(DOOMED_KEY.size);
  const v = view(bytes);
  v.setUint32(L.service_id, checkUint('doomed_key.service_id', serviceId, 32, 1), HOST_LITTLE_ENDIAN);
  putPort(v, L.port, port, 'doomed_key.port');
  putAddress(bytes, L.addr, address, 'doomed_key.addr');
  return bytes;
}

export function decodeDoomedKey(bytes: Uint8Array): { serviceId: number; address: string; port: number } {
  const L = DOOMED_KEY.at;
  const v = checkSize('doomed_key', bytes, DOOMED_KEY.size);
  return { serviceId: v.getUint32(L.service_id, HOST_LITTLE_ENDIAN), address: getAddress(bytes, L.addr), port: v.getUint16(L.port, false) };
}

// ---------------------------------------------------------------- config

export interface ResolverConfig {
  /** netns cookie of the host network namespace (SO_NETNS_COOKIE). */
  readonly hostNetnsCookie: bigint;
  /** CFG_F_HOST_NETNS_ONLY */
  readonly hostNetnsOnly: boolean;
  /** CFG_F_EVENTS */
  readonly events: boolean;
}

export function encodeResolverConfig(c: ResolverConfig): Uint8Array {
  const L = RESOLVER_CONFIG.at;
  const bytes = new Uint8Array(RESOLVER_CONFIG.size);
  const v = view(bytes);
  v.setBigUint64(L.host_netns_cookie, checkU64('resolver_config.host_netns_cookie', c.hostNetnsCookie), HOST_LITTLE_ENDIAN);
  v.setUint32(L.flags, (c.hostNetnsOnly ? CFG_F_HOST_NETNS_ONLY : 0) | (c.events ? CFG_F_EVENTS : 0), HOST_LITTLE_ENDIAN);
  return bytes;
}

/** Unknown flag bits are ignored. */
export function decodeResolverConfig(bytes: Uint8Array): ResolverConfig {
  const L = RESOLVER_CONFIG.at;
  const v = checkSize('resolver_config', bytes, RESOLVER_CONFIG.size);
  const flags = v.getUint32(L.flags, HOST_LITTLE_ENDIAN);
  return {
    hostNetnsCookie: v.getBigUint64(L.host_netns_cookie, HOST_LITTLE_ENDIAN),
    hostNetnsOnly: (flags & CFG_F_HOST_NETNS_ONLY) !== 0,
    events: (flags & CFG_F_EVENTS) !== 0,
  };
}

// ---------------------------------------------------------------- events

export interface ResolutionEvent {
  readonly timestampNs: bigint;
  readonly cgroupId: bigint;
  readonly netnsCookie: bigint;
  readonly socketCookie: bigint;
  readonly frontend: { readonly address: string; readonly port: number };
  readonly backend: { readonly address: string; readonly port: number };
  readonly serviceId: number;
  readonly backendId: number;
  readonly protocol: Protocol;
  readonly hook: HookName;
  readonly outcome: OutcomeName;
  readonly kind: FrontendKind;
  /** The calling task's name (comm), up to the first NUL. */
  readonly comm: string;
}

function decodeName<T extends string>(names: readonly T[], value: number, field: string): T {
  const name = names[value];
  if (name === undefined) throw malformed(field, `${value} is unknown`);
  return name;
}

/** A NUL-padded task name; bytes that are not UTF-8 become U+FFFD (comm is any bytes but NUL). */
function decodeComm(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return Buffer.from(bytes.buffer, bytes.byteOffset, end < 0 ? bytes.byteLength : end).toString('utf8');
}

/**
 * An event address: IPv4-mapped ones (most events) are printed directly, the rest as every
 * address is (events are decoded on the hot path of the reader: ~1 µs instead of ~10).
 */
function eventAddress(bytes: Uint8Array, offset: number): string {
  let mapped = bytes[offset + 10] === 0xff && bytes[offset + 11] === 0xff;
  for (let i = 0; mapped && i < 10; i += 1) mapped = bytes[offset + i] === 0;
  return mapped ? `${bytes[offset + 12]}.${bytes[offset + 13]}.${bytes[offset + 14]}.${bytes[offset + 15]}` : getAddress(bytes, offset);
}

/** One ring-buffer record (struct resolution_event). */
export function decodeResolutionEvent(bytes: Uint8Array): ResolutionEvent {
  const L = RESOLUTION_EVENT.at;
  const v = checkSize('resolution_event', bytes, RESOLUTION_EVENT.size);
  return {
    timestampNs: v.getBigUint64(L.timestamp_ns, HOST_LITTLE_ENDIAN),
    cgroupId: v.getBigUint64(L.cgroup_id, HOST_LITTLE_ENDIAN),
    netnsCookie: v.getBigUint64(L.netns_cookie, HOST_LITTLE_ENDIAN),
    socketCookie: v.getBigUint64(L.socket_cookie, HOST_LITTLE_ENDIAN),
    frontend: { address: eventAddress(bytes, L.frontend_addr), port: v.getUint16(L.frontend_port, false) },
    backend: { address: eventAddress(bytes, L.backend_addr), port: v.getUint16(L.backend_port, false) },
    serviceId: v.getUint32(L.service_id, HOST_LITTLE_ENDIAN),
    backendId: v.getUint32(L.backend_id, HOST_LITTLE_ENDIAN),
    protocol: decodeProtocol(v.getUint8(L.proto), 'resolution_event.proto'),
    hook: decodeName(HOOKS, v.getUint8(L.hook), 'resolution_event.hook'),
    outcome: decodeName(OUTCOMES, v.getUint8(L.outcome), 'resolution_event.outcome'),
    kind: decodeKind(v.getUint8(L.kind), 'resolution_event.kind'),
    comm: decodeComm(bytes.subarray(L.comm, L.comm + EVENT_COMM_BYTES)),
  };
}

// ---------------------------------------------------------------- service tables

/** Chunks an inner map needs for a table: 1 + ceil(backends/16) + ceil(slots/32). */
export function serviceChunkCount(backendCount: number, tableSize: number): number {
  return 1 + Math.ceil(backendCount / SERVICE_IDS_PER_CHUNK) + Math.ceil(tableSize / SERVICE_SLOTS_PER_CHUNK);
}

/**
 * A service's inner ARRAY map, value by value (64 bytes each): header, backend ids
 * (16 per chunk), Maglev slots (32 u16 per chunk); unused tails are zero. The values are
 * views of one buffer ({@link encodeServiceTableBytes}).
 */
export function encodeServiceTable(table: ServiceTable): Uint8Array[] {
  return serviceChunks(encodeServiceTableBytes(table));
}

/** The values of an inner service map held in one buffer (value i at i × 64): views of it. */
export function serviceChunks(bytes: Uint8Array): Uint8Array[] {
  const count = Math.floor(bytes.byteLength / SERVICE_CHUNK_BYTES);
  const chunks = new Array<Uint8Array>(count);
  for (let i = 0; i < count; i++) chunks[i] = bytes.subarray(i * SERVICE_CHUNK_BYTES, (i + 1) * SERVICE_CHUNK_BYTES);
  return chunks;
}

/**
 * {@link encodeServiceTable}'s values back to back in one buffer (value i at i × 64): the ids
 * of the chunks after the header, then the slots, are each one contiguous host-order array.
 */
export function encodeServiceTableBytes(table: ServiceTable): Uint8Array {
  const n = table.backendIds.length;
  const m = table.slots.length;
  if (n > SERVICE_MAX_BACKENDS) throw range('service_header.backend_count', `${n} backends, at most ${SERVICE_MAX_BACKENDS}`);
  if ((checkUint('service_header.flags', table.flags, 32) & ~SVC_F_ALL) !== 0) {
    throw range('service_header.flags', `unknown bits 0x${(table.flags & ~SVC_F_ALL).toString(16)}`);
  }
  const backendsEnd = 1 + Math.ceil(n / SERVICE_IDS_PER_CHUNK);
  // Large enough to live outside V8's heap from the start: one DataView for the header costs nothing more.
  const buffer = new ArrayBuffer(serviceChunkCount(n, m) * SERVICE_CHUNK_BYTES);
  const H = SERVICE_HEADER.at;
  const header = new DataView(buffer, 0, SERVICE_CHUNK_BYTES);
  header.setUint32(H.table_size, checkUint('service_header.table_size', m, 32), HOST_LITTLE_ENDIAN);
  header.setUint32(H.backend_count, n, HOST_LITTLE_ENDIAN);
  header.setUint32(H.flags, table.flags, HOST_LITTLE_ENDIAN);
  header.setUint32(H.affinity_timeout, checkUint('service_header.affinity_timeout', table.affinityTimeoutSeconds, 32), HOST_LITTLE_ENDIAN);
  header.setUint32(H.backends_end, backendsEnd, HOST_LITTLE_ENDIAN);
  header.setUint32(H.revision, checkUint('service_header.revision', table.revision, 32), HOST_LITTLE_ENDIAN);
  checkSkipCgroups(table.skipCgroups).forEach((id, i) => header.setBigUint64(H.skip_cgroups + 8 * i, id, HOST_LITTLE_ENDIAN));
  // ids: 16 u32 per chunk at offset 0 of each, so one array from chunk 1 on (and likewise the slots).
  const ids = new Uint32Array(buffer, SERVICE_CHUNK_BYTES + SERVICE_CHUNK.at.ids, n);
  for (let i = 0; i < n; i++) {
    const id = table.backendIds[i] as number;
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) checkUint(`service_chunk.ids[${i}]`, id, 32);
    ids[i] = id;
  }
  const slots = new Uint16Array(buffer, backendsEnd * SERVICE_CHUNK_BYTES + SERVICE_CHUNK.at.slots, m);
  const from = table.slots;
  for (let s = 0; s < m; s++) {
    const index = from[s] as number;
    if (index >= n) throw range(`service_chunk.slots[${s}]`, `index ${index} names no backend (${n} backends)`);
    slots[s] = index;
  }
  return new Uint8Array(buffer);
}
// encodeServiceTableBytes writes ids and slots as two arrays: each chunk must be exactly full of them.
if (SERVICE_IDS_PER_CHUNK * 4 !== SERVICE_CHUNK_BYTES || SERVICE_SLOTS_PER_CHUNK * 2 !== SERVICE_CHUNK_BYTES) throw new Error('layout.ts: service chunks must hold whole id and slot arrays');

/** The inverse of {@link encodeServiceTable}; chunks past the table's end are ignored. */
export function decodeServiceTable(chunks: readonly Uint8Array[]): ServiceTable {
  if (chunks[0] === undefined) throw malformed('service_chunk', 'no header chunk');
  const bytes = new Uint8Array(chunks.length * SERVICE_CHUNK_BYTES);
  chunks.forEach((c, i) => {
    if (c.byteLength !== SERVICE_CHUNK_BYTES) checkLength(`service_chunk[${i}]`, c, SERVICE_CHUNK_BYTES);
    bytes.set(c, i * SERVICE_CHUNK_BYTES);
  });
  return decodeServiceTableBytes(bytes);
}

/**
 * The inverse of {@link encodeServiceTableBytes} (value i at i × 64 of `bytes`, read directly:
 * no DataView per value, see putU32); values past the table's end are ignored.
 */
export function decodeServiceTableBytes(bytes: Uint8Array): ServiceTable {
  const count = Math.floor(bytes.byteLength / SERVICE_CHUNK_BYTES);
  if (count === 0) throw malformed('service_chunk', 'no header chunk');
  if (bytes.byteLength !== count * SERVICE_CHUNK_BYTES) throw malformed('service_chunk', `${bytes.byteLength} bytes: not whole ${SERVICE_CHUNK_BYTES}-byte values`);
  const H = SERVICE_HEADER.at;
  const m = getU32(bytes, H.table_size);
  const n = getU32(bytes, H.backend_count);
  const backendsEnd = getU32(bytes, H.backends_end);
  if (n > SERVICE_MAX_BACKENDS) throw malformed('service_header.backend_count', `${n} > ${SERVICE_MAX_BACKENDS}`);
  if (backendsEnd !== 1 + Math.ceil(n / SERVICE_IDS_PER_CHUNK)) {
    throw malformed('service_header.backends_end', `${backendsEnd} for ${n} backends (expected ${1 + Math.ceil(n / SERVICE_IDS_PER_CHUNK)})`);
  }
  const needed = serviceChunkCount(n, m);
  if (count < needed) throw malformed('service_chunk', `${count} chunks, the header needs ${needed}`);
  // ids fill the values from 1 on and the slots those from backendsEnd on, each back to back.
  const idsAt = SERVICE_CHUNK_BYTES + SERVICE_CHUNK.at.ids;
  const backendIds = new Array<number>(n);
  for (let i = 0; i < n; i++) backendIds[i] = getU32(bytes, idsAt + 4 * i);
  const slotsAt = backendsEnd * SERVICE_CHUNK_BYTES + SERVICE_CHUNK.at.slots;
  const slots = newSlotArray(n, m);
  for (let s = 0; s < m; s++) {
    const index = (bytes[slotsAt + 2 * s] as number) | ((bytes[slotsAt + 2 * s + 1] as number) << 8);
    if (index >= n) throw malformed(`service_chunk.slots[${s}]`, `index ${index} names no backend (${n} backends)`);
    slots[s] = index;
  }
  return {
    backendIds,
    slots,
    flags: getU32(bytes, H.flags),
    affinityTimeoutSeconds: getU32(bytes, H.affinity_timeout),
    revision: getU32(bytes, H.revision),
    skipCgroups: decodeSkipCgroups(bytes),
  };
}

/** A skip list as the header holds it: 1..2^64-1, strictly ascending, at most MAX_SKIP_CGROUPS. */
function checkSkipCgroups(ids: readonly bigint[]): readonly bigint[] {
  const field = 'service_header.skip_cgroups';
  if (ids.length > MAX_SKIP_CGROUPS) throw range(field, `${ids.length} cgroup ids, at most ${MAX_SKIP_CGROUPS}`);
  ids.forEach((id, i) => {
    if (checkU64(`${field}[${i}]`, id) === 0n) throw range(`${field}[${i}]`, 'cgroup id 0 marks an unused entry');
    const before = ids[i - 1];
    if (before !== undefined && before >= id) throw range(`${field}[${i}]`, `${id} after ${before}: ids must be ascending, without repeats`);
  });
  return ids;
}

/**
 * Every non-zero entry, in entry order: what the programs compare a client with. A header
 * written before the skip list existed had zeros there (its pad): no ids, no migration.
 */
function decodeSkipCgroups(header: Uint8Array): bigint[] {
  const ids: bigint[] = [];
  for (let i = 0; i < MAX_SKIP_CGROUPS; i++) {
    const at = SERVICE_HEADER.at.skip_cgroups + 8 * i;
    const lo = getU32(header, at);
    const hi = getU32(header, at + 4);
    if (lo !== 0 || hi !== 0) ids.push((BigInt(hi) << 32n) | BigInt(lo));
  }
  return ids;
}
