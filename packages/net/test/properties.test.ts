// Property tests against ipaddr.js, the reference this package builds on. The documented
// differences: IPv4 must be four decimal parts without leading zeros (ipaddr.js also takes
// inet_aton's forms), and "::a.b.c.d" means ::0:a.b.c.d (RFC 4291 2.5.5.1), not ::ffff:a.b.c.d.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import {
  cidrContains,
  cidrOf,
  formatIp,
  InvalidAddressError,
  ipFromBigInt,
  ipToBigInt,
  parseCidr,
  parseIp,
  parseIpRange,
  rangeCidrs,
  type AddressFamily,
} from '../src/index.js';
import { familyBits } from '../src/ip.js';

const ipText = fc.oneof(fc.ipV4(), fc.ipV6());
const bytes4 = fc.uint8Array({ minLength: 4, maxLength: 4 });
const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const anyBytes = fc.oneof(bytes4, bytes16);
/** IPv6 with few distinct groups, so runs of zeros (and RFC 5952's choices) are common. */
const sparse16 = fc.array(fc.constantFrom(0, 0, 0, 1, 0xff), { minLength: 16, maxLength: 16 }).map((a) => Uint8Array.from(a));

function reference(text: string): ipaddr.IPv4 | ipaddr.IPv6 {
  // ipaddr.js reads "::a.b.c.d" as IPv4-mapped; RFC 4291 (and inet_pton) as IPv4-compatible.
  const compat = /^::(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (compat) return ipaddr.fromByteArray([...new Array<number>(12).fill(0), ...ipaddr.IPv4.parse(compat[1] ?? '').toByteArray()]);
  return ipaddr.parse(text);
}

const referenceText = (a: ipaddr.IPv4 | ipaddr.IPv6): string => (a.kind() === 'ipv4' ? a.toString() : (a as ipaddr.IPv6).toRFC5952String());

describe('addresses agree with ipaddr.js', () => {
  it('IPv4-like text: accepted exactly when ipaddr.js takes it as four decimal parts; same bytes and text', () => {
    const part = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.integer({ min: 0, max: 99 }).map((n) => `0${n}`), fc.constantFrom('', '-1', '1e2', ' 1', '0x1'));
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), (parts) => {
        const text = parts.join('.');
        const ok = ipaddr.IPv4.isValidFourPartDecimal(text);
        if (!ok) {
          expect(() => parseIp(text)).toThrow(InvalidAddressError);
          return;
        }
        const ip = parseIp(text);
        expect(ip.family).toBe('inet');
        expect([...ip.bytes]).toEqual(ipaddr.parse(text).toByteArray());
        expect(ip.text).toBe(ipaddr.parse(text).toString());
      }),
      { numRuns: 1000 },
    );
  });

  it('any IPv4/IPv6 text form: same family, bytes and canonical text as ipaddr.js', () => {
    fc.assert(
      fc.property(ipText, (text) => {
        const ip = parseIp(text);
        const ref = reference(text);
        expect(ip.family).toBe(ref.kind() === 'ipv4' ? 'inet' : 'inet6');
        expect([...ip.bytes]).toEqual(ref.toByteArray());
        expect(ip.text).toBe(referenceText(ref));
        expect(parseIp(ip.text)).toEqual(ip); // canonical text is a fixed point
      }),
      { numRuns: 1000 },
    );
  });

  it('bytes → text: ipaddr.js text (IPv4 dotted, IPv6 RFC 5952), and back to the same bytes', () => {
    fc.assert(
      fc.property(fc.oneof(anyBytes, sparse16), (bytes) => {
        const text = formatIp(bytes);
        expect(text).toBe(referenceText(ipaddr.fromByteArray([...bytes])));
        expect(parseIp(text).bytes).toEqual(bytes);
        expect(parseIp(text).text).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it('numbers: ipFromBigInt(ipToBigInt(ip)) is ip', () => {
    fc.assert(
      fc.property(ipText, (text) => {
        const ip = parseIp(text);
        expect(ipFromBigInt(ip.family, ipToBigInt(ip))).toEqual(ip);
      }),
    );
  });
});

describe('CIDRs agree with ipaddr.js', () => {
  const lengthFor = (family: AddressFamily) => fc.integer({ min: 0, max: familyBits(family) });
  const addressAndLength = fc.oneof(bytes4, bytes16, sparse16).chain((b) => {
    const family: AddressFamily = b.length === 4 ? 'inet' : 'inet6';
    return fc.tuple(fc.constant(formatIp(b)), lengthFor(family), fc.constant(family));
  });

  it('parseCidr accepts exactly the CIDRs without host bits (ipaddr.js network address = the address)', () => {
    fc.assert(
      fc.property(addressAndLength, ([address, length]) => {
        const text = `${address}/${length}`;
        const [refAddress, refLength] = ipaddr.parseCIDR(text);
        const refNetwork = refAddress.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text);
        const canonical = `${referenceText(refNetwork)}/${refLength}`;
        if (referenceText(refNetwork) === address) {
          expect(parseCidr(text).text).toBe(canonical);
        } else {
          expect(() => parseCidr(text)).toThrow(`did you mean "${canonical}"?`);
        }
        expect(cidrOf(parseIp(address), length).text).toBe(canonical);
      }),
      { numRuns: 1000 },
    );
  });

  it('contains: the same answer as ipaddr.js match()', () => {
    // Addresses near the network (shared leading bytes) so both answers occur.
    const near = addressAndLength.chain(([address, length, family]) =>
      fc.tuple(
        fc.constant(cidrOf(parseIp(address), length)),
        fc.oneof(
          fc.constant(address),
          fc.uint8Array({ minLength: 1, maxLength: 2 }).map((tail) => {
            const b = Uint8Array.from(parseIp(address).bytes);
            b.set(tail, b.length - tail.length);
            return formatIp(b);
          }),
          ipText,
        ),
        fc.constant(family),
      ),
    );
    fc.assert(
      fc.property(near, ([cidr, other]) => {
        const ip = parseIp(other);
        const a = ipaddr.parse(ip.text);
        const net = ipaddr.parse(cidr.network.text);
        const expected = a.kind() === net.kind() && a.match(net, cidr.prefixLength);
        expect(cidrContains(cidr, ip)).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('ranges', () => {
  it('rangeCidrs covers exactly first..last with aligned, consecutive CIDRs', () => {
    const range = fc.tuple(fc.constantFrom<AddressFamily>('inet', 'inet6'), fc.bigInt({ min: 0n, max: 1n << 32n }), fc.bigInt({ min: 0n, max: 5000n })).map(([family, base, span]) => {
      const top = (1n << BigInt(familyBits(family))) - 1n;
      const first = family === 'inet' ? base % (top + 1n) : (base << 90n) % (top + 1n);
      const last = first + span > top ? top : first + span;
      return `${ipFromBigInt(family, first).text}-${ipFromBigInt(family, last).text}`;
    });
    fc.assert(
      fc.property(range, (text) => {
        const r = parseIpRange(text);
        const cidrs = rangeCidrs(r);
        let next = ipToBigInt(r.first);
        for (const c of cidrs) {
          expect(parseCidr(c.text)).toEqual(c); // aligned: no host bits
          expect(ipToBigInt(c.network)).toBe(next);
          next += 1n << BigInt(familyBits(c.family) - c.prefixLength);
        }
        expect(next - 1n).toBe(ipToBigInt(r.last));
        expect(cidrs.length).toBeLessThanOrEqual(2 * familyBits(r.family));
      }),
      { numRuns: 1000 },
    );
  });
});
