// dottedQuadValue against ipaddr.js (the library the rest of the resolver parses addresses with).
import { expect, it } from '@jest/globals';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { dottedQuadValue } from '../src/dotted-quad.js';

const library = (s: string): number => (ipaddr.IPv4.isValidFourPartDecimal(s) ? ipaddr.IPv4.parse(s).toByteArray().reduce((q, b) => q * 256 + b, 0) : -1);

it('agrees with ipaddr.js on near-quads, any strings, and the edges', () => {
  const part = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('', '00', '01', '007', '-1', '1e2', ' 1', 'x', '0x1'));
  const nearQuad = fc.array(part, { minLength: 1, maxLength: 6 }).map((ps) => ps.join('.'));
  fc.assert(fc.property(fc.oneof(nearQuad, fc.string()), (s) => expect(dottedQuadValue(s)).toBe(library(s))), { numRuns: 20_000 });
  for (const s of ['0.0.0.0', '255.255.255.255', '10.0.0.1', '256.0.0.1', '1.2.3', '1.2.3.4.', '.1.2.3.4', '1..2.3', '01.2.3.4', '1.2.3.4 ', ''])
    expect(dottedQuadValue(s)).toBe(library(s));
  expect(dottedQuadValue('255.255.255.255')).toBe(0xffffffff);
});
