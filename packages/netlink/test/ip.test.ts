import { describe, expect, it, test } from '@jest/globals';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { AF_INET, AF_INET6, familyNumber, formatIp, InvalidAddressError, parseIp, parsePrefix } from '../src/ip.js';

describe('parseIp', () => {
  const valid: [string, 'inet' | 'inet6', number[], string][] = [
    ['10.0.0.1', 'inet', [10, 0, 0, 1], '10.0.0.1'],
    ['0.0.0.0', 'inet', [0, 0, 0, 0], '0.0.0.0'],
    ['255.255.255.255', 'inet', [255, 255, 255, 255], '255.255.255.255'],
    ['::', 'inet6', new Array<number>(16).fill(0), '::'],
    ['::1', 'inet6', [...new Array<number>(15).fill(0), 1], '::1'],
    ['fd00::1', 'inet6', [0xfd, 0, ...new Array<number>(13).fill(0), 1], 'fd00::1'],
    ['2001:0DB8:0:0:0:0:0:1', 'inet6', [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1], '2001:db8::1'],
    ['::ffff:1.2.3.4', 'inet6', [...new Array<number>(10).fill(0), 0xff, 0xff, 1, 2, 3, 4], '::ffff:102:304'],
  ];
  test.each(valid)('%s', (text, family, bytes, canonical) => {
    const ip = parseIp(text);
    expect(ip.family).toBe(family);
    expect(Array.from(ip.bytes)).toEqual(bytes);
    expect(ip.bytes).toBeInstanceOf(Uint8Array);
    expect(ip.text).toBe(canonical);
  });

  const invalid: [string, RegExp][] = [
    ['10.0.0', /four decimal parts/], // ipaddr.js alone would accept the short form
    ['10', /four decimal parts/],
    ['01.2.3.4', /four decimal parts/], // leading zero (octal in inet_aton)
    ['0x0a.0.0.1', /four decimal parts/],
    ['1.2.3.256', /not an IPv4 or IPv6/],
    ['1.2.3.4.5', /not an IPv4 or IPv6/],
    ['', /not an IPv4 or IPv6/],
    [' 1.2.3.4', /not an IPv4 or IPv6/],
    ['1.2.3.4/32', /not an IPv4 or IPv6/],
    ['::1::', /not an IPv4 or IPv6/],
    ['12345::', /not an IPv4 or IPv6/],
    ['fd00::g', /not an IPv4 or IPv6/],
    ['localhost', /not an IPv4 or IPv6/],
  ];
  test.each(invalid)('rejects %j', (text, why) => {
    expect(() => parseIp(text)).toThrow(InvalidAddressError);
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
    expect(formatIp(Uint8Array.of(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1))).toBe('fe80::1');
  });

  it('reads the first 4 bytes of a 16-byte nf_inet_addr for inet', () => {
    expect(formatIp(Uint8Array.of(10, 0, 0, 1, ...new Array<number>(12).fill(0)), 'inet')).toBe('10.0.0.1');
  });
});

describe('parsePrefix', () => {
  const valid: [string, string, number][] = [
    ['10.0.0.0/8', '10.0.0.0', 8],
    ['10.0.0.1', '10.0.0.1', 32],
    ['0.0.0.0/0', '0.0.0.0', 0],
    ['1.2.3.4/32', '1.2.3.4', 32],
    ['fd00::/64', 'fd00::', 64],
    ['::1', '::1', 128],
    ['::/0', '::', 0],
    ['::1/128', '::1', 128],
  ];
  test.each(valid)('%s', (text, address, prefixLength) => {
    const p = parsePrefix(text);
    expect(p.address.text).toBe(address);
    expect(p.prefixLength).toBe(prefixLength);
  });

  const invalid = ['1.2.3.4/33', '::1/129', '1.2.3.4/', '1.2.3.4/-1', '1.2.3.4/ 8', '1.2.3.4/8.0', '1.2.3.4/1e1', '1.2.3.4/0x8', '1.2.3.4/1000', '10.0.0/8', '1.2.3.4/8/8', 'x/8'];
  test.each(invalid)('rejects %j', (text) => {
    expect(() => parsePrefix(text)).toThrow(InvalidAddressError);
  });
});

it('familyNumber maps to AF_INET / AF_INET6', () => {
  expect([familyNumber('inet'), familyNumber('inet6')]).toEqual([AF_INET, AF_INET6]);
  expect([AF_INET, AF_INET6]).toEqual([2, 10]);
});

describe('properties', () => {
  it('IPv4 dotted-quad-like text: the fast path agrees with ipaddr.js (same bytes and text, or both refuse)', () => {
    const part = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.integer({ min: 0, max: 99 }).map((n) => `0${n}`), fc.constantFrom('', '-1', '1e2', ' 1', '0x1'));
    fc.assert(
      fc.property(fc.tuple(part, part, part, part), (parts) => {
        const text = parts.join('.');
        const reference = ipaddr.isValid(text) && ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.parse(text) : undefined;
        if (reference === undefined) {
          expect(() => parseIp(text)).toThrow(InvalidAddressError);
          return;
        }
        const ip = parseIp(text);
        expect([...ip.bytes]).toEqual(reference.toByteArray());
        expect(ip.text).toBe(reference.toString());
      }),
      { numRuns: 2000 },
    );
  });

  it('IPv4: parse(format(bytes)) gives the bytes back, and format(parse(x).bytes) is parse(x).text', () => {
    fc.assert(
      fc.property(fc.ipV4(), (text) => {
        const ip = parseIp(text);
        expect(ip.family).toBe('inet');
        expect(ip.text).toBe(text); // fc.ipV4() is already canonical dotted-quad
        expect(formatIp(ip.bytes)).toBe(text);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) => {
        expect(parseIp(formatIp(bytes)).bytes).toEqual(bytes);
      }),
    );
  });

  it('IPv6: any text form parses to bytes that format to the canonical text and back', () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const ip = parseIp(text);
        expect(ip.family).toBe('inet6');
        expect(formatIp(ip.bytes)).toBe(ip.text);
        expect(parseIp(ip.text).bytes).toEqual(ip.bytes);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const text = formatIp(bytes);
        expect(parseIp(text).bytes).toEqual(bytes);
        expect(parseIp(text).text).toBe(text);
      }),
    );
  });

  it('parsePrefix accepts exactly 0..32 / 0..128', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 200 }), (address, length) => {
        const text = `${address}/${length}`;
        if (length <= 32) expect(parsePrefix(text).prefixLength).toBe(length);
        else expect(() => parsePrefix(text)).toThrow(InvalidAddressError);
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 0, max: 300 }), (address, length) => {
        const text = `${address}/${length}`;
        if (length <= 128) expect(parsePrefix(text).prefixLength).toBe(length);
        else expect(() => parsePrefix(text)).toThrow(InvalidAddressError);
      }),
    );
  });
});
