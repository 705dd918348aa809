import { describe, expect, it } from '@jest/globals';
import { InvalidAddressError } from '../src/errors.js';
import { foldAddress, parseAddress } from '../src/address.js';

describe('parseAddress', () => {
  it.each([
    ['10.0.0.1', 'inet', [0x0a000001, 0, 0, 0]],
    ['0.0.0.0', 'inet', [0, 0, 0, 0]],
    ['255.255.255.255', 'inet', [0xffffffff, 0, 0, 0]],
    ['::', 'inet6', [0, 0, 0, 0]],
    ['::1', 'inet6', [0, 0, 0, 1]],
    ['2001:db8::1', 'inet6', [0x20010db8, 0, 0, 1]],
    ['2001:DB8:0:0:8:800:200C:417A', 'inet6', [0x20010db8, 0, 0x00080800, 0x200c417a]],
    ['fe80::', 'inet6', [0xfe800000, 0, 0, 0]],
    ['::ffff:192.0.2.1', 'inet6', [0, 0, 0x0000ffff, 0xc0000201]],
    ['1:2:3:4:5:6:7::', 'inet6', [0x00010002, 0x00030004, 0x00050006, 0x00070000]],
  ] as const)('%s', (text, family, words) => {
    expect(parseAddress(text)).toEqual({ family, words });
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.-4', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '1.2.3.4::', '[::1]', 'fe80::1%eth0', '1:2:3:4:5:6:7:8::'])(
    'rejects %j',
    (text) => {
      expect(() => parseAddress(text)).toThrow(InvalidAddressError);
    },
  );

  it('folds: IPv4 word for inet; XOR of the four words for inet6', () => {
    const v6 = parseAddress('2001:db8:1:2:3:4:5:6');
    expect(foldAddress(v6, 'inet6')).toBe((0x20010db8 ^ 0x00010002 ^ 0x00030004 ^ 0x00050006) >>> 0);
    expect(foldAddress(v6, 'inet')).toBe(0x20010db8);
    expect(foldAddress(parseAddress('192.0.2.1'), 'inet6')).toBe(0xc0000201);
  });
});
