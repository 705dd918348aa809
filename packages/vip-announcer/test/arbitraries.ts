// fast-check generators shared by the renderer's property tests (unit) and the `bird -p`
// checks (integration).
import { cidrOf, parseIp } from '@balanced/net';
import fc from 'fast-check';
import { announcerConfigFromObject, type AnnouncerConfig, type VipAnnouncement } from '../src/index.js';

const octet = fc.integer({ min: 0, max: 255 });
/** Addresses near the generated CIDRs (10.96.0.0/16), so some fall inside and some outside. */
export const vipText = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 7 }), octet).map(([c, d]) => `10.96.${c}.${d}`),
  fc.tuple(octet, octet).map(([c, d]) => `10.${c}.${d}.1`),
  fc.integer({ min: 0, max: 0xffff }).map((n) => `fd96:${(n & 7).toString(16)}::${n.toString(16)}`),
);

export const community = fc.record({ asn: fc.integer({ min: 0, max: 65535 }), value: fc.integer({ min: 0, max: 65535 }) });

export const announcements: fc.Arbitrary<VipAnnouncement[]> = fc.array(fc.record({ vip: vipText, communities: fc.array(community, { maxLength: 4 }) }), { maxLength: 12 });

const neighborName = fc.stringMatching(/^[A-Za-z0-9_]{1,12}$/);

/** Raw config documents that the parser accepts (IPv4 sessions; IPv6 CIDRs sometimes). */
export const rawConfig = fc
  .record({
    localAsn: fc.integer({ min: 1, max: 4_294_967_295 }),
    routerId: fc.option(fc.tuple(octet, octet).map(([a, b]) => `192.0.${a}.${b}`), { nil: undefined }),
    // Written without host bits (a CIDR with host bits set is refused).
    cidrs: fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 22, max: 32 })).map(([c, len]) => cidrOf(parseIp(`10.96.${c}.0`), len).text), { minLength: 1, maxLength: 3 }),
    v6: fc.boolean(),
    gracefulRestart: fc.boolean(),
    bfd: fc.record({ minRxMs: fc.integer({ min: 1, max: 60_000 }), minTxMs: fc.integer({ min: 1, max: 60_000 }), multiplier: fc.integer({ min: 1, max: 255 }) }),
    neighbors: fc.uniqueArray(
      fc.record({
        name: neighborName,
        host: fc.integer({ min: 1, max: 250 }),
        asn: fc.integer({ min: 1, max: 4_294_967_295 }),
        bfd: fc.boolean(),
        password: fc.option(fc.stringMatching(/^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,80}$/), { nil: undefined }),
        multihop: fc.option(fc.integer({ min: 1, max: 255 }), { nil: undefined }),
        holdTime: fc.option(fc.integer({ min: 3, max: 65535 }), { nil: undefined }),
        port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
        errorWait: fc.option(fc.tuple(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 0, max: 600 })), { nil: undefined }),
      }),
      { minLength: 1, maxLength: 3, selector: (n) => n.name },
    ),
  })
  .map((r) => ({
    localAsn: r.localAsn,
    ...(r.routerId === undefined ? {} : { routerId: r.routerId }),
    cidrs: [...r.cidrs, ...(r.v6 ? ['fd96:1::/64'] : [])],
    gracefulRestart: r.gracefulRestart,
    bfd: r.bfd,
    neighbors: r.neighbors.map((n) => ({
      name: n.name,
      address: `10.0.${n.host}.1`,
      sourceAddress: `10.0.${n.host}.2`,
      asn: n.asn,
      bfd: n.bfd,
      ...(n.password === undefined ? {} : { password: n.password }),
      ...(n.multihop === undefined ? {} : { multihop: n.multihop }),
      ...(n.holdTime === undefined ? {} : { holdTime: n.holdTime }),
      ...(n.port === undefined ? {} : { port: n.port }),
      ...(n.errorWait === undefined ? {} : { errorWaitTime: { min: n.errorWait[0], max: n.errorWait[0] + n.errorWait[1] } }),
    })),
    outputFile: '/run/balanced/bird/vips.conf',
    birdSocket: '/run/bird/bird.ctl',
  }));

export const config: fc.Arbitrary<AnnouncerConfig> = rawConfig.map((raw) => announcerConfigFromObject(raw));
