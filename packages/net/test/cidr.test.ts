import { describe, expect, it, test } from '@jest/globals';
import {
  cidrContains,
  cidrOf,
  cidrOwnership,
  cidrRange,
  InvalidCidrError,
  InvalidRangeError,
  parseCidr,
  parseIp,
  parseIpRange,
  rangeCidrs,
  rangeContains,
  tryParseCidr,
} from '../src/index.js';
import { compareCidr } from '../src/cidr.js';

describe('parseCidr', () => {
  const valid: [string, string][] = [
    ['10.96.0.0/24', '10.96.0.0/24'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['10.0.0.1/32', '10.0.0.1/32'],
    ['fd96::/64', 'fd96::/64'],
    ['FD96:0:0:0::/64', 'fd96::/64'],
    ['::/0', '::/0'],
    ['fd00::1/128', 'fd00::1/128'],
  ];
  test.each(valid)('%s → %s', (text, canonical) => {
    const c = parseCidr(text);
    expect(c.text).toBe(canonical);
    expect(`${c.network.text}/${c.prefixLength}`).toBe(canonical);
  });

  const invalid: [unknown, RegExp][] = [
    ['10.96.0.1/24', /host bits are set; did you mean "10\.96\.0\.0\/24"\?/],
    ['fd96::1/64', /host bits are set; did you mean "fd96::\/64"\?/],
    ['10.0.0.7/8', /did you mean "10\.0\.0\.0\/8"/],
    ['10.96.0.0', /expected an address and a prefix length/],
    ['10.96.0.0/33', /prefix length must be 0\.\.32/],
    ['fd96::/129', /prefix length must be 0\.\.128/],
    ['10.96.0.0/08', /prefix length/],
    ['10.96.0.0/', /prefix length/],
    ['10.96.0.0/ 8', /prefix length/],
    [' 10.96.0.0/24', /address " 10\.96\.0\.0": not an IPv4/],
    ['10.96.0/24', /four decimal parts/],
    ['x/8', /address "x"/],
    ['fe80::%eth0/64', /zone ids/],
    [7, /not a string/],
  ];
  test.each(invalid)('refuses %j', (text, why) => {
    expect(() => parseCidr(text)).toThrow(InvalidCidrError);
    expect(() => parseCidr(text)).toThrow(why);
    expect(tryParseCidr(text)).toBeUndefined();
  });

  it('contains: same family and leading bits', () => {
    const c = parseCidr('10.96.0.0/23');
    expect(cidrContains(c, parseIp('10.96.1.255'))).toBe(true);
    expect(cidrContains(c, parseIp('10.96.2.0'))).toBe(false);
    expect(cidrContains(parseCidr('0.0.0.0/0'), parseIp('::'))).toBe(false);
    expect(cidrContains(parseCidr('::/0'), parseIp('::ffff:10.96.0.1'))).toBe(true);
    expect(cidrContains(parseCidr('10.96.0.0/23'), parseIp('::ffff:10.96.0.1'))).toBe(false); // a mapped address is IPv6
  });

  it('cidrOf clears host bits; compareCidr orders IPv4 first', () => {
    expect(cidrOf(parseIp('10.96.7.9'), 20).text).toBe('10.96.0.0/20');
    expect(cidrOf(parseIp('fd00::1')).text).toBe('fd00::1/128');
    const sorted = ['fd00::/8', '10.0.0.0/16', '10.0.0.0/8', '9.0.0.0/8'].map((t) => parseCidr(t)).sort(compareCidr).map((c) => c.text);
    expect(sorted).toEqual(['9.0.0.0/8', '10.0.0.0/8', '10.0.0.0/16', 'fd00::/8']);
  });
});

describe('cidrOwnership', () => {
  const owns = cidrOwnership(['10.96.0.0/24', parseCidr('fd96::/64')]);
  it.each([
    ['10.96.0.1', true],
    ['10.96.1.1', false],
    ['fd96::5', true],
    ['fd97::5', false],
    ['not-an-ip', false],
    [undefined, false],
  ] as const)('%s → %s', (ip, expected) => expect(owns(ip)).toBe(expected));

  it('refuses a bad CIDR at construction; no CIDRs own nothing', () => {
    expect(() => cidrOwnership(['10.96.0.0/33'])).toThrow(InvalidCidrError);
    expect(() => cidrOwnership(['10.96.0.1/24'])).toThrow(/host bits/);
    expect(cidrOwnership([])('10.96.0.1')).toBe(false);
  });
});

describe('parseIpRange', () => {
  it.each([
    ['10.0.0.0/30', '10.0.0.0', '10.0.0.3', '10.0.0.0/30'],
    [' 10.0.0.10 - 10.0.0.20 ', '10.0.0.10', '10.0.0.20', '10.0.0.10-10.0.0.20'],
    ['10.0.0.5-10.0.0.5', '10.0.0.5', '10.0.0.5', '10.0.0.5-10.0.0.5'],
    ['fd00::10-fd00::0:20', 'fd00::10', 'fd00::20', 'fd00::10-fd00::20'],
    ['fd00::/120', 'fd00::', 'fd00::ff', 'fd00::/120'],
  ])('%j', (text, first, last, canonical) => {
    const r = parseIpRange(text);
    expect([r.first.text, r.last.text, r.text]).toEqual([first, last, canonical]);
  });

  it.each([
    ['10.0.0.20-10.0.0.10', /ends before it starts/],
    ['10.0.0.1-fd00::1', /mixes IPv4 and IPv6/],
    ['10.0.0.1-', /two IP addresses/],
    ['10.0.0.1', /a CIDR .* or a range/],
    ['10.0.0.1/24', /host bits are set; did you mean "10\.0\.0\.0\/24"/],
    ['10.0.0.0/40', /prefix length/],
  ])('refuses %j', (text, why) => {
    expect(() => parseIpRange(text)).toThrow(InvalidRangeError);
    expect(() => parseIpRange(text)).toThrow(why);
  });

  it('contains both ends and nothing outside', () => {
    const r = parseIpRange('10.0.0.10-10.0.0.20');
    expect(['10.0.0.9', '10.0.0.10', '10.0.0.20', '10.0.0.21', 'fd00::10'].map((t) => rangeContains(r, parseIp(t)))).toEqual([false, true, true, false, false]);
  });
});

describe('rangeCidrs', () => {
  it.each([
    ['10.0.0.0/24', ['10.0.0.0/24']],
    ['10.0.0.10-10.0.0.20', ['10.0.0.10/31', '10.0.0.12/30', '10.0.0.16/30', '10.0.0.20/32']],
    ['10.0.0.0-10.0.1.255', ['10.0.0.0/23']],
    ['0.0.0.0-255.255.255.255', ['0.0.0.0/0']],
    ['255.255.255.255-255.255.255.255', ['255.255.255.255/32']],
    ['fd00::1-fd00::2', ['fd00::1/128', 'fd00::2/128']],
  ])('%s', (text, cidrs) => {
    expect(rangeCidrs(parseIpRange(text)).map((c) => c.text)).toEqual(cidrs);
  });

  it('a CIDR range is the CIDR', () => {
    const c = parseCidr('fd96::/64');
    expect(rangeCidrs(cidrRange(c))).toEqual([c]);
  });
});
