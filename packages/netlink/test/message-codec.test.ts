import { describe, expect, it, test } from '@jest/globals';
import fc from 'fast-check';
import { decodeAck, decodeDone } from '../src/codec/ack.js';
import { NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_MULTI } from '../src/codec/constants.js';
import { MalformedMessageError } from '../src/codec/errors.js';
import { decodeGeneric, encodeGeneric } from '../src/codec/genetlink.js';
import { decodeHeader, decodeMessages, encodeMessage, type NetlinkMessage } from '../src/codec/message.js';
import { b, cstr, describeLE, hex, le32 } from './support/bytes.js';

function only(bytes: Uint8Array): NetlinkMessage {
  const messages = decodeMessages(bytes);
  expect(messages).toHaveLength(1);
  return messages[0] as NetlinkMessage;
}

describeLE('nlmsghdr', () => {
  it('encodes the golden header, pads the payload and records the unpadded length', () => {
    const out = encodeMessage({ type: 0x10, flags: 0x0005, sequence: 0x01020304, portId: 0 }, Uint8Array.of(1, 2, 3, 4, 5));
    expect(hex(out)).toBe(
      hex(
        b(
          [0x15, 0x00, 0x00, 0x00], // nlmsg_len   = 21 (16 + 5), not the padded 24
          [0x10, 0x00], //             nlmsg_type  = 0x10 (GENL_ID_CTRL)
          [0x05, 0x00], //             nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK
          [0x04, 0x03, 0x02, 0x01], // nlmsg_seq   = 0x01020304
          [0x00, 0x00, 0x00, 0x00], // nlmsg_pid   = 0 (the kernel)
          [0x01, 0x02, 0x03, 0x04, 0x05], // payload
          [0x00, 0x00, 0x00], //       padding to 4
        ),
      ),
    );
  });

  it('writes sequence and port id as unsigned 32-bit', () => {
    const out = encodeMessage({ type: 0xffff, flags: 0xffff, sequence: -1, portId: 0xfffffffe }, new Uint8Array(0));
    expect(hex(out)).toBe(
      hex(
        b(
          [0x10, 0x00, 0x00, 0x00], // nlmsg_len = 16, header only
          [0xff, 0xff], //             type
          [0xff, 0xff], //             flags
          [0xff, 0xff, 0xff, 0xff], // seq -1 → 0xffffffff
          [0xfe, 0xff, 0xff, 0xff], // pid
        ),
      ),
    );
    expect(decodeHeader(out)).toEqual({ length: 16, type: 0xffff, flags: 0xffff, sequence: 0xffffffff, portId: 0xfffffffe });
  });

  it('decodes a header at an offset', () => {
    const bytes = b([0xaa, 0xbb, 0xcc, 0xdd], [0x14, 0x00, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x07, 0x00, 0x00, 0x00, 0x39, 0x30, 0x00, 0x00]);
    expect(decodeHeader(bytes, 4)).toEqual({ length: 20, type: NLMSG_DONE, flags: NLM_F_MULTI, sequence: 7, portId: 12345 });
    expect(() => decodeHeader(bytes, 5)).toThrow(MalformedMessageError);
  });
});

describeLE('decodeMessages', () => {
  const twoMessages = b(
    // message 1 @0: 21 bytes + 3 padding
    [0x15, 0x00, 0x00, 0x00], // len 21
    [0x25, 0x00, 0x02, 0x00], // type 0x25, flags NLM_F_MULTI
    [0x01, 0x00, 0x00, 0x00], // seq 1
    [0x39, 0x30, 0x00, 0x00], // pid 12345
    [0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0x00, 0x00, 0x00], // 5 payload bytes + padding
    // message 2 @24: NLMSG_DONE, 20 bytes
    [0x14, 0x00, 0x00, 0x00], // len 20
    [0x03, 0x00, 0x02, 0x00], // type NLMSG_DONE, flags NLM_F_MULTI
    [0x01, 0x00, 0x00, 0x00], // seq 1
    [0x39, 0x30, 0x00, 0x00], // pid 12345
    [0x00, 0x00, 0x00, 0x00], // int error = 0
  );

  it('splits a multi-message datagram; data excludes the padding', () => {
    const [m1, m2, ...rest] = decodeMessages(twoMessages);
    expect(rest).toEqual([]);
    expect(m1?.header).toEqual({ type: 0x25, flags: NLM_F_MULTI, sequence: 1, portId: 12345 });
    expect(Array.from(m1?.data ?? [])).toEqual([0xa1, 0xa2, 0xa3, 0xa4, 0xa5]);
    expect(m2?.header).toEqual({ type: NLMSG_DONE, flags: NLM_F_MULTI, sequence: 1, portId: 12345 });
    expect(Array.from(m2?.data ?? [])).toEqual([0, 0, 0, 0]);
  });

  it('returns no messages for an empty datagram', () => {
    expect(decodeMessages(new Uint8Array(0))).toEqual([]);
  });

  it('accepts a last message without padding', () => {
    const bytes = twoMessages.subarray(0, 21); // message 1 alone, padding cut off
    expect(Array.from(only(bytes).data)).toEqual([0xa1, 0xa2, 0xa3, 0xa4, 0xa5]);
  });

  const malformed: [string, Uint8Array, number, RegExp][] = [
    ['short header', b([0x10, 0x00, 0x00, 0x00, 0x00, 0x00]), 0, /6 bytes are too short for a netlink header/],
    ['short header after a message', b(twoMessages, [0x10, 0x00, 0x00, 0x00]), 44, /4 bytes are too short/],
    ['length below 16', b([0x0f, 0x00, 0x00, 0x00], new Array<number>(12).fill(0)), 0, /length 15 is below the 16-byte header/],
    ['length 0 (would loop forever if accepted)', b(twoMessages.subarray(0, 24), new Array<number>(16).fill(0)), 24, /length 0 is below/],
    ['length past the end', b([0x40, 0x00, 0x00, 0x00], new Array<number>(28).fill(0)), 0, /length 64 runs past the end \(32 left\)/],
    ['second message past the end', b(twoMessages.subarray(0, 24), [0x18, 0x00, 0x00, 0x00], new Array<number>(12).fill(0)), 24, /runs past the end/],
  ];
  test.each(malformed)('%s → MalformedMessageError at the right offset', (_name, bytes, offset, what) => {
    let thrown: unknown;
    try {
      decodeMessages(bytes);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(MalformedMessageError);
    expect((thrown as MalformedMessageError).offset).toBe(offset);
    expect((thrown as MalformedMessageError).what).toMatch(what);
  });

  it('round-trips any list of messages', () => {
    const message = fc.record({
      header: fc.record({
        type: fc.integer({ min: 0, max: 0xffff }),
        flags: fc.integer({ min: 0, max: 0xffff }),
        sequence: fc.nat({ max: 0xffffffff }),
        portId: fc.nat({ max: 0xffffffff }),
      }),
      data: fc.uint8Array({ maxLength: 40 }),
    });
    fc.assert(
      fc.property(fc.array(message, { maxLength: 6 }), (messages) => {
        const datagram = b(...messages.map((m) => encodeMessage(m.header, m.data)));
        expect(datagram.length % 4).toBe(0);
        const back = decodeMessages(datagram);
        expect(back.map((m) => ({ header: m.header, data: Uint8Array.from(m.data) }))).toEqual(messages);
      }),
      { numRuns: 300 },
    );
  });
});

describeLE('decodeAck', () => {
  it('success ack (capped): errno 0, the echoed request header, no ext-ack', () => {
    const m = only(
      b(
        // nlmsghdr
        [0x24, 0x00, 0x00, 0x00], // len 36 = 16 + 4 + 16
        [0x02, 0x00], //             NLMSG_ERROR
        [0x00, 0x01], //             flags NLM_F_CAPPED (0x100)
        [0x07, 0x00, 0x00, 0x00], // seq 7
        [0xd2, 0x04, 0x00, 0x00], // pid 1234
        // struct nlmsgerr
        [0x00, 0x00, 0x00, 0x00], // error = 0
        [0x1c, 0x00, 0x00, 0x00], //   msg.nlmsg_len = 28 (the request's, payload not echoed)
        [0x25, 0x00, 0x05, 0x00], //   msg.type 0x25, flags REQUEST|ACK
        [0x07, 0x00, 0x00, 0x00], //   msg.seq 7
        [0x00, 0x00, 0x00, 0x00], //   msg.pid 0
      ),
    );
    expect(m.header.type).toBe(NLMSG_ERROR);
    const ack = decodeAck(m);
    // `+ 0` is harmless now that -0 is normalised in decodeAck (tested below).
    expect({ ...ack, errno: ack.errno + 0 }).toEqual({ errno: 0, request: { type: 0x25, flags: 5, sequence: 7, portId: 0 }, extAck: {} });
  });

  // SRC BUG (minor): decodeAck computes `-error`, so a success ack reports errno -0, not 0.
  // `=== 0` still holds, but Object.is / toEqual / toStrictEqual see -0. Fix in codec/ack.ts:
  // `return { errno: error === 0 ? 0 : -error, ... }` (same in decodeDone).
  test('success ack errno is +0, not -0', () => {
    const m = only(encodeMessage({ type: NLMSG_ERROR, flags: NLM_F_CAPPED, sequence: 1, portId: 1 }, b([0, 0, 0, 0], encodeMessage({ type: 0x25, flags: 5, sequence: 1, portId: 0 }, new Uint8Array(0)))));
    expect(Object.is(decodeAck(m).errno, 0)).toBe(true);
  });

  it('error ack, NLM_F_CAPPED | NLM_F_ACK_TLVS, with NLMSGERR_ATTR_MSG and NLMSGERR_ATTR_OFFS', () => {
    const m = only(
      b(
        // nlmsghdr
        [0x40, 0x00, 0x00, 0x00], // len 64 = 16 + 4 + 16 + 20 + 8
        [0x02, 0x00], //             NLMSG_ERROR
        [0x00, 0x03], //             flags NLM_F_CAPPED | NLM_F_ACK_TLVS (0x300)
        [0x09, 0x00, 0x00, 0x00], // seq 9
        [0xd2, 0x04, 0x00, 0x00], // pid 1234
        // struct nlmsgerr
        [0xea, 0xff, 0xff, 0xff], // error = -22 (-EINVAL)
        [0x8c, 0x00, 0x00, 0x00], //   msg.nlmsg_len = 140 (capped: only the header is echoed)
        [0x25, 0x00, 0x05, 0x00], //   msg.type 0x25, flags REQUEST|ACK
        [0x09, 0x00, 0x00, 0x00], //   msg.seq 9
        [0x00, 0x00, 0x00, 0x00], //   msg.pid 0
        // ext-ack TLVs @36 (data offset 20)
        [0x13, 0x00, 0x01, 0x00], // len 19, NLMSGERR_ATTR_MSG
        cstr('Invalid weight'), //  "Invalid weight\0" (15 bytes)
        [0x00], //                   padding
        [0x08, 0x00, 0x02, 0x00], // len 8, NLMSGERR_ATTR_OFFS
        [0x7c, 0x00, 0x00, 0x00], // offset 124 into the request
      ),
    );
    expect(decodeAck(m)).toEqual({
      errno: 22,
      request: { type: 0x25, flags: 5, sequence: 9, portId: 0 },
      extAck: { message: 'Invalid weight', offset: 124 },
    });
  });

  it('uncapped error ack: the echoed request payload is skipped, TLVs start after it', () => {
    const m = only(
      b(
        // nlmsghdr
        [0x3c, 0x00, 0x00, 0x00], // len 60 = 16 + 4 + 24 (request 21, padded) + 16 TLVs
        [0x02, 0x00], //             NLMSG_ERROR
        [0x00, 0x02], //             flags NLM_F_ACK_TLVS only (not capped)
        [0x0b, 0x00, 0x00, 0x00], // seq 11
        [0xd2, 0x04, 0x00, 0x00], // pid 1234
        // struct nlmsgerr
        [0xfe, 0xff, 0xff, 0xff], // error = -2 (-ENOENT)
        [0x15, 0x00, 0x00, 0x00], //   msg.nlmsg_len = 21: 5 payload bytes follow
        [0x25, 0x00, 0x05, 0x00], //   msg.type, flags
        [0x0b, 0x00, 0x00, 0x00], //   msg.seq 11
        [0x00, 0x00, 0x00, 0x00], //   msg.pid
        // echoed request payload; it looks like a NLMSGERR_ATTR_MSG "A" on purpose, so a
        // decoder that started the TLVs right after the header would report it
        [0x05, 0x00, 0x01, 0x00, 0x41],
        [0x00, 0x00, 0x00], //       NLMSG_ALIGN padding of the echoed request
        // ext-ack TLVs @44 (data offset 28)
        [0x08, 0x00, 0x02, 0x00], // NLMSGERR_ATTR_OFFS
        [0x14, 0x00, 0x00, 0x00], //   offset 20
        [0x08, 0x00, 0x05, 0x00], // NLMSGERR_ATTR_MISS_TYPE
        [0x06, 0x00, 0x00, 0x00], //   attribute 6 missing
      ),
    );
    expect(decodeAck(m)).toEqual({
      errno: 2,
      request: { type: 0x25, flags: 5, sequence: 11, portId: 0 },
      extAck: { offset: 20, missingType: 6 },
    });
  });

  /** Uncapped EINVAL ack whose echoed request claims `echoedLength` bytes, followed by a MSG TLV. */
  const uncappedWithEchoedLength = (echoedLength: number): NetlinkMessage =>
    only(
      encodeMessage(
        { type: NLMSG_ERROR, flags: NLM_F_ACK_TLVS, sequence: 1, portId: 1 },
        b(
          [0xea, 0xff, 0xff, 0xff], // -EINVAL
          le32(echoedLength), //       msg.nlmsg_len: more than this message holds
          [0x25, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
          [0x07, 0x00, 0x01, 0x00, 0x61, 0x62, 0x00, 0x00], // would-be MSG "ab"
        ),
      ),
    );

  it('an echoed request longer than the ack means no TLVs can follow (no misreading)', () => {
    expect(decodeAck(uncappedWithEchoedLength(100))).toMatchObject({ errno: 22, extAck: {} });
  });

  // SRC BUG (minor, only with a corrupt echoed nlmsg_len >= 2^31): align4() uses 32-bit
  // bitwise ops, so align4(0xfffffffc) is -4 and tlvStart becomes 0: the error int itself is
  // parsed as a TLV and decodeAck throws "attribute type 16383 of length 65514 runs past the
  // end" instead of returning the EINVAL. Fix in codec/ack.ts (uncapped branch):
  //   tlvStart = 4 + align4(Math.min(Math.max(requestLength, NLMSG_HDRLEN), d.length));
  // (or make align4 overflow-safe: `Math.ceil(n / 4) * 4`).
  test('an absurd echoed length (0xfffffffc) is treated like any other overlong one', () => {
    expect(decodeAck(uncappedWithEchoedLength(0xfffffffc))).toMatchObject({ errno: 22, extAck: {} });
  });

  it('ignores TLV bytes when NLM_F_ACK_TLVS is not set', () => {
    const m = only(
      b(
        [0x2c, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // capped, no TLVS flag
        [0xf3, 0xff, 0xff, 0xff], // -13 EACCES
        [0x10, 0x00, 0x00, 0x00, 0x25, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
        [0x08, 0x00, 0x01, 0x00, 0x78, 0x00, 0x00, 0x00], // would be MSG "x"
      ),
    );
    expect(decodeAck(m)).toMatchObject({ errno: 13, extAck: {} });
  });

  it('ignores unknown ext-ack TLVs (cookie, policy)', () => {
    const m = only(
      b(
        [0x34, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
        [0xea, 0xff, 0xff, 0xff], // -EINVAL
        [0x10, 0x00, 0x00, 0x00, 0x25, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
        [0x0c, 0x00, 0x03, 0x00, 1, 2, 3, 4, 5, 6, 7, 8], // NLMSGERR_ATTR_COOKIE
        [0x04, 0x00, 0x04, 0x80], //                      NLMSGERR_ATTR_POLICY (empty nest)
      ),
    );
    expect(decodeAck(m).extAck).toEqual({});
  });

  it('rejects an NLMSG_ERROR shorter than struct nlmsgerr', () => {
    const m = only(b([0x1c, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], new Array<number>(12).fill(0)));
    expect(() => decodeAck(m)).toThrow(MalformedMessageError);
    expect(() => decodeAck(m)).toThrow(/12 bytes is shorter than struct nlmsgerr/);
  });

  it('reports a broken ext-ack TLV at its offset within the message', () => {
    const m = only(
      b(
        [0x34, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
        [0xea, 0xff, 0xff, 0xff],
        [0x10, 0x00, 0x00, 0x00, 0x25, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
        [0x08, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00], // @36 OFFS, fine
        [0x06, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00], // @44 OFFS with 2 bytes: wrong size
      ),
    );
    let thrown: unknown;
    try {
      decodeAck(m);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(MalformedMessageError);
    expect((thrown as MalformedMessageError).offset).toBe(44);
  });
});

describeLE('decodeDone', () => {
  const done = (payload: readonly number[], flags = NLM_F_MULTI): NetlinkMessage =>
    only(encodeMessage({ type: NLMSG_DONE, flags, sequence: 3, portId: 1 }, Uint8Array.from(payload)));

  it('errno 0 ends a dump cleanly', () => {
    const d = decodeDone(done([0x00, 0x00, 0x00, 0x00]));
    expect({ ...d, errno: d.errno + 0 }).toEqual({ errno: 0, extAck: {} });
  });

  // SRC BUG (minor), as for decodeAck: `-error` yields -0 for a clean DONE.
  test('clean DONE errno is +0, not -0', () => {
    expect(Object.is(decodeDone(done([0, 0, 0, 0])).errno, 0)).toBe(true);
  });

  it('a negative int is the dump error', () => {
    expect(decodeDone(done(le32(-90 >>> 0)))).toEqual({ errno: 90, extAck: {} }); // -EMSGSIZE
  });

  it('a DONE without payload counts as clean', () => {
    expect(decodeDone(done([]))).toEqual({ errno: 0, extAck: {} });
  });

  it('reads ext-ack TLVs after the int when NLM_F_ACK_TLVS is set', () => {
    const m = done(
      [
        ...[0xfb, 0xff, 0xff, 0xff], // -5 (EIO)
        ...[0x0a, 0x00, 0x01, 0x00], // NLMSGERR_ATTR_MSG, len 10
        ...cstr('oops!'), //            "oops!\0"
        ...[0x00, 0x00], //             padding
      ],
      NLM_F_MULTI | NLM_F_ACK_TLVS,
    );
    expect(decodeDone(m)).toEqual({ errno: 5, extAck: { message: 'oops!' } });
  });

  it('malformed TLVs after DONE are reported with the message offset', () => {
    const m = done([0, 0, 0, 0, 0x08, 0x00, 0x01], NLM_F_MULTI | NLM_F_ACK_TLVS);
    expect(() => decodeDone(m)).toThrow(MalformedMessageError);
    try {
      decodeDone(m);
    } catch (e) {
      expect((e as MalformedMessageError).offset).toBe(20);
    }
  });
});

describe('generic netlink header', () => {
  it('encodes genlmsghdr golden bytes', () => {
    const out = encodeGeneric({ command: 5, version: 1 }, Uint8Array.of(0x08, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00));
    expect(hex(out)).toBe(
      hex(
        b(
          [0x05], //       cmd = 5
          [0x01], //       version = 1
          [0x00, 0x00], // reserved
          [0x08, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00], // attributes, untouched
        ),
      ),
    );
  });

  it('decodes the header and hands back the attributes as a view', () => {
    const data = Uint8Array.of(0x03, 0x02, 0x00, 0x00, 0xde, 0xad);
    const { header, attributes } = decodeGeneric(data);
    expect(header).toEqual({ command: 3, version: 2 });
    expect(Array.from(attributes)).toEqual([0xde, 0xad]);
    expect(attributes.buffer).toBe(data.buffer);
  });

  it('rejects fewer than 4 bytes at offset 16', () => {
    expect(() => decodeGeneric(Uint8Array.of(1, 2, 3))).toThrow(MalformedMessageError);
    try {
      decodeGeneric(Uint8Array.of(1, 2, 3));
    } catch (e) {
      expect((e as MalformedMessageError).offset).toBe(16);
    }
  });

  it('round-trips any header and attributes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 32 }), (command, version, attrs) => {
        const { header, attributes } = decodeGeneric(encodeGeneric({ command, version }, attrs));
        expect(header).toEqual({ command, version });
        expect(Uint8Array.from(attributes)).toEqual(attrs);
      }),
    );
  });
});
