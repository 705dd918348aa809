import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { canonicalIp } from '../src/desired/index.js';

describe('canonicalIp', () => {
  it('gives ipaddr.js\'s canonical text, and the very input string when it is canonical already', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.string({ maxLength: 20 })), (text) => {
        const ip = canonicalIp(text);
        if (ip === undefined) return;
        const expected = ip.family === 'IPv4' ? ipaddr.IPv4.parse(text).toString() : ipaddr.IPv6.parse(text).toRFC5952String();
        expect(ip.text).toBe(expected);
      }),
      { numRuns: 3000 },
    );
    expect(canonicalIp('10.0.0.1')?.text).toBe('10.0.0.1');
    expect(canonicalIp('2001:DB8::1')?.text).toBe('2001:db8::1');
    expect(canonicalIp('010.0.0.1')).toBeUndefined();
  });
});
