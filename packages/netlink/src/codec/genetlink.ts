import { GENL_HDRLEN } from './constants.js';
import { MalformedMessageError } from './errors.js';

/** struct genlmsghdr: command, family version, two reserved bytes. */
export interface GenericHeader {
  readonly command: number;
  readonly version: number;
}

export function encodeGeneric(header: GenericHeader, attributes: Uint8Array): Uint8Array {
  const out = new Uint8Array(GENL_HDRLEN + attributes.length);
  out[0] = header.command;
  out[1] = header.version;
  out.set(attributes, GENL_HDRLEN);
  return out;
}

export function decodeGeneric(data: Uint8Array): { header: GenericHeader; attributes: Uint8Array } {
  if (data.length < GENL_HDRLEN) {
    throw new MalformedMessageError(`${data.length} bytes are too short for a generic netlink header`, 16);
  }
  return {
    header: { command: data[0] ?? 0, version: data[1] ?? 0 },
    attributes: data.subarray(GENL_HDRLEN),
  };
}
