import { expect, it, test } from '@jest/globals';
import { MalformedMessageError } from '../src/codec/errors.js';
import { IFF_UP, RT_SCOPE_HOST } from '../src/route/constants.js';
import { decodeAddress, decodeLink, encodeIfaddr, encodeIfinfo } from '../src/route/messages.js';
import { b, cstr, describeLE, hex } from './support/bytes.js';

function malformedAt(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MalformedMessageError);
    return (e as MalformedMessageError).offset;
  }
  throw new Error('expected a MalformedMessageError');
}

describeLE('struct ifinfomsg / ifaddrmsg encoding', () => {
  it('encodeIfinfo golden bytes', () => {
    expect(hex(encodeIfinfo({ index: 7, flags: IFF_UP, change: IFF_UP }))).toBe(
      hex(
        b(
          [0x00], //                   ifi_family = AF_UNSPEC
          [0x00], //                   pad
          [0x00, 0x00], //             ifi_type
          [0x07, 0x00, 0x00, 0x00], // ifi_index = 7
          [0x01, 0x00, 0x00, 0x00], // ifi_flags = IFF_UP
          [0x01, 0x00, 0x00, 0x00], // ifi_change = IFF_UP
        ),
      ),
    );
  });

  it('encodeIfinfo defaults to all zeros and takes a family', () => {
    expect(hex(encodeIfinfo({}))).toBe(hex(new Uint8Array(16)));
    expect(hex(encodeIfinfo({ family: 10, index: 0x01020304, change: 0xffffffff }))).toBe(
      hex(b([0x0a, 0x00, 0x00, 0x00], [0x04, 0x03, 0x02, 0x01], [0, 0, 0, 0], [0xff, 0xff, 0xff, 0xff])),
    );
  });

  it('encodeIfaddr golden bytes', () => {
    expect(hex(encodeIfaddr({ family: 2, prefixLength: 24, scope: RT_SCOPE_HOST, index: 3 }))).toBe(
      hex(
        b(
          [0x02], //                   ifa_family = AF_INET
          [0x18], //                   ifa_prefixlen = 24
          [0x00], //                   ifa_flags
          [0xfe], //                   ifa_scope = RT_SCOPE_HOST (254)
          [0x03, 0x00, 0x00, 0x00], // ifa_index = 3
        ),
      ),
    );
  });
});

// RTM_NEWLINK payload as the kernel sends it for a dummy interface (abridged).
const DUMMY_LINK = b(
  // struct ifinfomsg @16
  [0x00, 0x00], //             ifi_family AF_UNSPEC, pad
  [0x01, 0x00], //             ifi_type ARPHRD_ETHER
  [0x03, 0x00, 0x00, 0x00], // ifi_index 3
  [0xc3, 0x00, 0x00, 0x00], // ifi_flags UP|BROADCAST|RUNNING|NOARP (0xc3)
  [0x00, 0x00, 0x00, 0x00], // ifi_change
  // attributes @32
  [0x0b, 0x00, 0x03, 0x00], // IFLA_IFNAME, len 11
  cstr('dummy0'), //           "dummy0\0"
  [0x00], //                   padding
  [0x08, 0x00, 0x0d, 0x00], // IFLA_TXQLEN (13), ignored
  [0xe8, 0x03, 0x00, 0x00], //   1000
  [0x08, 0x00, 0x04, 0x00], // IFLA_MTU
  [0xdc, 0x05, 0x00, 0x00], //   1500
  [0x14, 0x00, 0x12, 0x00], // IFLA_LINKINFO (18), len 20, no NLA_F_NESTED (nla_nest_start_noflag)
  /**/ [0x0a, 0x00, 0x01, 0x00], // IFLA_INFO_KIND, len 10
  /**/ cstr('dummy'), //            "dummy\0"
  /**/ [0x00, 0x00], //             padding
  /**/ [0x04, 0x00, 0x02, 0x00], // IFLA_INFO_DATA, empty
);

describeLE('decodeLink', () => {
  it('decodes a kernel RTM_NEWLINK payload', () => {
    expect(decodeLink(DUMMY_LINK)).toEqual({ index: 3, name: 'dummy0', flags: 0xc3, up: true, mtu: 1500, kind: 'dummy' });
  });

  it('a physical link has no kind; a down link is not up', () => {
    const lo = b(
      [0x00, 0x00, 0x04, 0x03], // family, pad, ifi_type ARPHRD_LOOPBACK (772)
      [0x01, 0x00, 0x00, 0x00], // index 1
      [0x08, 0x00, 0x00, 0x00], // flags IFF_LOOPBACK only
      [0x00, 0x00, 0x00, 0x00],
      [0x07, 0x00, 0x03, 0x00, 0x6c, 0x6f, 0x00, 0x00], // IFLA_IFNAME "lo"
    );
    expect(decodeLink(lo)).toEqual({ index: 1, name: 'lo', flags: 8, up: false, mtu: 0, kind: undefined });
  });

  it('rejects an ifinfomsg shorter than 16 bytes (offset 16: after nlmsghdr)', () => {
    expect(malformedAt(() => decodeLink(DUMMY_LINK.subarray(0, 15)))).toBe(16);
  });

  it('rejects an IFLA_MTU of the wrong size at its offset in the message', () => {
    const bad = b(DUMMY_LINK.subarray(0, 16), [0x06, 0x00, 0x04, 0x00, 0xdc, 0x05, 0x00, 0x00]);
    expect(malformedAt(() => decodeLink(bad))).toBe(32);
  });

  it('rejects a truncated IFLA_LINKINFO member at its absolute offset', () => {
    const bad = b(
      DUMMY_LINK.subarray(0, 16),
      [0x0c, 0x00, 0x12, 0x00], //  @32 IFLA_LINKINFO, len 12
      /**/ [0x20, 0x00, 0x01, 0x00, 0x61, 0x00, 0x00, 0x00], // @36 INFO_KIND claims 32 bytes
    );
    expect(malformedAt(() => decodeLink(bad))).toBe(36);
  });

  it('rejects an attribute running past the end', () => {
    expect(malformedAt(() => decodeLink(DUMMY_LINK.subarray(0, DUMMY_LINK.length - 10)))).toBe(16 + 16 + 12 + 8 + 8);
  });
});

describeLE('decodeAddress', () => {
  it('decodes an IPv4 RTM_NEWADDR, preferring IFA_LOCAL over IFA_ADDRESS (peer)', () => {
    const data = b(
      // struct ifaddrmsg @16
      [0x02, 0x20, 0x80, 0x00], // AF_INET, prefixlen 32, IFA_F_PERMANENT, scope universe
      [0x05, 0x00, 0x00, 0x00], // ifa_index 5
      // attributes @24
      [0x08, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x02], // IFA_ADDRESS 10.0.0.2 (the peer)
      [0x08, 0x00, 0x02, 0x00, 0x0a, 0x00, 0x00, 0x01], // IFA_LOCAL 10.0.0.1
      [0x0b, 0x00, 0x03, 0x00], cstr('dummy0'), [0x00], // IFA_LABEL "dummy0"
      [0x08, 0x00, 0x08, 0x00, 0x80, 0x00, 0x00, 0x00], // IFA_FLAGS (8), ignored
    );
    expect(decodeAddress(data)).toEqual({ linkIndex: 5, family: 'inet', address: '10.0.0.1', prefixLength: 32, scope: 0, label: 'dummy0' });
  });

  it('decodes an IPv6 RTM_NEWADDR with IFA_ADDRESS only', () => {
    const data = b(
      [0x0a, 0x40, 0x80, 0xfd], // AF_INET6, /64, permanent, scope 253 (link)
      [0x02, 0x00, 0x00, 0x00], // index 2
      [0x14, 0x00, 0x01, 0x00], // IFA_ADDRESS, len 20
      [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01], // fe80::1
    );
    expect(decodeAddress(data)).toEqual({ linkIndex: 2, family: 'inet6', address: 'fe80::1', prefixLength: 64, scope: 253, label: undefined });
  });

  const header4 = [0x02, 0x18, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00];
  const malformed: [string, Uint8Array, number][] = [
    ['shorter than ifaddrmsg', Uint8Array.of(2, 24, 0, 0, 1), 16],
    ['family neither inet nor inet6', b([0x07], header4.slice(1), [0x08, 0x00, 0x02, 0x00, 1, 2, 3, 4]), 16],
    ['no address attribute', b(header4, [0x07, 0x00, 0x03, 0x00, 0x6c, 0x6f, 0x00, 0x00]), 24],
    ['IPv4 family with a 16-byte address', b(header4, [0x14, 0x00, 0x02, 0x00], new Array<number>(16).fill(1)), 24],
    ['IPv6 family with a 4-byte address', b([0x0a], header4.slice(1), [0x08, 0x00, 0x01, 0x00, 1, 2, 3, 4]), 24],
    ['attribute past the end', b(header4, [0x10, 0x00, 0x02, 0x00, 1, 2, 3, 4]), 24],
    ['truncated attribute header', b(header4, [0x08, 0x00, 0x02, 0x00, 1, 2, 3, 4], [0x08, 0x00]), 32],
  ];
  test.each(malformed)('rejects %s', (_name, data, offset) => {
    expect(malformedAt(() => decodeAddress(data))).toBe(offset);
  });
});

it('encodeIfaddr → decodeAddress round trip', () => {
  const data = b(encodeIfaddr({ family: 2, prefixLength: 8, scope: 0, index: 9 }), [0x08, 0x00, 0x02, 0x00, 127, 0, 0, 1]);
  expect(decodeAddress(data)).toMatchObject({ linkIndex: 9, prefixLength: 8, address: '127.0.0.1', family: 'inet' });
});
