import { align4 } from './align.js';
import { HOST_LITTLE_ENDIAN, view } from './byte-order.js';
import { NLMSG_HDRLEN } from './constants.js';
import { MalformedMessageError } from './errors.js';

/** struct nlmsghdr, less the length (computed on encode, checked on decode). */
export interface NetlinkHeader {
  readonly type: number;
  readonly flags: number;
  readonly sequence: number;
  readonly portId: number;
}

export interface NetlinkMessage {
  readonly header: NetlinkHeader;
  /** Bytes after the 16-byte header, exactly nlmsg_len - 16 of them. */
  readonly data: Uint8Array;
}

export function encodeMessage(header: NetlinkHeader, data: Uint8Array): Uint8Array {
  const length = NLMSG_HDRLEN + data.length;
  const out = new Uint8Array(align4(length));
  const v = view(out);
  v.setUint32(0, length, HOST_LITTLE_ENDIAN);
  v.setUint16(4, header.type, HOST_LITTLE_ENDIAN);
  v.setUint16(6, header.flags, HOST_LITTLE_ENDIAN);
  v.setUint32(8, header.sequence >>> 0, HOST_LITTLE_ENDIAN);
  v.setUint32(12, header.portId >>> 0, HOST_LITTLE_ENDIAN);
  out.set(data, NLMSG_HDRLEN);
  return out;
}

export function decodeHeader(bytes: Uint8Array, offset = 0): NetlinkHeader & { length: number } {
  if (bytes.length - offset < NLMSG_HDRLEN) {
    throw new MalformedMessageError(`${bytes.length - offset} bytes are too short for a netlink header`, offset);
  }
  const v = view(bytes);
  return {
    length: v.getUint32(offset, HOST_LITTLE_ENDIAN),
    type: v.getUint16(offset + 4, HOST_LITTLE_ENDIAN),
    flags: v.getUint16(offset + 6, HOST_LITTLE_ENDIAN),
    sequence: v.getUint32(offset + 8, HOST_LITTLE_ENDIAN),
    portId: v.getUint32(offset + 12, HOST_LITTLE_ENDIAN),
  };
}

/** Split one datagram into messages; any inconsistency throws MalformedMessageError. */
export function decodeMessages(bytes: Uint8Array): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const { length, ...header } = decodeHeader(bytes, offset);
    if (length < NLMSG_HDRLEN) {
      throw new MalformedMessageError(`message length ${length} is below the 16-byte header`, offset);
    }
    if (length > bytes.length - offset) {
      throw new MalformedMessageError(`message length ${length} runs past the end (${bytes.length - offset} left)`, offset);
    }
    out.push({ header, data: bytes.subarray(offset + NLMSG_HDRLEN, offset + length) });
    offset += align4(length);
  }
  return out;
}
