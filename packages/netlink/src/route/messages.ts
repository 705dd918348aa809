import { AttributeDecoder } from '../codec/attribute-decoder.js';
import { HOST_LITTLE_ENDIAN, view } from '../codec/byte-order.js';
import { MalformedMessageError } from '../codec/errors.js';
import { formatIp, type AddressFamily } from '@balanced/net';
import { AF_INET, AF_INET6 } from '../family.js';
import {
  IFADDRMSG_LEN,
  IFA_ADDRESS,
  IFA_LABEL,
  IFA_LOCAL,
  IFF_UP,
  IFINFOMSG_LEN,
  IFLA_IFNAME,
  IFLA_INFO_KIND,
  IFLA_LINKINFO,
  IFLA_MTU,
} from './constants.js';

export interface Link {
  readonly index: number;
  readonly name: string;
  readonly flags: number;
  readonly up: boolean;
  readonly mtu: number;
  /** rtnl_link_ops kind, e.g. "dummy", "veth", "ipip"; undefined for physical/loopback. */
  readonly kind: string | undefined;
}

export interface InterfaceAddress {
  readonly linkIndex: number;
  readonly family: AddressFamily;
  readonly address: string;
  readonly prefixLength: number;
  readonly scope: number;
  readonly label: string | undefined;
}

/** struct ifinfomsg: family, pad, type, index, flags, change. */
export function encodeIfinfo(fields: { index?: number; flags?: number; change?: number; family?: number }): Uint8Array {
  const b = new Uint8Array(IFINFOMSG_LEN);
  const v = view(b);
  b[0] = fields.family ?? 0;
  v.setInt32(4, fields.index ?? 0, HOST_LITTLE_ENDIAN);
  v.setUint32(8, fields.flags ?? 0, HOST_LITTLE_ENDIAN);
  v.setUint32(12, fields.change ?? 0, HOST_LITTLE_ENDIAN);
  return b;
}

/** struct ifaddrmsg: family, prefixlen, flags, scope, index. */
export function encodeIfaddr(fields: { family: number; prefixLength: number; scope: number; index: number }): Uint8Array {
  const b = new Uint8Array(IFADDRMSG_LEN);
  b[0] = fields.family;
  b[1] = fields.prefixLength;
  b[3] = fields.scope;
  view(b).setUint32(4, fields.index, HOST_LITTLE_ENDIAN);
  return b;
}

export function decodeLink(data: Uint8Array): Link {
  if (data.length < IFINFOMSG_LEN) throw new MalformedMessageError(`ifinfomsg needs ${IFINFOMSG_LEN} bytes, got ${data.length}`, 16);
  const v = view(data);
  const index = v.getInt32(4, HOST_LITTLE_ENDIAN);
  const flags = v.getUint32(8, HOST_LITTLE_ENDIAN);
  let name = '';
  let mtu = 0;
  let kind: string | undefined;
  const d = new AttributeDecoder(data.subarray(IFINFOMSG_LEN), 16 + IFINFOMSG_LEN);
  while (d.next()) {
    switch (d.type()) {
      case IFLA_IFNAME:
        name = d.string();
        break;
      case IFLA_MTU:
        mtu = d.u32();
        break;
      case IFLA_LINKINFO:
        d.nested((info) => {
          while (info.next()) if (info.type() === IFLA_INFO_KIND) kind = info.string();
        });
        break;
    }
  }
  const e = d.err();
  if (e) throw e;
  return { index, name, flags, up: (flags & IFF_UP) !== 0, mtu, kind };
}

export function decodeAddress(data: Uint8Array): InterfaceAddress {
  if (data.length < IFADDRMSG_LEN) throw new MalformedMessageError(`ifaddrmsg needs ${IFADDRMSG_LEN} bytes, got ${data.length}`, 16);
  const familyNumber = data[0] ?? 0;
  const family: AddressFamily = familyNumber === AF_INET6 ? 'inet6' : 'inet';
  if (familyNumber !== AF_INET && familyNumber !== AF_INET6) {
    throw new MalformedMessageError(`address family ${familyNumber} is neither AF_INET nor AF_INET6`, 16);
  }
  const prefixLength = data[1] ?? 0;
  const scope = data[3] ?? 0;
  const linkIndex = view(data).getUint32(4, HOST_LITTLE_ENDIAN);
  let local: Uint8Array | undefined;
  let address: Uint8Array | undefined;
  let label: string | undefined;
  const d = new AttributeDecoder(data.subarray(IFADDRMSG_LEN), 16 + IFADDRMSG_LEN);
  while (d.next()) {
    switch (d.type()) {
      case IFA_LOCAL:
        local = d.bytes();
        break;
      case IFA_ADDRESS:
        address = d.bytes();
        break;
      case IFA_LABEL:
        label = d.string();
        break;
    }
  }
  const e = d.err();
  if (e) throw e;
  const raw = local ?? address;
  const expected = family === 'inet' ? 4 : 16;
  if (!raw || raw.length !== expected) throw new MalformedMessageError(`address attribute missing or not ${expected} bytes`, 16 + IFADDRMSG_LEN);
  return { linkIndex, family, address: formatIp(raw, family), prefixLength, scope, label };
}
