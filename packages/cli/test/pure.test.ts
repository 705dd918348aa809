// The CLI's own pure helpers: address:port arguments, slot counting, text tables.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { UsageError } from '../src/errors.js';
import { formatHostPort, parseHostPort } from '../src/endpoint-arg.js';
import { slotCounts } from '../src/resolver.js';
import { renderTable } from '../src/table.js';

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
const ipv6 = fc.ipV6();

describe('parseHostPort', () => {
  it('reads back what formatHostPort writes, for IPv4 and IPv6', () => {
    fc.assert(
      fc.property(fc.oneof(ipv4, ipv6), fc.integer({ min: 0, max: 65535 }), (address, port) => {
        const parsed = parseHostPort(formatHostPort(address, port), 'x');
        expect(parsed.port).toBe(port);
        // canonical: parsing the canonical text again changes nothing
        expect(parseHostPort(parsed.address, 'x')).toEqual({ address: parsed.address, port: undefined });
      }),
    );
  });

  it.each([
    ['10.0.0.1', { address: '10.0.0.1', port: undefined }],
    ['10.0.0.1:80', { address: '10.0.0.1', port: 80 }],
    ['fd00::1', { address: 'fd00::1', port: undefined }],
    ['[fd00::1]:443', { address: 'fd00::1', port: 443 }],
    ['[FD00:0::1]', { address: 'fd00::1', port: undefined }],
  ])('%s', (text, want) => {
    expect(parseHostPort(text, 'x')).toEqual(want);
  });

  it.each(['10.0.0.1:65536', '10.0.0.1:-1', '10.0.0.1:', 'web:80', '10.0.0:80', '[fd00::1]:x'])('refuses %s as a usage error', (text) => {
    expect(() => parseHostPort(text, 'target')).toThrow(UsageError);
  });
});

describe('slotCounts', () => {
  it('counts every slot once, per backend id, zero for a backend with no slot', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(1000), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 300 }), (ids, raw) => {
        const slots = Uint16Array.from(raw.map((r) => r % ids.length));
        const counts = slotCounts(ids, slots);
        expect(Object.keys(counts).sort()).toEqual(ids.map(String).sort());
        expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(slots.length);
        ids.forEach((id, i) => expect(counts[String(id)]).toBe(slots.filter((s) => s === i).length));
      }),
    );
  });
});

describe('renderTable', () => {
  it('pads columns to their widest cell, two spaces apart, with no trailing blanks', () => {
    expect(renderTable(['A', 'BB', 'C'], [['xxx', 'y', ''], ['', 'zzz', 'w']])).toBe('A    BB   C\nxxx  y\n     zzz  w\n');
  });
});
