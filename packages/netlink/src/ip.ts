import ipaddr from 'ipaddr.js';

export type AddressFamily = 'inet' | 'inet6';
export const AF_INET = 2;
export const AF_INET6 = 10;

export interface IpAddress {
  readonly family: AddressFamily;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
  readonly text: string;
}

export class InvalidAddressError extends Error {
  override readonly name = 'InvalidAddressError';
  readonly code = 'INVALID_ADDRESS';
  constructor(readonly input: string, why = 'not an IPv4 or IPv6 address') {
    super(`invalid address "${input}": ${why}`);
  }
}

/** Canonical dotted quad: 0-255 without leading zeros (anything else goes through ipaddr.js). */
const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Parse an IPv4 or IPv6 address in its usual text form (no prefix). */
export function parseIp(text: string): IpAddress {
  // Fast path for the common case (controllers parse every endpoint address): the text is
  // already canonical, so it is kept as is.
  const q = typeof text === 'string' ? DOTTED_QUAD.exec(text) : null;
  if (q) return { family: 'inet', bytes: Uint8Array.of(Number(q[1]), Number(q[2]), Number(q[3]), Number(q[4])), text };
  if (!ipaddr.isValid(text)) throw new InvalidAddressError(text);
  const a = ipaddr.parse(text);
  if (a.kind() === 'ipv4') {
    if (!ipaddr.IPv4.isValidFourPartDecimal(text)) throw new InvalidAddressError(text, 'IPv4 must be four decimal parts');
    return { family: 'inet', bytes: Uint8Array.from(a.toByteArray()), text: a.toString() };
  }
  return { family: 'inet6', bytes: Uint8Array.from(a.toByteArray()), text: a.toString() };
}

/** Text form of 4 (IPv4) or 16 (IPv6) network-order bytes. */
export function formatIp(bytes: Uint8Array, family: AddressFamily = bytes.length === 4 ? 'inet' : 'inet6'): string {
  if (family === 'inet') return ipaddr.fromByteArray(Array.from(bytes.subarray(0, 4))).toString();
  return ipaddr.fromByteArray(Array.from(bytes.subarray(0, 16))).toString();
}

export interface IpPrefix {
  readonly address: IpAddress;
  readonly prefixLength: number;
}

/** "10.0.0.1/32", "fd00::1/128"; a bare address is a host prefix. */
export function parsePrefix(text: string): IpPrefix {
  const slash = text.indexOf('/');
  const address = parseIp(slash === -1 ? text : text.slice(0, slash));
  const max = address.family === 'inet' ? 32 : 128;
  if (slash === -1) return { address, prefixLength: max };
  const lengthText = text.slice(slash + 1);
  const prefixLength = Number(lengthText);
  if (!/^\d{1,3}$/.test(lengthText) || prefixLength > max) throw new InvalidAddressError(text, `prefix length must be 0..${max}`);
  return { address, prefixLength };
}

export function familyNumber(family: AddressFamily): number {
  return family === 'inet' ? AF_INET : AF_INET6;
}
