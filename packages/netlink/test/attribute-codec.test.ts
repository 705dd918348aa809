import { describe, expect, it, test } from '@jest/globals';
import fc from 'fast-check';
import { AttributeDecoder } from '../src/codec/attribute-decoder.js';
import { AttributeEncoder } from '../src/codec/attribute-encoder.js';
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER } from '../src/codec/constants.js';
import { EncodeError, MalformedMessageError } from '../src/codec/errors.js';
import { decodeMessages } from '../src/codec/message.js';
import { b, describeLE, hex } from './support/bytes.js';

/** Run the decoder to the end and return [type, payload] pairs plus the error, if any. */
function walk(bytes: Uint8Array, base = 0): { attrs: [number, number[]][]; err: MalformedMessageError | undefined } {
  const d = new AttributeDecoder(bytes, base);
  const attrs: [number, number[]][] = [];
  while (d.next()) attrs.push([d.type(), Array.from(d.bytes())]);
  return { attrs, err: d.err() };
}

describeLE('AttributeEncoder golden bytes', () => {
  const cases: [string, (e: AttributeEncoder) => void, Uint8Array][] = [
    [
      'u8 (3 bytes of padding)',
      (e) => e.u8(1, 0xab),
      b(
        [0x05, 0x00], // nla_len = 5 (4 header + 1)
        [0x01, 0x00], // nla_type = 1
        [0xab], //       value
        [0x00, 0x00, 0x00], // padding to 4
      ),
    ],
    [
      'u16 host order',
      (e) => e.u16(2, 0x1234),
      b(
        [0x06, 0x00], // nla_len = 6
        [0x02, 0x00], // nla_type = 2
        [0x34, 0x12], // 0x1234, little-endian
        [0x00, 0x00], // padding
      ),
    ],
    [
      'u32 host order',
      (e) => e.u32(3, 0x12345678),
      b(
        [0x08, 0x00], // nla_len = 8
        [0x03, 0x00], // nla_type = 3
        [0x78, 0x56, 0x34, 0x12], // 0x12345678
      ),
    ],
    [
      'u32 max',
      (e) => e.u32(3, 0xffffffff),
      b([0x08, 0x00], [0x03, 0x00], [0xff, 0xff, 0xff, 0xff]),
    ],
    [
      'u64 host order',
      (e) => e.u64(4, 0x0102030405060708n),
      b(
        [0x0c, 0x00], // nla_len = 12
        [0x04, 0x00], // nla_type = 4
        [0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01], // value, little-endian
      ),
    ],
    [
      'u64 max',
      (e) => e.u64(4, 0xffffffffffffffffn),
      b([0x0c, 0x00], [0x04, 0x00], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ],
    [
      'be16 network order',
      (e) => e.be16(5, 8080),
      b(
        [0x06, 0x00], // nla_len = 6
        [0x05, 0x00], // nla_type = 5 (NLA_F_NET_BYTEORDER is not set by the encoder)
        [0x1f, 0x90], // 8080 = 0x1f90, big-endian
        [0x00, 0x00], // padding
      ),
    ],
    [
      'be32 network order',
      (e) => e.be32(6, 0x0a000001),
      b(
        [0x08, 0x00], // nla_len = 8
        [0x06, 0x00], // nla_type = 6
        [0x0a, 0x00, 0x00, 0x01], // 10.0.0.1 as a big-endian u32
      ),
    ],
    [
      'string with NUL terminator',
      (e) => e.string(7, 'eth0'),
      b(
        [0x09, 0x00], // nla_len = 9 (4 + "eth0" + NUL)
        [0x07, 0x00], // nla_type = 7
        [0x65, 0x74, 0x68, 0x30, 0x00], // "eth0\0"
        [0x00, 0x00, 0x00], // padding
      ),
    ],
    [
      'empty string is a lone NUL',
      (e) => e.string(7, ''),
      b([0x05, 0x00], [0x07, 0x00], [0x00], [0x00, 0x00, 0x00]),
    ],
    [
      'UTF-8 string',
      (e) => e.string(7, 'é'),
      b([0x07, 0x00], [0x07, 0x00], [0xc3, 0xa9, 0x00], [0x00]),
    ],
    [
      'bytes',
      (e) => e.bytes(8, Uint8Array.of(1, 2, 3)),
      b(
        [0x07, 0x00], // nla_len = 7
        [0x08, 0x00], // nla_type = 8
        [0x01, 0x02, 0x03], // payload
        [0x00], // padding
      ),
    ],
    [
      'empty bytes',
      (e) => e.bytes(8, new Uint8Array(0)),
      b([0x04, 0x00], [0x08, 0x00]),
    ],
    [
      'flag has no payload',
      (e) => e.flag(9),
      b(
        [0x04, 0x00], // nla_len = 4 (header only)
        [0x09, 0x00], // nla_type = 9
      ),
    ],
    [
      'nested sets NLA_F_NESTED and pads its members',
      (e) => e.nested(10, (n) => n.u8(1, 7).u16(2, 0x0102)),
      b(
        [0x14, 0x00], // nla_len = 20 (4 + 8 + 8)
        [0x0a, 0x80], // nla_type = 10 | NLA_F_NESTED (0x8000)
        /**/ [0x05, 0x00, 0x01, 0x00], // u8 attr: len 5, type 1
        /**/ [0x07, 0x00, 0x00, 0x00], //   value 7 + 3 padding
        /**/ [0x06, 0x00, 0x02, 0x00], // u16 attr: len 6, type 2
        /**/ [0x02, 0x01, 0x00, 0x00], //   0x0102 + 2 padding
      ),
    ],
    [
      'empty nest',
      (e) => e.nested(10, () => undefined),
      b([0x04, 0x00], [0x0a, 0x80]),
    ],
    [
      'nest inside a nest',
      (e) => e.nested(1, (n) => n.nested(2, (m) => m.flag(3))),
      b(
        [0x0c, 0x00, 0x01, 0x80], // len 12, type 1 | NESTED
        /**/ [0x08, 0x00, 0x02, 0x80], // len 8, type 2 | NESTED
        /*    */ [0x04, 0x00, 0x03, 0x00], // flag, type 3
      ),
    ],
    [
      'a run of attributes is concatenated, each aligned',
      (e) => e.u8(1, 1).string(2, 'ab').u32(3, 3),
      b(
        [0x05, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00], // u8 1, padded
        [0x07, 0x00, 0x02, 0x00, 0x61, 0x62, 0x00, 0x00], // "ab\0", padded
        [0x08, 0x00, 0x03, 0x00, 0x03, 0x00, 0x00, 0x00], // u32 3
      ),
    ],
  ];

  test.each(cases)('%s', (_name, build, expected) => {
    const e = new AttributeEncoder();
    build(e);
    expect(hex(e.encode())).toBe(hex(expected));
  });

  it('encodes nothing as zero bytes', () => {
    expect(new AttributeEncoder().encode()).toEqual(new Uint8Array(0));
  });

  it('accepts the largest payload that fits the 16-bit length', () => {
    const out = new AttributeEncoder().bytes(1, new Uint8Array(0xffff - 4)).encode();
    expect(out.length).toBe(0x10000); // 65535 aligned up
    expect([out[0], out[1]]).toEqual([0xff, 0xff]);
  });
});

describe('AttributeEncoder errors', () => {
  const invalid: [string, (e: AttributeEncoder) => void, number][] = [
    ['u8 256', (e) => e.u8(1, 256), 1],
    ['u8 -1', (e) => e.u8(1, -1), 1],
    ['u8 1.5', (e) => e.u8(1, 1.5), 1],
    ['u16 65536', (e) => e.u16(2, 0x10000), 2],
    ['u16 NaN', (e) => e.u16(2, Number.NaN), 2],
    ['be16 65536', (e) => e.be16(3, 0x10000), 3],
    ['u32 2^32', (e) => e.u32(4, 2 ** 32), 4],
    ['u32 -1', (e) => e.u32(4, -1), 4],
    ['u32 Infinity', (e) => e.u32(4, Number.POSITIVE_INFINITY), 4],
    ['be32 2^32', (e) => e.be32(5, 2 ** 32), 5],
    ['u64 -1', (e) => e.u64(6, -1n), 6],
    ['u64 2^64', (e) => e.u64(6, 2n ** 64n), 6],
    ['string with NUL', (e) => e.string(7, 'a\0b'), 7],
    ['payload > 64 KiB', (e) => e.bytes(8, new Uint8Array(0x10000)), 8],
    ['payload one byte too long', (e) => e.bytes(8, new Uint8Array(0xffff - 3)), 8],
    ['string > 64 KiB', (e) => e.string(9, 'x'.repeat(0xffff)), 9],
  ];

  test.each(invalid)('%s is reported by encode() as EncodeError', (_name, build, type) => {
    const e = new AttributeEncoder();
    expect(() => build(e)).not.toThrow();
    let thrown: unknown;
    try {
      e.encode();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(EncodeError);
    expect((thrown as EncodeError).attributeType).toBe(type);
    expect((thrown as EncodeError).code).toBe('NETLINK_ENCODE');
    expect((thrown as EncodeError).message).toContain(`attribute ${type}`);
  });

  it('keeps the first error and still lets the chain continue', () => {
    const e = new AttributeEncoder().u32(1, 1).u8(2, 300).string(3, 'a\0').u16(4, -1).u32(5, 5);
    expect(() => e.encode()).toThrow(EncodeError);
    try {
      e.encode();
    } catch (error) {
      expect((error as EncodeError).attributeType).toBe(2);
      expect((error as EncodeError).message).toBe('cannot encode attribute 2: 300 is not an integer in 0..255');
    }
  });

  it('reports an error inside a nest from the outer encode()', () => {
    const e = new AttributeEncoder().nested(1, (n) => n.u16(2, 1).u16(3, 70000)).u32(4, 1);
    expect(() => e.encode()).toThrow(/attribute 3: 70000/);
  });

  it('an earlier top-level error wins over a later nested one', () => {
    const e = new AttributeEncoder().u8(1, 999).nested(2, (n) => n.u8(3, 999));
    expect(() => e.encode()).toThrow(/attribute 1:/);
  });

  it('rejects a nest whose members exceed the 16-bit length', () => {
    const e = new AttributeEncoder().nested(1, (n) => n.bytes(2, new Uint8Array(40000)).bytes(3, new Uint8Array(40000)));
    expect(() => e.encode()).toThrow(EncodeError);
    expect(() => e.encode()).toThrow(/exceeds the 16-bit length/);
  });

  it('throws the same error on every encode() call', () => {
    const e = new AttributeEncoder().u8(1, -5);
    expect(() => e.encode()).toThrow(EncodeError);
    expect(() => e.encode()).toThrow(EncodeError);
  });
});

describeLE('AttributeDecoder', () => {
  it('walks a run of attributes and reads each accessor', () => {
    const bytes = b(
      [0x05, 0x00, 0x01, 0x00, 0xab, 0x00, 0x00, 0x00], // type 1 u8 0xab
      [0x06, 0x00, 0x02, 0x00, 0x34, 0x12, 0x00, 0x00], // type 2 u16 0x1234
      [0x06, 0x00, 0x03, 0x00, 0x1f, 0x90, 0x00, 0x00], // type 3 be16 8080
      [0x08, 0x00, 0x04, 0x00, 0x78, 0x56, 0x34, 0x12], // type 4 u32
      [0x08, 0x00, 0x05, 0x00, 0xea, 0xff, 0xff, 0xff], // type 5 s32 -22
      [0x08, 0x00, 0x06, 0x00, 0x0a, 0x00, 0x00, 0x01], // type 6 be32 10.0.0.1
      [0x0c, 0x00, 0x07, 0x00, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01], // type 7 u64
      [0x09, 0x00, 0x08, 0x00, 0x65, 0x74, 0x68, 0x30, 0x00, 0x00, 0x00, 0x00], // type 8 "eth0"
      [0x04, 0x00, 0x09, 0x00], // type 9 flag
    );
    const d = new AttributeDecoder(bytes);
    const seen: unknown[] = [];
    while (d.next()) {
      switch (d.type()) {
        case 1: seen.push(d.u8()); break;
        case 2: seen.push(d.u16()); break;
        case 3: seen.push(d.be16()); break;
        case 4: seen.push(d.u32()); break;
        case 5: seen.push(d.s32()); break;
        case 6: seen.push(d.be32()); break;
        case 7: seen.push(d.u64()); break;
        case 8: seen.push(d.string()); break;
        case 9: seen.push(d.bytes().length); break;
      }
    }
    expect(d.err()).toBeUndefined();
    expect(seen).toEqual([0xab, 0x1234, 8080, 0x12345678, -22, 0x0a000001, 0x0102030405060708n, 'eth0', 0]);
  });

  it('masks NLA_F_NESTED and NLA_F_NET_BYTEORDER out of the type', () => {
    const bytes = b(
      [0x04, 0x00, 0x01, 0x80], // type 1 | NLA_F_NESTED
      [0x06, 0x00, 0x02, 0x40, 0x00, 0x50, 0x00, 0x00], // type 2 | NLA_F_NET_BYTEORDER, be16 80
      [0x04, 0x00, 0x03, 0xc0], // type 3 | both
      [0x04, 0x00, 0xff, 0x3f], // type 0x3fff, the largest
    );
    const d = new AttributeDecoder(bytes);
    const seen: [number, boolean][] = [];
    while (d.next()) seen.push([d.type(), d.markedNested()]);
    expect(d.err()).toBeUndefined();
    expect(seen).toEqual([
      [1, true],
      [2, false],
      [3, true],
      [0x3fff, false],
    ]);
    expect(NLA_F_NESTED | NLA_F_NET_BYTEORDER).toBe(0xc000);
  });

  it('decodes nests whether or not NLA_F_NESTED is set', () => {
    const bytes = b(
      [0x0c, 0x00, 0x01, 0x80], // type 1 | NESTED, len 12
      /**/ [0x08, 0x00, 0x01, 0x00, 0x2a, 0x00, 0x00, 0x00], // inner u32 42
      [0x0c, 0x00, 0x02, 0x00], // type 2, NOT marked nested (IPVS style), len 12
      /**/ [0x08, 0x00, 0x01, 0x00, 0x2b, 0x00, 0x00, 0x00], // inner u32 43
    );
    const d = new AttributeDecoder(bytes);
    const seen: number[] = [];
    while (d.next()) d.nested((n) => {
      while (n.next()) seen.push(n.u32());
    });
    expect(d.err()).toBeUndefined();
    expect(seen).toEqual([42, 43]);
  });

  it('accepts a last attribute without its padding', () => {
    const bytes = b(
      [0x05, 0x00, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00], // u8 7, padded
      [0x05, 0x00, 0x02, 0x00, 0x08], // u8 8, padding omitted at the end
    );
    expect(walk(bytes)).toEqual({ attrs: [[1, [7]], [2, [8]]], err: undefined });
  });

  it('stops a string at the first NUL and accepts one without NUL', () => {
    const bytes = b(
      [0x0a, 0x00, 0x01, 0x00, 0x61, 0x62, 0x00, 0x63, 0x64, 0x00, 0x00, 0x00], // "ab\0cd\0"
      [0x06, 0x00, 0x02, 0x00, 0x78, 0x79, 0x00, 0x00], // "xy" (no NUL inside nla_len)
    );
    const d = new AttributeDecoder(bytes);
    const seen: string[] = [];
    while (d.next()) seen.push(d.string());
    expect(seen).toEqual(['ab', 'xy']);
  });

  it('reads from a subarray with a non-zero byteOffset', () => {
    const backing = b([0xee, 0xee, 0xee], [0x08, 0x00, 0x01, 0x00, 0x01, 0x02, 0x03, 0x04]);
    const d = new AttributeDecoder(backing.subarray(3));
    expect(d.next()).toBe(true);
    expect(d.u32()).toBe(0x04030201);
  });

  it('returns false forever on empty input', () => {
    const d = new AttributeDecoder(new Uint8Array(0));
    expect(d.next()).toBe(false);
    expect(d.next()).toBe(false);
    expect(d.err()).toBeUndefined();
  });

  it('throws a programming error when an accessor is used before next()', () => {
    const d = new AttributeDecoder(b([0x04, 0x00, 0x01, 0x00]));
    expect(() => d.type()).toThrow(/call next\(\) first/);
  });

  describe('malformed input', () => {
    const GOOD = [0x08, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00]; // a valid u32 attribute, 8 bytes
    const cases: [string, Uint8Array, number, RegExp][] = [
      ['truncated header (3 bytes)', b([0x08, 0x00, 0x01]), 0, /3 trailing bytes/],
      ['truncated header after a good attribute', b(GOOD, [0x08, 0x00]), 8, /2 trailing bytes/],
      ['length 0', b([0x00, 0x00, 0x01, 0x00]), 0, /length 0 is below/],
      ['length 3', b(GOOD, [0x03, 0x00, 0x01, 0x00]), 8, /length 3 is below/],
      ['length past the end', b(GOOD, [0x10, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00]), 8, /type 2 of length 16 runs past the end \(8 left\)/],
      ['length 0xffff', b([0xff, 0xff, 0x05, 0x80]), 0, /type 5 of length 65535/],
    ];
    test.each(cases)('%s', (_name, bytes, offset, what) => {
      const { attrs, err } = walk(bytes);
      expect(attrs.length).toBe(offset / 8);
      expect(err).toBeInstanceOf(MalformedMessageError);
      expect(err?.offset).toBe(offset);
      expect(err?.what).toMatch(what);
      expect(err?.message).toContain(`at byte ${offset}`);
      expect(err?.code).toBe('NETLINK_MALFORMED');
    });

    it('adds the base offset to every error', () => {
      const { err } = walk(b([0x08, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00], [0x02, 0x00, 0x00, 0x00]), 20);
      expect(err?.offset).toBe(28);
    });

    const sizeCases: [string, (d: AttributeDecoder) => unknown, number[], unknown][] = [
      ['u8 with 2 bytes', (d) => d.u8(), [0x06, 0x00, 0x01, 0x00, 0x01, 0x02, 0x00, 0x00], 0],
      ['u16 with 1 byte', (d) => d.u16(), [0x05, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00], 0],
      ['be16 with 4 bytes', (d) => d.be16(), [0x08, 0x00, 0x01, 0x00, 0x01, 0x02, 0x03, 0x04], 0],
      ['u32 with 2 bytes', (d) => d.u32(), [0x06, 0x00, 0x01, 0x00, 0x01, 0x02, 0x00, 0x00], 0],
      ['u32 with 8 bytes', (d) => d.u32(), [0x0c, 0x00, 0x01, 0x00, 1, 2, 3, 4, 5, 6, 7, 8], 0],
      ['s32 with 0 bytes', (d) => d.s32(), [0x04, 0x00, 0x01, 0x00], 0],
      ['be32 with 3 bytes', (d) => d.be32(), [0x07, 0x00, 0x01, 0x00, 1, 2, 3, 0], 0],
      ['u64 with 4 bytes', (d) => d.u64(), [0x08, 0x00, 0x01, 0x00, 1, 2, 3, 4], 0n],
    ];
    test.each(sizeCases)('wrong payload size: %s', (_name, read, attr, zero) => {
      // A good attribute first, so the error offset (8 + base) is not trivially 0.
      const bytes = b([0x05, 0x00, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00], attr, [0x05, 0x00, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00]);
      const d = new AttributeDecoder(bytes, 100);
      expect(d.next()).toBe(true);
      expect(d.next()).toBe(true);
      expect(read(d)).toEqual(zero);
      expect(d.next()).toBe(false); // the walk stops after the first error
      expect(d.err()).toBeInstanceOf(MalformedMessageError);
      expect(d.err()?.offset).toBe(108);
      expect(d.err()?.what).toMatch(/attribute type 1 has \d+ payload bytes, expected \d/);
    });

    it('keeps the first error when several accessors fail', () => {
      const d = new AttributeDecoder(b([0x05, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00]));
      d.next();
      d.u32();
      d.u64();
      expect(d.err()?.what).toMatch(/expected 4/);
    });

    it('reports a nested error at its absolute offset and stops the outer walk', () => {
      const bytes = b(
        [0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00], // @0  u32
        [0x14, 0x00, 0x02, 0x80], //                         @8  nest, len 20
        /**/ [0x08, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00], // @12 inner u32
        /**/ [0x08, 0x00, 0x02, 0x00, 0x01, 0x02, 0x03, 0x04], // @20 inner, read as u16 -> wrong size
        [0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00], // @28 never reached
      );
      const d = new AttributeDecoder(bytes, 20); // as if after nlmsghdr + genlmsghdr
      const types: number[] = [];
      while (d.next()) {
        types.push(d.type());
        if (d.type() === 2) d.nested((n) => {
          while (n.next()) if (n.type() === 2) n.u16();
        });
      }
      expect(types).toEqual([1, 2]);
      expect(d.err()?.offset).toBe(20 + 20);
    });

    it('reports a nest whose inner length runs past the nest (not past the message)', () => {
      const bytes = b(
        [0x0c, 0x00, 0x01, 0x80], //                            @0 nest len 12
        /**/ [0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00], // @4 inner claims 16, nest has 8
        [0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00], //    @12 outside the nest
      );
      const d = new AttributeDecoder(bytes, 16);
      while (d.next()) d.nested((n) => {
        while (n.next()) n.bytes();
      });
      expect(d.err()?.offset).toBe(16 + 4);
      expect(d.err()?.what).toMatch(/runs past the end \(8 left\)/);
    });
  });
});

// ---------------------------------------------------------------------------------------
// Properties

type Entry =
  | { type: number; kind: 'u8' | 'u16' | 'be16' | 'u32' | 'be32'; value: number }
  | { type: number; kind: 'u64'; value: bigint }
  | { type: number; kind: 'string'; value: string }
  | { type: number; kind: 'bytes'; value: Uint8Array }
  | { type: number; kind: 'flag' }
  | { type: number; kind: 'nested'; value: Entry[] };

const attrType = fc.integer({ min: 0, max: 0x3fff });
const text = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\0'));

const { entries } = fc.letrec<{ entry: Entry; entries: Entry[] }>((tie) => ({
  entry: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ type: attrType, kind: fc.constant('u8' as const), value: fc.integer({ min: 0, max: 0xff }) }),
    fc.record({ type: attrType, kind: fc.constantFrom('u16' as const, 'be16' as const), value: fc.integer({ min: 0, max: 0xffff }) }),
    fc.record({ type: attrType, kind: fc.constantFrom('u32' as const, 'be32' as const), value: fc.nat({ max: 0xffffffff }) }),
    fc.record({ type: attrType, kind: fc.constant('u64' as const), value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
    fc.record({ type: attrType, kind: fc.constant('string' as const), value: text }),
    fc.record({ type: attrType, kind: fc.constant('bytes' as const), value: fc.uint8Array({ maxLength: 24 }) }),
    fc.record({ type: attrType, kind: fc.constant('flag' as const) }),
    fc.record({ type: attrType, kind: fc.constant('nested' as const), value: tie('entries') }),
  ),
  entries: fc.array(tie('entry'), { maxLength: 6, depthIdentifier: 'attrs' }),
}));

function encodeEntries(e: AttributeEncoder, list: readonly Entry[]): void {
  for (const x of list) {
    switch (x.kind) {
      case 'u8': e.u8(x.type, x.value); break;
      case 'u16': e.u16(x.type, x.value); break;
      case 'be16': e.be16(x.type, x.value); break;
      case 'u32': e.u32(x.type, x.value); break;
      case 'be32': e.be32(x.type, x.value); break;
      case 'u64': e.u64(x.type, x.value); break;
      case 'string': e.string(x.type, x.value); break;
      case 'bytes': e.bytes(x.type, x.value); break;
      case 'flag': e.flag(x.type); break;
      case 'nested': e.nested(x.type, (n) => encodeEntries(n, x.value)); break;
    }
  }
}

/** Decode guided by the expected shape (the kinds), returning what was read. */
function decodeEntries(d: AttributeDecoder, shape: readonly Entry[]): Entry[] {
  const out: Entry[] = [];
  let i = 0;
  while (d.next()) {
    const s = shape[i++];
    if (!s) throw new Error('more attributes decoded than encoded');
    const type = d.type();
    switch (s.kind) {
      case 'u8': out.push({ type, kind: s.kind, value: d.u8() }); break;
      case 'u16': out.push({ type, kind: s.kind, value: d.u16() }); break;
      case 'be16': out.push({ type, kind: s.kind, value: d.be16() }); break;
      case 'u32': out.push({ type, kind: s.kind, value: d.u32() }); break;
      case 'be32': out.push({ type, kind: s.kind, value: d.be32() }); break;
      case 'u64': out.push({ type, kind: s.kind, value: d.u64() }); break;
      case 'string': out.push({ type, kind: s.kind, value: d.string() }); break;
      case 'bytes': out.push({ type, kind: s.kind, value: Uint8Array.from(d.bytes()) }); break;
      case 'flag':
        expect(d.bytes().length).toBe(0);
        out.push({ type, kind: s.kind });
        break;
      case 'nested': {
        expect(d.markedNested()).toBe(true);
        let inner: Entry[] = [];
        d.nested((n) => (inner = decodeEntries(n, s.value)));
        out.push({ type, kind: s.kind, value: inner });
        break;
      }
    }
  }
  return out;
}

/** Walk arbitrary bytes, exercising every accessor and recursing into anything that parses. */
function exercise(d: AttributeDecoder, depth: number): void {
  while (d.next()) {
    d.markedNested();
    d.bytes();
    switch (d.type() % 10) {
      case 0: d.u8(); break;
      case 1: d.u16(); break;
      case 2: d.be16(); break;
      case 3: d.u32(); break;
      case 4: d.s32(); break;
      case 5: d.be32(); break;
      case 6: d.u64(); break;
      case 7: d.string(); break;
      default:
        if (depth < 4) d.nested((n) => exercise(n, depth + 1));
    }
  }
}

describe('attribute codec properties', () => {
  it('encode → decode gives back every (type, kind, value)', () => {
    fc.assert(
      fc.property(entries, (list) => {
        const e = new AttributeEncoder();
        encodeEntries(e, list);
        const bytes = e.encode();
        expect(bytes.length % 4).toBe(0);
        const d = new AttributeDecoder(bytes);
        const back = decodeEntries(d, list);
        expect(d.err()).toBeUndefined();
        expect(back).toEqual(list);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes never make the decoder throw; errors come from err() with an in-range offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), fc.nat({ max: 1000 }), (bytes, base) => {
        const d = new AttributeDecoder(bytes, base);
        expect(() => exercise(d, 0)).not.toThrow();
        const err = d.err();
        if (err !== undefined) {
          expect(err).toBeInstanceOf(MalformedMessageError);
          expect(err.offset).toBeGreaterThanOrEqual(base);
          expect(err.offset).toBeLessThan(base + bytes.length);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('random attribute-shaped bytes (valid lengths, random payloads) never throw either', () => {
    // Build runs of plausible headers so the walker gets deep instead of failing at byte 0.
    const attr = fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 20 }), fc.boolean());
    fc.assert(
      fc.property(fc.array(attr, { maxLength: 8 }), (list) => {
        const parts = list.map(([type, payload, pad]) => {
          const len = 4 + payload.length;
          const out = new Uint8Array(pad ? (len + 3) & ~3 : len);
          new DataView(out.buffer).setUint16(0, len, true);
          new DataView(out.buffer).setUint16(2, type, true);
          out.set(payload, 4);
          return out;
        });
        const d = new AttributeDecoder(b(...parts));
        expect(() => exercise(d, 0)).not.toThrow();
        const err = d.err();
        if (err !== undefined) expect(err).toBeInstanceOf(MalformedMessageError);
      }),
      { numRuns: 500 },
    );
  });

  it('decodeMessages on random bytes throws nothing but MalformedMessageError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          const messages = decodeMessages(bytes);
          for (const m of messages) expect(m.data.length).toBeLessThanOrEqual(bytes.length - 16);
        } catch (e) {
          expect(e).toBeInstanceOf(MalformedMessageError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
