// The planner's backend keys without strings: backendIndexKey is one-to-one with backendKey, and
// compareBackendKeys orders as backendKey's code units do (new backend ids follow that order).
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { backendIndexKey, backendKey, compareBackendKeys } from '../src/plan/keys.js';

interface AddressPort {
  readonly address: string;
  readonly port: number;
}

/** Dotted quads (canonical or not), IPv6 texts, prefixes of each other, odd characters. */
const address = fc.oneof(
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((q) => q.join('.')),
  fc.constantFrom('10.0.0.1', '10.0.0.10', '10.0.0.1 ', '10.0.0.1\t', '10.0.0.1 1', '010.0.0.1', '10.0.0.256', '1.2.3', '', 'fd00::1', 'fd00::10', '::ffff:10.0.0.1'),
  fc.string({ maxLength: 6, unit: fc.constantFrom('1', '0', '.', ':', ' ', '\t', 'a') }),
);
const port = fc.oneof(fc.constantFrom(0, 8, 80, 800, 8080, 65535, 65536, -1, 1.5), fc.nat(70000));
const backend = fc.record({ address, port });

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);
const keyOrder = (a: AddressPort, b: AddressPort): number => {
  const x = backendKey(a);
  const y = backendKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

describe('backend keys', () => {
  it('property: backendIndexKey(a) equals backendIndexKey(b) exactly when backendKey does', () => {
    fc.assert(
      fc.property(backend, backend, (a, b) => {
        expect(backendIndexKey(a.address, a.port) === backendIndexKey(b.address, b.port)).toBe(backendKey(a) === backendKey(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('a dotted quad and a u16 port key as a number; anything else as backendKey', () => {
    expect(backendIndexKey('10.0.0.1', 80)).toBe(0x0a000001 * 65536 + 80);
    expect(backendIndexKey('255.255.255.255', 65535)).toBe(2 ** 48 - 1);
    expect(backendIndexKey('010.0.0.1', 80)).toBe('010.0.0.1 80');
    expect(backendIndexKey('10.0.0.1', 65536)).toBe('10.0.0.1 65536');
    expect(backendIndexKey('fd00::1', 53)).toBe('fd00::1 53');
  });

  it('property: compareBackendKeys has the sign of backendKey code-unit order', () => {
    fc.assert(
      fc.property(backend, backend, (a, b) => {
        expect(sign(compareBackendKeys(a, b))).toBe(keyOrder(a, b));
      }),
      { numRuns: 3000 },
    );
  });

  it('sorts like the keys: prefixes, ports compared as text', () => {
    const list: AddressPort[] = [
      { address: '10.0.0.10', port: 80 },
      { address: '10.0.0.1', port: 9 },
      { address: '10.0.0.1', port: 10 },
      { address: '10.0.0.1 ', port: 1 },
      { address: '10.0.0.1\t', port: 1 },
      { address: '10.0.0.2', port: 80 },
    ];
    const sorted = [...list].sort(compareBackendKeys).map(backendKey);
    expect(sorted).toEqual(list.map(backendKey).sort());
  });
});
