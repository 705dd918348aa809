import { align4 } from './align.js';
import { AttributeDecoder } from './attribute-decoder.js';
import { HOST_LITTLE_ENDIAN, view } from './byte-order.js';
import {
  NLMSG_HDRLEN,
  NLMSGERR_ATTR_MISS_TYPE,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
} from './constants.js';
import { MalformedMessageError } from './errors.js';
import { decodeHeader, type NetlinkHeader, type NetlinkMessage } from './message.js';

/** The kernel's extended acknowledgement (NETLINK_EXT_ACK), when it said anything. */
export interface ExtendedAck {
  readonly message?: string;
  /** Byte offset into the request of the attribute at fault. */
  readonly offset?: number;
  /** Attribute type the kernel wanted but did not get. */
  readonly missingType?: number;
}

export interface Acknowledgement {
  /** 0 for success, otherwise a positive errno. */
  readonly errno: number;
  /** Header of the request this answers. */
  readonly request: NetlinkHeader;
  readonly extAck: ExtendedAck;
}

/** Parse an NLMSG_ERROR message (struct nlmsgerr + optional ext-ack TLVs). */
export function decodeAck(message: NetlinkMessage): Acknowledgement {
  const d = message.data;
  if (d.length < 4 + NLMSG_HDRLEN) {
    throw new MalformedMessageError(`NLMSG_ERROR payload of ${d.length} bytes is shorter than struct nlmsgerr`, NLMSG_HDRLEN);
  }
  const error = view(d).getInt32(0, HOST_LITTLE_ENDIAN);
  const { length: requestLength, ...request } = decodeHeader(d, 4);
  let tlvStart = 4 + NLMSG_HDRLEN;
  if ((message.header.flags & NLM_F_CAPPED) === 0) {
    // The echoed request comes from the wire: clamp before aligning so a huge length cannot overflow.
    tlvStart = 4 + align4(Math.min(Math.max(requestLength, NLMSG_HDRLEN), d.length));
  }
  let extAck: ExtendedAck = {};
  if ((message.header.flags & NLM_F_ACK_TLVS) !== 0 && tlvStart < d.length) {
    extAck = decodeExtAck(d.subarray(tlvStart), NLMSG_HDRLEN + tlvStart);
  }
  return { errno: error === 0 ? 0 : -error, request, extAck };
}

/**
 * NLMSG_DONE carries an int: 0, or a negative errno when the dump failed part-way; ext-ack
 * TLVs may follow. Returns the positive errno (0 = clean end).
 */
export function decodeDone(message: NetlinkMessage): { errno: number; extAck: ExtendedAck } {
  const d = message.data;
  if (d.length < 4) return { errno: 0, extAck: {} };
  const error = view(d).getInt32(0, HOST_LITTLE_ENDIAN);
  const extAck = (message.header.flags & NLM_F_ACK_TLVS) !== 0 && d.length > 4 ? decodeExtAck(d.subarray(4), NLMSG_HDRLEN + 4) : {};
  return { errno: error === 0 ? 0 : -error, extAck };
}

function decodeExtAck(bytes: Uint8Array, base: number): ExtendedAck {
  const a = new AttributeDecoder(bytes, base);
  let message: string | undefined;
  let offset: number | undefined;
  let missingType: number | undefined;
  while (a.next()) {
    switch (a.type()) {
      case NLMSGERR_ATTR_MSG:
        message = a.string();
        break;
      case NLMSGERR_ATTR_OFFS:
        offset = a.u32();
        break;
      case NLMSGERR_ATTR_MISS_TYPE:
        missingType = a.u32();
        break;
    }
  }
  const e = a.err();
  if (e) throw e;
  return {
    ...(message !== undefined ? { message } : {}),
    ...(offset !== undefined ? { offset } : {}),
    ...(missingType !== undefined ? { missingType } : {}),
  };
}
