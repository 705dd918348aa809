// One IP address: strict parsing and one canonical text, so an address is the same key
// wherever it was read (a Service status, an EndpointSlice, the kernel, a flag).
//
// Accepted: IPv4 as four decimal parts without leading zeros (inet_aton's short, octal and hex
// forms are refused: "010.0.0.1" means 8.0.0.1 to some tools and 10.0.0.1 to others); IPv6 in
// any RFC 4291 text form, with an optional trailing dotted quad. Refused: zone ids ("%eth0"),
// brackets, prefixes, surrounding spaces.
// Canonical text: IPv4 dotted quad; IPv6 RFC 5952 (lowercase, longest zero run as "::", no
// leading zeros) as ipaddr.js writes it, with the IPv4 part of ::ffff:a.b.c.d in hex
// ("::ffff:102:304"): the form every component already stores.

import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

import { InvalidAddressError } from './errors.js';

export type AddressFamily = 'inet' | 'inet6';

export interface IpAddress {
  readonly family: AddressFamily;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
  /** Canonical text. */
  readonly text: string;
}

/** Address bits of a family: 32 or 128. */
export function familyBits(family: AddressFamily): 32 | 128 {
  return family === 'inet' ? 32 : 128;
}

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/** A canonical dotted quad (0-255, no leading zeros). */
const DOTTED_QUAD = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
/** An IPv6 text whose last 32 bits are written as a dotted quad (already validated). */
const DOTTED_TAIL = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/;

function parseIpv4(text: string): IpAddress | undefined {
  const q = DOTTED_QUAD.exec(text);
  // A canonical dotted quad is its own canonical text (the common case: every endpoint).
  return q ? { family: 'inet', bytes: Uint8Array.of(Number(q[1]), Number(q[2]), Number(q[3]), Number(q[4])), text } : undefined;
}

function parseIpv6(text: string): IpAddress | undefined {
  // node:net (libuv's inet_pton) decides what is an address: strict RFC 4291, no short IPv4
  // forms; it accepts a zone id, which is refused here.
  if (text.includes('%') || isIP(text) !== 6) return undefined;
  // ipaddr.js reads "::a.b.c.d" (deprecated IPv4-compatible) as ::ffff:a.b.c.d; write the
  // dotted tail as two hex groups first so every form means what RFC 4291 says.
  const m = DOTTED_TAIL.exec(text);
  const hex = (hi: string | undefined, lo: string | undefined) => ((Number(hi) << 8) | Number(lo)).toString(16);
  const plain = m ? `${m[1]}${hex(m[2], m[3])}:${hex(m[4], m[5])}` : text;
  const address = ipaddr.IPv6.parse(plain);
  return { family: 'inet6', bytes: Uint8Array.from(address.toByteArray()), text: address.toRFC5952String() };
}

/** Parses one IPv4 or IPv6 address (see the file comment for the accepted forms). */
export function parseIp(text: unknown): IpAddress {
  if (typeof text !== 'string') throw new InvalidAddressError(text, 'not a string');
  const ip = text.includes(':') ? parseIpv6(text) : parseIpv4(text);
  if (ip !== undefined) return ip;
  if (text.includes('%') && isIP(text) === 6) throw new InvalidAddressError(text, 'zone ids (%…) are not accepted');
  if (!text.includes(':') && ipaddr.IPv4.isValid(text)) throw new InvalidAddressError(text, 'IPv4 must be four decimal parts without leading zeros');
  throw new InvalidAddressError(text);
}

/** The address, or undefined when the value is not one. */
export function tryParseIp(text: unknown): IpAddress | undefined {
  if (typeof text !== 'string') return undefined;
  return (text.includes(':') ? parseIpv6(text) : parseIpv4(text)) ?? undefined;
}

/** Canonical text of an address, or undefined when the value is not one. */
export function canonicalIp(text: unknown): string | undefined {
  return tryParseIp(text)?.text;
}

/** The address of 4 (IPv4) or 16 (IPv6) network-order bytes; with a family, its first 4 or 16. */
export function ipFromBytes(bytes: Uint8Array, family: AddressFamily = bytes.length === 4 ? 'inet' : 'inet6'): IpAddress {
  const length = family === 'inet' ? 4 : 16;
  if (bytes.length < length) throw new InvalidAddressError(`${bytes.length} bytes`, `an ${family} address needs ${length}`);
  const own = Uint8Array.from(bytes.subarray(0, length));
  if (family === 'inet') return { family, bytes: own, text: own.join('.') };
  return { family, bytes: own, text: (ipaddr.fromByteArray(Array.from(own)) as ipaddr.IPv6).toRFC5952String() };
}

/** Canonical text of 4 (IPv4) or 16 (IPv6) network-order bytes (with a family: the first 4 or 16). */
export function formatIp(bytes: Uint8Array, family?: AddressFamily): string {
  return ipFromBytes(bytes, family).text;
}

/** IPv4 before IPv6, then by address. */
export function compareIp(a: IpAddress, b: IpAddress): number {
  if (a.bytes.length !== b.bytes.length) return a.bytes.length - b.bytes.length;
  for (let i = 0; i < a.bytes.length; i++) {
    const d = (a.bytes[i] ?? 0) - (b.bytes[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** ::ffff:a.b.c.d — an IPv4 address written as IPv6 (the kernel's dual-stack sockets use it). */
export function isIpv4Mapped(ip: IpAddress): boolean {
  return ip.family === 'inet6' && ip.bytes.subarray(0, 10).every((b) => b === 0) && ip.bytes[10] === 0xff && ip.bytes[11] === 0xff;
}

/** The address as an unsigned number (for arithmetic over ranges). */
export function ipToBigInt(ip: IpAddress): bigint {
  let value = 0n;
  for (const byte of ip.bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/** The address of a number; throws when it does not fit the family. */
export function ipFromBigInt(family: AddressFamily, value: bigint): IpAddress {
  const bits = familyBits(family);
  if (value < 0n || value >> BigInt(bits) !== 0n) throw new InvalidAddressError(String(value), `not a ${bits}-bit number`);
  const bytes = new Uint8Array(bits / 8);
  for (let i = bytes.length - 1, v = value; i >= 0; i--, v >>= 8n) bytes[i] = Number(v & 0xffn);
  return ipFromBytes(bytes, family);
}
