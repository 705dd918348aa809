import { describe, expect, it, test } from '@jest/globals';
import {
  canonicalIp,
  compareIp,
  formatIp,
  InvalidAddressError,
  ipFromBigInt,
  ipToBigInt,
  isIpv4Mapped,
  parseAddressPrefix,
  parseIp,
  tryParseIp,
} from '../src/index.js';

const zeros = (n: number): number[] => new Array<number>(n).fill(0);

describe('parseIp', () => {
  const valid: [string, 'inet' | 'inet6', number[], string][] = [
    ['10.0.0.1', 'inet', [10, 0, 0, 1], '10.0.0.1'],
    ['0.0.0.0', 'inet', [0, 0, 0, 0], '0.0.0.0'],
    ['255.255.255.255', 'inet', [255, 255, 255, 255], '255.255.255.255'],
    ['::', 'inet6', zeros(16), '::'],
    ['::1', 'inet6', [...zeros(15), 1], '::1'],
    ['fd00::1', 'inet6', [0xfd, ...zeros(14), 1], 'fd00::1'],
    ['2001:0DB8:0:0:0:0:0:1', 'inet6', [0x20, 0x01, 0x0d, 0xb8, ...zeros(11), 1], '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', 'inet6', [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], '2001:db8::1:0:0:1'], // RFC 5952 4.2.3: the first longest run
    ['2001:db8::0:1', 'inet6', [0x20, 0x01, 0x0d, 0xb8, ...zeros(11), 1], '2001:db8::1'],
    ['1:0:2:3:4:5:6:7', 'inet6', [0, 1, 0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7], '1:0:2:3:4:5:6:7'], // RFC 5952 4.2.2: one zero group stays
    ['::ffff:1.2.3.4', 'inet6', [...zeros(10), 0xff, 0xff, 1, 2, 3, 4], '::ffff:102:304'],
    // RFC 4291 2.5.5.1 (deprecated IPv4-compatible): not ::ffff:1.2.3.4, as ipaddr.js alone reads it
    ['::1.2.3.4', 'inet6', [...zeros(12), 1, 2, 3, 4], '::102:304'],
    ['64:ff9b::192.0.2.33', 'inet6', [0, 0x64, 0xff, 0x9b, ...zeros(8), 192, 0, 2, 33], '64:ff9b::c000:221'],
  ];
  test.each(valid)('%s', (text, family, bytes, canonical) => {
    const ip = parseIp(text);
    expect(ip.family).toBe(family);
    expect(Array.from(ip.bytes)).toEqual(bytes);
    expect(ip.bytes).toBeInstanceOf(Uint8Array);
    expect(ip.text).toBe(canonical);
    expect(canonicalIp(text)).toBe(canonical);
  });

  const invalid: [unknown, RegExp][] = [
    ['10.0.0', /four decimal parts/], // ipaddr.js alone would accept the short form
    ['10', /four decimal parts/],
    ['01.2.3.4', /four decimal parts/], // leading zero (octal in inet_aton)
    ['0x0a.0.0.1', /four decimal parts/],
    ['1.2.3.256', /not an IPv4 or IPv6/],
    ['1.2.3.4.5', /not an IPv4 or IPv6/],
    ['1.2.3.-4', /not an IPv4 or IPv6/],
    ['', /not an IPv4 or IPv6/],
    [' 1.2.3.4', /not an IPv4 or IPv6/],
    ['1.2.3.4 ', /not an IPv4 or IPv6/],
    ['1.2.3.4/32', /not an IPv4 or IPv6/],
    ['::1::', /not an IPv4 or IPv6/],
    [':::', /not an IPv4 or IPv6/],
    ['1::2::3', /not an IPv4 or IPv6/],
    ['1:2:3:4:5:6:7:8:9', /not an IPv4 or IPv6/],
    ['1:2:3:4:5:6:7:8::', /not an IPv4 or IPv6/], // ipaddr.js alone accepts nine groups with ::
    ['12345::', /not an IPv4 or IPv6/],
    ['fd00::g', /not an IPv4 or IPv6/],
    ['1.2.3.4::', /not an IPv4 or IPv6/],
    ['::ffff:01.2.3.4', /not an IPv4 or IPv6/], // ipaddr.js alone accepts a leading zero in the tail
    ['::ffff:1.2.3', /not an IPv4 or IPv6/],
    ['[::1]', /not an IPv4 or IPv6/],
    ['fe80::1%eth0', /zone ids/],
    ['localhost', /not an IPv4 or IPv6/],
    [42, /not a string/],
    [undefined, /not a string/],
  ];
  test.each(invalid)('refuses %j', (text, why) => {
    expect(() => parseIp(text)).toThrow(InvalidAddressError);
    expect(tryParseIp(text)).toBeUndefined();
    expect(canonicalIp(text)).toBeUndefined();
    try {
      parseIp(text);
    } catch (e) {
      expect((e as InvalidAddressError).input).toBe(text);
      expect((e as InvalidAddressError).code).toBe('INVALID_ADDRESS');
      expect((e as Error).message).toMatch(why);
    }
  });
});

describe('formatIp', () => {
  it('formats by length when no family is given', () => {
    expect(formatIp(Uint8Array.of(192, 168, 1, 10))).toBe('192.168.1.10');
    expect(formatIp(Uint8Array.of(0xfe, 0x80, ...zeros(13), 1))).toBe('fe80::1');
  });

  it('reads the first 4 bytes of a 16-byte nf_inet_addr for inet', () => {
    expect(formatIp(Uint8Array.of(10, 0, 0, 1, ...zeros(12)), 'inet')).toBe('10.0.0.1');
  });

  it('refuses too few bytes', () => {
    expect(() => formatIp(Uint8Array.of(1, 2, 3), 'inet')).toThrow(InvalidAddressError);
  });
});

describe('order, numbers, mapped', () => {
  it('compareIp: IPv4 first, then by bytes', () => {
    const sorted = ['fd00::1', '10.0.0.10', '::1', '10.0.0.9', '9.255.255.255'].map((t) => parseIp(t)).sort(compareIp).map((i) => i.text);
    expect(sorted).toEqual(['9.255.255.255', '10.0.0.9', '10.0.0.10', '::1', 'fd00::1']);
  });

  it('ipToBigInt / ipFromBigInt round-trip and refuse what does not fit', () => {
    expect(ipToBigInt(parseIp('10.0.0.1'))).toBe(0x0a000001n);
    expect(ipFromBigInt('inet', 0x0a000001n).text).toBe('10.0.0.1');
    expect(ipFromBigInt('inet6', 1n).text).toBe('::1');
    expect(() => ipFromBigInt('inet', 1n << 32n)).toThrow(InvalidAddressError);
    expect(() => ipFromBigInt('inet', -1n)).toThrow(InvalidAddressError);
  });

  it('isIpv4Mapped', () => {
    expect(isIpv4Mapped(parseIp('::ffff:10.0.0.1'))).toBe(true);
    expect(isIpv4Mapped(parseIp('::10.0.0.1'))).toBe(false);
    expect(isIpv4Mapped(parseIp('10.0.0.1'))).toBe(false);
  });
});

describe('parseAddressPrefix (host bits are the point)', () => {
  const valid: [string, string, number][] = [
    ['10.0.0.0/8', '10.0.0.0', 8],
    ['10.0.0.1', '10.0.0.1', 32],
    ['10.0.0.1/24', '10.0.0.1', 24],
    ['0.0.0.0/0', '0.0.0.0', 0],
    ['fd00::1/64', 'fd00::1', 64],
    ['::1', '::1', 128],
    ['::/0', '::', 0],
  ];
  test.each(valid)('%s', (text, address, prefixLength) => {
    const p = parseAddressPrefix(text);
    expect(p.address.text).toBe(address);
    expect(p.prefixLength).toBe(prefixLength);
  });

  const invalid = ['1.2.3.4/33', '::1/129', '1.2.3.4/', '1.2.3.4/-1', '1.2.3.4/ 8', '1.2.3.4/08', '1.2.3.4/8.0', '1.2.3.4/1e1', '1.2.3.4/0x8', '1.2.3.4/1000', '10.0.0/8', '1.2.3.4/8/8', 'x/8'];
  test.each(invalid)('refuses %j', (text) => {
    expect(() => parseAddressPrefix(text)).toThrow(InvalidAddressError);
  });
});
