// layout.ts: golden bytes per struct (field by field), round trips in both directions,
// service tables across chunk boundaries, and the table of offsets against itself and
// against resolver.h's #defines.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, test } from '@jest/globals';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import type { FrontendKind, ServiceTable } from '../src/model.js';
import {
  AFFINITY_KEY,
  CNT_MAX,
  COUNTERS,
  ENUMS,
  FRONTEND_KIND_VALUES,
  LayoutError,
  MAP_SPECS,
  MAX_SKIP_CGROUPS,
  RESOLUTION_EVENT,
  STRUCTS,
  decodeAddress,
  decodeAffinityKey,
  decodeAffinityValue,
  backendValueHolds,
  decodeBackendValue,
  decodeDoomedKey,
  decodeFrontendKey,
  decodeFrontendValue,
  decodeResolutionEvent,
  decodeResolverConfig,
  decodeRevnatKey,
  decodeRevnatValue,
  decodeServiceTable,
  encodeAddress,
  encodeAffinityKey,
  encodeAffinityValue,
  encodeBackendValue,
  encodeDoomedKey,
  encodeFrontendKey,
  encodeFrontendValue,
  encodeResolverConfig,
  encodeRevnatKey,
  encodeRevnatValue,
  encodeServiceTable,
  serviceChunkCount,
} from '../src/maps/layout.js';
import * as layout from '../src/maps/layout.js';
import { compactSlots } from './plan-helpers.js';

const HEADER = join(dirname(fileURLToPath(import.meta.url)), '..', 'bpf', 'resolver.h');

/** Concatenate byte groups (one group per field, so each can carry a comment). */
function b(...groups: number[][]): Uint8Array {
  return Uint8Array.from(groups.flat());
}

const zeros = (n: number): number[] => new Array<number>(n).fill(0);
/** ::ffff:10.0.0.1 */
const V4_10_0_0_1 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1];
/** 2001:db8::1 */
const V6_DB8_1 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

function expectLayoutError(fn: () => unknown, code: LayoutError['code'], field: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LayoutError);
    expect((e as LayoutError).code).toBe(code);
    expect((e as LayoutError).field).toBe(field);
    return;
  }
  throw new Error(`expected LayoutError ${code} on ${field}`);
}

describe('golden bytes', () => {
  const cases: [string, () => Uint8Array, Uint8Array, (bytes: Uint8Array) => unknown, unknown][] = [
    [
      'frontend_key IPv4 TCP service',
      () => encodeFrontendKey({ address: '10.0.0.1', port: 80, protocol: 'TCP', kind: 'service' }),
      b(
        V4_10_0_0_1, //  addr: ::ffff:10.0.0.1
        [0x00, 0x50], // port 80, network order
        [6], //          proto IPPROTO_TCP
        [2], //          kind FRONTEND_KIND_SERVICE
      ),
      decodeFrontendKey,
      { address: '10.0.0.1', port: 80, protocol: 'TCP', kind: 'service' },
    ],
    [
      'frontend_key IPv6 UDP redirect',
      () => encodeFrontendKey({ address: '2001:db8::1', port: 53, protocol: 'UDP', kind: 'redirect' }),
      b(
        V6_DB8_1, //     addr
        [0x00, 0x35], // port 53
        [17], //         proto IPPROTO_UDP
        [0], //          kind FRONTEND_KIND_REDIRECT
      ),
      decodeFrontendKey,
      { address: '2001:db8::1', port: 53, protocol: 'UDP', kind: 'redirect' },
    ],
    [
      'frontend_value',
      () => encodeFrontendValue(0x01020304),
      b([0x04, 0x03, 0x02, 0x01]), // service_id, host order (little-endian)
      decodeFrontendValue,
      0x01020304,
    ],
    [
      'backend_value local',
      () => encodeBackendValue({ address: '10.0.0.1', port: 8443, local: true }),
      b(
        V4_10_0_0_1, //  addr
        [0x20, 0xfb], // port 8443, network order
        [0x01], //       flags BACKEND_F_LOCAL
        [0x00], //       pad
      ),
      decodeBackendValue,
      { address: '10.0.0.1', port: 8443, local: true },
    ],
    [
      'revnat_key',
      () => encodeRevnatKey({ cookie: 0x0102030405060708n, address: '2001:db8::1', port: 0x1234 }),
      b(
        [8, 7, 6, 5, 4, 3, 2, 1], // cookie, little-endian
        V6_DB8_1, //                 addr (backend)
        [0x12, 0x34], //             port, network order
        zeros(6), //                 pad
      ),
      decodeRevnatKey,
      { cookie: 0x0102030405060708n, address: '2001:db8::1', port: 0x1234 },
    ],
    [
      'revnat_value',
      () => encodeRevnatValue({ address: '10.0.0.1', port: 443, protocol: 'TCP', kind: 'balancing', serviceId: 7 }),
      b(
        V4_10_0_0_1, //  addr (frontend)
        [0x01, 0xbb], // port 443
        [6], //          proto
        [1], //          kind FRONTEND_KIND_BALANCING
        [7, 0, 0, 0], // service_id
      ),
      decodeRevnatValue,
      { address: '10.0.0.1', port: 443, protocol: 'TCP', kind: 'balancing', serviceId: 7 },
    ],
    [
      'affinity_key',
      () => encodeAffinityKey({ netnsCookie: 0xabn, serviceId: 0x102 }),
      b(
        [0xab, 0, 0, 0, 0, 0, 0, 0], // netns_cookie
        [0x02, 0x01, 0, 0], //          service_id
        zeros(4), //                    pad
      ),
      decodeAffinityKey,
      { netnsCookie: 0xabn, serviceId: 0x102 },
    ],
    [
      'affinity_value',
      () => encodeAffinityValue({ lastUsedNs: 1n, backendId: 2, index: 3 }),
      b(
        [1, 0, 0, 0, 0, 0, 0, 0], // last_used_ns
        [2, 0, 0, 0], //             backend_id
        [3, 0, 0, 0], //             index
      ),
      decodeAffinityValue,
      { lastUsedNs: 1n, backendId: 2, index: 3 },
    ],
    [
      'doomed_key',
      () => encodeDoomedKey(5, '10.0.0.1', 8080),
      b(
        [5, 0, 0, 0], //  service_id
        [0x1f, 0x90], //  port 8080, network order
        [0, 0], //        pad
        V4_10_0_0_1, //   addr (backend)
      ),
      decodeDoomedKey,
      { serviceId: 5, address: '10.0.0.1', port: 8080 },
    ],
    [
      'resolver_config',
      () => encodeResolverConfig({ hostNetnsCookie: 0x1000n, hostNetnsOnly: true, events: true }),
      b(
        [0, 0x10, 0, 0, 0, 0, 0, 0], // host_netns_cookie
        [0x03, 0, 0, 0], //             flags CFG_F_HOST_NETNS_ONLY | CFG_F_EVENTS
        zeros(4), //                    pad
      ),
      decodeResolverConfig,
      { hostNetnsCookie: 0x1000n, hostNetnsOnly: true, events: true },
    ],
  ];

  test.each(cases)('%s', (_name, encode, expected, decode, model) => {
    expect(Array.from(encode())).toEqual(Array.from(expected));
    expect(decode(expected)).toEqual(model);
  });

  it('decodes a resolution_event', () => {
    const bytes = b(
      [1, 0, 0, 0, 0, 0, 0, 0], // timestamp_ns
      [2, 0, 0, 0, 0, 0, 0, 0], // cgroup_id
      [3, 0, 0, 0, 0, 0, 0, 0], // netns_cookie
      [4, 0, 0, 0, 0, 0, 0, 0], // socket_cookie
      V4_10_0_0_1, //              frontend_addr
      V6_DB8_1, //                 backend_addr
      [0x00, 0x50], //             frontend_port 80
      [0x1f, 0x90], //             backend_port 8080
      [9, 0, 0, 0], //             service_id
      [10, 0, 0, 0], //            backend_id
      [6], //                      proto TCP
      [3], //                      hook HOOK_SENDMSG6
      [1], //                      outcome OUTCOME_REFUSED
      [2], //                      kind service
      [0x63, 0x75, 0x72, 0x6c, ...zeros(12)], // comm "curl", NUL-padded
    );
    expect(bytes.byteLength).toBe(RESOLUTION_EVENT.size);
    expect(decodeResolutionEvent(bytes)).toEqual({
      timestampNs: 1n,
      cgroupId: 2n,
      netnsCookie: 3n,
      socketCookie: 4n,
      frontend: { address: '10.0.0.1', port: 80 },
      backend: { address: '2001:db8::1', port: 8080 },
      serviceId: 9,
      backendId: 10,
      protocol: 'TCP',
      hook: 'sendmsg6',
      outcome: 'refused',
      kind: 'service',
      comm: 'curl',
    });
  });

  it('encodes a service table: header, ids, slots', () => {
    const chunks = encodeServiceTable({ backendIds: [0x11, 0x22], slots: Uint8Array.of(1, 0, 1), flags: 0x5, affinityTimeoutSeconds: 300, revision: 9, skipCgroups: [] });
    expect(chunks.map((c) => Array.from(c))).toEqual([
      [
        ...[3, 0, 0, 0], //        table_size 3
        ...[2, 0, 0, 0], //        backend_count 2
        ...[5, 0, 0, 0], //        flags SVC_F_AFFINITY | SVC_F_REFUSE_EMPTY
        ...[0x2c, 0x01, 0, 0], //  affinity_timeout 300
        ...[2, 0, 0, 0], //        backends_end = 1 + ceil(2/16)
        ...[9, 0, 0, 0], //        revision
        ...zeros(32), //           skip_cgroups: none (4 × u64 0)
        ...zeros(8), //            pad
      ],
      [...[0x11, 0, 0, 0], ...[0x22, 0, 0, 0], ...zeros(56)], // ids[0..1], rest zero
      [...[1, 0], ...[0, 0], ...[1, 0], ...zeros(58)], //          slots[0..2] (u16), rest zero
    ]);
  });

  it('encodes a skip list: cgroup ids as u64, ascending, unused entries 0', () => {
    const t: ServiceTable = { backendIds: [7], slots: Uint8Array.of(0), flags: 0, affinityTimeoutSeconds: 0, revision: 1, skipCgroups: [0x1a2bn, 0x1_0000_0002n, 0xffff_ffff_ffff_ffffn] };
    const chunks = encodeServiceTable(t);
    expect(Array.from(chunks[0] as Uint8Array)).toEqual([
      ...[1, 0, 0, 0], //                       table_size 1
      ...[1, 0, 0, 0], //                       backend_count 1
      ...zeros(4), //                           flags
      ...zeros(4), //                           affinity_timeout
      ...[2, 0, 0, 0], //                       backends_end
      ...[1, 0, 0, 0], //                       revision
      ...[0x2b, 0x1a, 0, 0, 0, 0, 0, 0], //     skip_cgroups[0] 0x1a2b
      ...[2, 0, 0, 0, 1, 0, 0, 0], //           skip_cgroups[1] 0x1_0000_0002
      ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // skip_cgroups[2] 2^64-1
      ...zeros(8), //                           skip_cgroups[3] unused
      ...zeros(8), //                           pad
    ]);
    expect(decodeServiceTable(chunks)).toEqual(t);
  });

  it('reads a header written before the skip list (zero pad) as no skip ids, and ignores the pad', () => {
    const chunks = encodeServiceTable({ backendIds: [7], slots: Uint8Array.of(0), flags: 0, affinityTimeoutSeconds: 0, revision: 1, skipCgroups: [] });
    // An older agent's header: 24 bytes of fields, then 40 zero bytes of pad.
    expect(Array.from((chunks[0] as Uint8Array).subarray(24))).toEqual(zeros(40));
    expect(decodeServiceTable(chunks).skipCgroups).toEqual([]);
    (chunks[0] as Uint8Array).fill(0xee, 56, 64); // pad
    expect(decodeServiceTable(chunks).skipCgroups).toEqual([]);
    (chunks[0] as Uint8Array)[40] = 5; // skip_cgroups[2] only: every non-zero entry counts (the programs compare all)
    expect(decodeServiceTable(chunks).skipCgroups).toEqual([5n]);
  });
});

describe('addresses', () => {
  it('maps IPv4 to ::ffff:a.b.c.d and back to a dotted quad', () => {
    expect(Array.from(encodeAddress('10.0.0.1'))).toEqual(V4_10_0_0_1);
    expect(decodeAddress(Uint8Array.from(V4_10_0_0_1))).toBe('10.0.0.1');
  });

  it('prints IPv6 in RFC 5952 form', () => {
    expect(decodeAddress(encodeAddress('2001:DB8:0:0:0:0:0:1'))).toBe('2001:db8::1');
  });

  it.each([['::ffff:10.0.0.1'], ['10.1'], ['fe80::1%eth0'], ['example.com'], [''], ['010.0.0.1'], ['10.0.0.256'], ['10.0.0.1.'], ['.10.0.0.1'], ['10..0.1'], ['1.2.3.4.5'], ['1.2.3.0001']])('refuses %j', (text) => {
    expectLayoutError(() => encodeAddress(text), 'BPF_LAYOUT_RANGE', 'addr');
  });

  it('reads a dotted quad exactly as ipaddr.js does (the fast path agrees with the library on any text)', () => {
    const octet = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('00', '01', '007', '', 'x', '1a', '0'));
    const quads = fc.array(octet, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('.'));
    fc.assert(
      fc.property(fc.oneof(quads, fc.string({ maxLength: 16 })), (text) => {
        const library = ipaddr.IPv4.isValidFourPartDecimal(text) ? Array.from(ipaddr.IPv4.parse(text).toIPv4MappedAddress().toByteArray()) : undefined;
        let ours: number[] | undefined;
        try {
          ours = Array.from(encodeAddress(text));
        } catch {
          ours = undefined;
        }
        if (library !== undefined) expect(ours).toEqual(library);
        else if (ours !== undefined) expect(ipaddr.IPv6.isValid(text)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

const EMPTY_TABLE: ServiceTable = { backendIds: [], slots: new Uint8Array(0), flags: 0, affinityTimeoutSeconds: 0, revision: 0, skipCgroups: [] };

describe('range errors', () => {
  it.each<[string, () => unknown, string]>([
    ['port 65536', () => encodeFrontendKey({ address: '10.0.0.1', port: 65536, protocol: 'TCP', kind: 'service' }), 'frontend_key.port'],
    ['negative port', () => encodeBackendValue({ address: '10.0.0.1', port: -1, local: false }), 'backend_value.port'],
    ['service id 0', () => encodeFrontendValue(0), 'frontend_value.service_id'],
    ['service id 2^32', () => encodeFrontendValue(2 ** 32), 'frontend_value.service_id'],
    ['fractional id', () => encodeDoomedKey(1.5, '10.0.0.1', 1), 'doomed_key.service_id'],
    ['protocol', () => encodeFrontendKey({ address: '10.0.0.1', port: 1, protocol: 'SCTP' as 'TCP', kind: 'service' }), 'frontend_key.proto'],
    ['kind', () => encodeFrontendKey({ address: '10.0.0.1', port: 1, protocol: 'TCP', kind: 'other' as FrontendKind }), 'frontend_key.kind'],
    ['cookie 2^64', () => encodeRevnatKey({ cookie: 2n ** 64n, address: '10.0.0.1', port: 1 }), 'revnat_key.cookie'],
    ['slot index', () => encodeServiceTable({ backendIds: [1], slots: Uint16Array.of(1), flags: 0, affinityTimeoutSeconds: 0, revision: 0, skipCgroups: [] }), 'service_chunk.slots[0]'],
    ['unknown flag', () => encodeServiceTable({ backendIds: [], slots: new Uint16Array(0), flags: 0x8, affinityTimeoutSeconds: 0, revision: 0, skipCgroups: [] }), 'service_header.flags'],
    ['too many backends', () => encodeServiceTable({ backendIds: new Array<number>(65536).fill(1), slots: new Uint16Array(0), flags: 0, affinityTimeoutSeconds: 0, revision: 0, skipCgroups: [] }), 'service_header.backend_count'],
    ['backend id 2^32', () => encodeServiceTable({ backendIds: [2 ** 32], slots: new Uint16Array(0), flags: 0, affinityTimeoutSeconds: 0, revision: 0, skipCgroups: [] }), 'service_chunk.ids[0]'],
    ['five skip ids', () => encodeServiceTable({ ...EMPTY_TABLE, skipCgroups: [1n, 2n, 3n, 4n, 5n] }), 'service_header.skip_cgroups'],
    ['skip id 0', () => encodeServiceTable({ ...EMPTY_TABLE, skipCgroups: [0n] }), 'service_header.skip_cgroups[0]'],
    ['skip id 2^64', () => encodeServiceTable({ ...EMPTY_TABLE, skipCgroups: [1n, 2n ** 64n] }), 'service_header.skip_cgroups[1]'],
    ['skip ids descending', () => encodeServiceTable({ ...EMPTY_TABLE, skipCgroups: [9n, 3n] }), 'service_header.skip_cgroups[1]'],
    ['skip id repeated', () => encodeServiceTable({ ...EMPTY_TABLE, skipCgroups: [3n, 3n] }), 'service_header.skip_cgroups[1]'],
  ])('%s', (_name, fn, field) => expectLayoutError(fn, 'BPF_LAYOUT_RANGE', field));

  it('refuses malformed bytes', () => {
    expectLayoutError(() => decodeFrontendKey(new Uint8Array(19)), 'BPF_LAYOUT_MALFORMED', 'frontend_key');
    const key = encodeFrontendKey({ address: '10.0.0.1', port: 1, protocol: 'TCP', kind: 'service' });
    key[18] = 1; // ICMP
    expectLayoutError(() => decodeFrontendKey(key), 'BPF_LAYOUT_MALFORMED', 'frontend_key.proto');
    key[18] = 6;
    key[19] = 3; // FRONTEND_KIND_COUNT
    expectLayoutError(() => decodeFrontendKey(key), 'BPF_LAYOUT_MALFORMED', 'frontend_key.kind');
    expectLayoutError(() => decodeServiceTable([]), 'BPF_LAYOUT_MALFORMED', 'service_chunk');
    const chunks = encodeServiceTable({ backendIds: [1, 2], slots: Uint8Array.of(0, 1), flags: 0, affinityTimeoutSeconds: 0, revision: 0, skipCgroups: [] });
    expectLayoutError(() => decodeServiceTable(chunks.slice(0, 2)), 'BPF_LAYOUT_MALFORMED', 'service_chunk');
    (chunks[0] as Uint8Array)[16] = 3; // backends_end
    expectLayoutError(() => decodeServiceTable(chunks), 'BPF_LAYOUT_MALFORMED', 'service_header.backends_end');
  });
});

// ---- round trips ----

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
/** Canonical IPv6 text that is not IPv4-mapped: any 16 bytes, printed by the codec. */
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map(decodeAddress).filter((a) => a.includes(':'));
const address = fc.oneof(ipv4, ipv6);
const port = fc.nat(65535);
const protocol = fc.constantFrom('TCP' as const, 'UDP' as const);
const kind = fc.constantFrom<FrontendKind>('redirect', 'balancing', 'service');
const u32 = fc.nat({ max: 0xffff_ffff });
const id = fc.integer({ min: 1, max: 0xffff_ffff });
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });

const table: fc.Arbitrary<ServiceTable> = fc
  .record({
    backendIds: fc.array(u32, { maxLength: 70 }),
    tableSize: fc.nat(200),
    flags: fc.nat(7),
    affinityTimeoutSeconds: u32,
    revision: u32,
    skipCgroups: fc.uniqueArray(fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }), { maxLength: MAX_SKIP_CGROUPS }).map((ids) => ids.sort((x, y) => (x < y ? -1 : 1))),
  })
  .chain((t) =>
    fc
      .array(fc.nat(Math.max(0, t.backendIds.length - 1)), { minLength: t.backendIds.length === 0 ? 0 : t.tableSize, maxLength: t.backendIds.length === 0 ? 0 : t.tableSize })
      .map((slots) => ({ backendIds: t.backendIds, slots: compactSlots(slots, t.backendIds.length), flags: t.flags, affinityTimeoutSeconds: t.affinityTimeoutSeconds, revision: t.revision, skipCgroups: t.skipCgroups })),
  );

describe('round trips', () => {
  it('model → bytes → model', () => {
    fc.assert(
      fc.property(address, port, protocol, kind, id, (a, p, pr, k, s) => {
        expect(decodeFrontendKey(encodeFrontendKey({ address: a, port: p, protocol: pr, kind: k }))).toEqual({ address: a, port: p, protocol: pr, kind: k });
        expect(decodeFrontendValue(encodeFrontendValue(s))).toBe(s);
        expect(decodeBackendValue(encodeBackendValue({ address: a, port: p, local: s % 2 === 0 }))).toEqual({ address: a, port: p, local: s % 2 === 0 });
        expect(decodeDoomedKey(encodeDoomedKey(s, a, p))).toEqual({ serviceId: s, address: a, port: p });
        expect(decodeRevnatValue(encodeRevnatValue({ address: a, port: p, protocol: pr, kind: k, serviceId: s }))).toEqual({ address: a, port: p, protocol: pr, kind: k, serviceId: s });
      }),
    );
    fc.assert(
      fc.property(u64, address, port, id, u32, u32, fc.boolean(), fc.boolean(), (c, a, p, s, x, y, f1, f2) => {
        expect(decodeRevnatKey(encodeRevnatKey({ cookie: c, address: a, port: p }))).toEqual({ cookie: c, address: a, port: p });
        expect(decodeAffinityKey(encodeAffinityKey({ netnsCookie: c, serviceId: s }))).toEqual({ netnsCookie: c, serviceId: s });
        expect(decodeAffinityValue(encodeAffinityValue({ lastUsedNs: c, backendId: x, index: y }))).toEqual({ lastUsedNs: c, backendId: x, index: y });
        expect(decodeResolverConfig(encodeResolverConfig({ hostNetnsCookie: c, hostNetnsOnly: f1, events: f2 }))).toEqual({ hostNetnsCookie: c, hostNetnsOnly: f1, events: f2 });
      }),
    );
  });

  it('a backend value holds an entry exactly when it decodes to it (any bytes, flag bits and pad ignored as decoding does)', () => {
    const entry = fc.record({ address, port, local: fc.boolean() });
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 2, maxLength: 2 }), fc.nat(255), fc.nat(255), fc.nat(4), entry, (a, p, flags, pad, at, other) => {
        const values = new Uint8Array(at + 20);
        values.set(b(Array.from(a), Array.from(p), [flags], [pad]), at);
        const held = decodeBackendValue(values.subarray(at, at + 20));
        expect(backendValueHolds(values, at, held)).toBe(true);
        expect(backendValueHolds(values, at, { ...held, port: held.port ^ 1 })).toBe(false);
        expect(backendValueHolds(values, at, { ...held, local: !held.local })).toBe(false);
        const same = other.address === held.address && other.port === held.port && other.local === held.local;
        expect(backendValueHolds(values, at, other)).toBe(same);
      }),
    );
    // An address that is not one is never held.
    expect(backendValueHolds(encodeBackendValue({ address: '10.0.0.1', port: 80, local: false }), 0, { address: 'not an address', port: 80, local: false })).toBe(false);
    expect(backendValueHolds(encodeBackendValue({ address: 'fd00::1', port: 80, local: true }), 0, { address: 'fd00::1', port: 80, local: true })).toBe(true);
  });

  it('bytes → model → bytes (every valid key/value byte string)', () => {
    const addrBytes = fc.uint8Array({ minLength: 16, maxLength: 16 });
    const portBytes = fc.uint8Array({ minLength: 2, maxLength: 2 });
    fc.assert(
      fc.property(addrBytes, portBytes, fc.constantFrom(6, 17), fc.nat(2), (a, p, pr, k) => {
        const key = b(Array.from(a), Array.from(p), [pr], [k]);
        expect(encodeFrontendKey(decodeFrontendKey(key))).toEqual(key);
        const backend = b(Array.from(a), Array.from(p), [k % 2], [0]);
        expect(encodeBackendValue(decodeBackendValue(backend))).toEqual(backend);
        expect(encodeAddress(decodeAddress(a))).toEqual(a);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), (cookie, svc) => {
        fc.pre(svc.some((x) => x !== 0)); // service id 0 is never stored
        const key = b(Array.from(cookie), Array.from(svc), zeros(4));
        expect(encodeAffinityKey(decodeAffinityKey(key))).toEqual(key);
      }),
    );
  });

  it('service tables, both directions', () => {
    fc.assert(
      fc.property(table, (t) => {
        const chunks = encodeServiceTable(t);
        expect(chunks).toHaveLength(serviceChunkCount(t.backendIds.length, t.slots.length));
        expect(decodeServiceTable(chunks)).toEqual(t);
        expect(encodeServiceTable(decodeServiceTable(chunks))).toEqual(chunks);
      }),
    );
  });

  it.each([
    [0, 0, 1],
    [1, 1, 3],
    [16, 32, 3],
    [17, 32, 4],
    [16, 33, 4],
    [32, 64, 5],
    [33, 65, 7],
  ])('%i backends, %i slots → %i chunks; decode is exact', (n, m, expected) => {
    const t: ServiceTable = {
      backendIds: Array.from({ length: n }, (_, i) => 1000 + i),
      slots: compactSlots(Array.from({ length: m }, (_, s) => s % n), n),
      flags: 0,
      affinityTimeoutSeconds: 0,
      revision: 1,
      skipCgroups: [],
    };
    const chunks = encodeServiceTable(t);
    expect(chunks).toHaveLength(expected);
    expect(chunks.every((c) => c.byteLength === 64)).toBe(true);
    expect(decodeServiceTable(chunks)).toEqual(t);
  });
});

// ---- the table itself ----

describe('STRUCTS', () => {
  it.each(Object.values(STRUCTS).map((s) => [s.name, s] as const))('%s: members tile the struct (explicit padding, no overlap)', (_name, s) => {
    if (s.name === 'service_chunk') {
      expect(s.fields.every((f) => f.offset === 0 && f.size === s.size)).toBe(true); // a union
      return;
    }
    let next = 0;
    for (const f of s.fields) {
      expect(f.offset).toBe(next);
      const width = { u8: 1, u16: 2, u16be: 2, u32: 4, u64: 8, struct: 1 }[f.type];
      expect(f.offset % width).toBe(0);
      expect(f.size % width).toBe(0);
      next += f.size;
    }
    expect(next).toBe(s.size);
  });

  it('map specs use the struct sizes', () => {
    expect(MAP_SPECS.bd_affinity.keySize).toBe(AFFINITY_KEY.size);
    expect(Object.keys(COUNTERS)).toHaveLength(11);
    expect(Math.max(...Object.values(COUNTERS))).toBeLessThan(CNT_MAX);
  });

  it('frontend kinds and counters match the C enums', () => {
    expect(FRONTEND_KIND_VALUES).toEqual({
      redirect: ENUMS.frontend_kind?.FRONTEND_KIND_REDIRECT,
      balancing: ENUMS.frontend_kind?.FRONTEND_KIND_BALANCING,
      service: ENUMS.frontend_kind?.FRONTEND_KIND_SERVICE,
    });
    expect(ENUMS.resolver_counter?.CNT_SKIPPED_NETNS).toBe(COUNTERS.skippedNetns);
    expect(ENUMS.resolver_counter?.CNT_SKIPPED_SELF).toBe(COUNTERS.skippedSelf);
  });
});

describe('resolver.h #defines and enums', () => {
  const text = readFileSync(HEADER, 'utf8');
  const defines = new Map<string, number>();
  for (const m of text.matchAll(/^#define[ \t]+([A-Z0-9_]+)[ \t]+(\(?[0-9x* ]+\)?)/gm)) {
    // Only numeric defines: evaluate products like (256 * 1024).
    const expr = (m[2] ?? '').replace(/[()\s]/g, '');
    defines.set(m[1] ?? '', expr.split('*').reduce((a, f) => a * Number(f), 1));
  }
  const exported = layout as unknown as Record<string, unknown>;

  it('every numeric #define has the same value in layout.ts', () => {
    expect(defines.size).toBeGreaterThan(15);
    for (const [name, value] of defines) {
      expect([name, exported[name]]).toEqual([name, value]);
    }
  });

  it('every enum constant has the same value in ENUMS', () => {
    const enums = new Map<string, Record<string, number>>();
    for (const m of text.matchAll(/enum\s+(\w+)\s*\{([^}]*)\}/g)) {
      const values: Record<string, number> = {};
      for (const c of (m[2] ?? '').matchAll(/([A-Z0-9_]+)\s*=\s*(\d+)/g)) values[c[1] ?? ''] = Number(c[2]);
      enums.set(m[1] ?? '', values);
    }
    expect(Object.fromEntries(enums)).toEqual(ENUMS);
  });
});
