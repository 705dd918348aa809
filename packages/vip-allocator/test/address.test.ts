import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';

import { canonicalIp } from '@balanced/net';
import { formatAddress, isBuggyIp, mergeRanges, parseAddress, parseRange, rangeCapacity, type AddressRange } from '../src/address.js';

describe('addresses', () => {
  test.each([
    ['10.0.0.1', '10.0.0.1'],
    ['255.255.255.255', '255.255.255.255'],
    ['0.0.0.0', '0.0.0.0'],
    ['FD00:0:0::0A', 'fd00::a'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
  ])('%s → %s', (text, canonical) => expect(canonicalIp(text)).toBe(canonical));

  test.each(['10.0.0.01', '10.0.1', '10.0.0.256', 'fd00::g', '', ' 10.0.0.1', '10.0.0.0/24'])('%j is not an address', (text) => {
    expect(parseAddress(text)).toBeUndefined();
  });

  test('format ∘ parse is the identity on canonical text (IPv4 and IPv6)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (text) => {
        const a = parseAddress(text);
        expect(a).toBeDefined();
        const canonical = formatAddress(a!);
        expect(parseAddress(canonical)).toEqual(a);
        expect(formatAddress(parseAddress(canonical)!)).toBe(canonical);
      }),
    );
  });

  test('.0 and .255 are the buggy IPv4 addresses; IPv6 has none', () => {
    expect(isBuggyIp(parseAddress('10.0.1.0')!)).toBe(true);
    expect(isBuggyIp(parseAddress('10.0.1.255')!)).toBe(true);
    expect(isBuggyIp(parseAddress('10.0.1.1')!)).toBe(false);
    expect(isBuggyIp(parseAddress('fd00::ff')!)).toBe(false);
  });
});

describe('ranges', () => {
  const r = (text: string): AddressRange => {
    const p = parseRange(text);
    if (!p.ok) throw new Error(p.message);
    return p.range;
  };

  test('CIDRs and explicit ranges', () => {
    expect(r('10.0.0.0/30')).toEqual({ family: 4, first: 0x0a000000n, last: 0x0a000003n });
    expect(r('10.0.0.7/32')).toEqual({ family: 4, first: 0x0a000007n, last: 0x0a000007n });
    expect(r('10.0.0.10 - 10.0.0.12')).toEqual({ family: 4, first: 0x0a00000an, last: 0x0a00000cn });
    expect(r('fd00::/126')).toEqual({ family: 6, first: 0xfd00n << 112n, last: (0xfd00n << 112n) + 3n });
  });

  test.each([
    ['10.0.0.5/24', '"10.0.0.5/24": host bits are set; did you mean "10.0.0.0/24"'],
    ['10.0.0.0/33', 'prefix length must be 0..32'],
    ['10.0.0.0', 'expected a CIDR'],
    ['10.0.0.9-10.0.0.1', 'ends before it starts'],
    ['10.0.0.1-fd00::1', 'mixes IPv4 and IPv6'],
    ['nonsense/8', 'not an IPv4 or IPv6 address'],
  ])('%s is refused: %s', (text, message) => {
    const p = parseRange(text);
    expect(p.ok).toBe(false);
    expect(p.ok ? '' : p.message).toContain(message);
  });

  test('merge: overlapping and adjacent ranges join, families stay apart, IPv4 first', () => {
    expect(mergeRanges([r('fd00::/127'), r('10.0.0.4/30'), r('10.0.0.0/30'), r('10.0.0.2-10.0.0.5'), r('10.0.1.0/31')])).toEqual([
      { family: 4, first: 0x0a000000n, last: 0x0a000007n },
      { family: 4, first: 0x0a000100n, last: 0x0a000101n },
      { family: 6, first: 0xfd00n << 112n, last: (0xfd00n << 112n) + 1n },
    ]);
  });

  test('capacity without .0/.255 matches counting address by address', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2000 }), (start, length) => {
        const first = BigInt(start);
        const last = BigInt(Math.min(2 ** 32 - 1, start + length));
        let count = 0n;
        for (let v = first; v <= last; v++) if (!isBuggyIp({ family: 4, value: v })) count++;
        expect(rangeCapacity({ family: 4, first, last }, true)).toBe(count);
        expect(rangeCapacity({ family: 4, first, last }, false)).toBe(last - first + 1n);
      }),
      { numRuns: 200 },
    );
    expect(rangeCapacity(r('10.0.0.0/24'), true)).toBe(254n);
    expect(rangeCapacity(r('fd00::/64'), true)).toBe(2n ** 64n);
  });
});
