import { InvalidAddressError } from './errors.js';

export type AddressFamily = 'inet' | 'inet6';

/**
 * An address as the kernel stores it in `union nf_inet_addr`: four 32-bit words, each the
 * big-endian (network order) reading of four address bytes. IPv4 uses word 0; the rest are 0.
 */
export interface ParsedAddress {
  readonly family: AddressFamily;
  readonly words: readonly [number, number, number, number];
}

const DEC_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let word = 0;
  for (const part of parts) {
    if (!DEC_OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    word = word * 256 + octet;
  }
  return word;
}

function parseIpv6(text: string): [number, number, number, number] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    const pieces = half.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (v4 === undefined) return undefined;
        out.push(Math.floor(v4 / 65536), v4 % 65536);
      } else if (HEXTET.test(piece)) {
        out.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  // An embedded IPv4 may only end the address.
  if (halves.length === 2 && halves[0]!.includes('.')) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const w = (i: number): number => all[2 * i]! * 65536 + all[2 * i + 1]!;
  return [w(0), w(1), w(2), w(3)];
}

/**
 * Parses a dotted-quad IPv4 or an RFC 4291 text IPv6 address (with `::` and an optional
 * trailing dotted quad; no zone id, no brackets). Throws {@link InvalidAddressError}.
 */
export function parseAddress(text: string): ParsedAddress {
  if (typeof text === 'string') {
    if (text.includes(':')) {
      const words = parseIpv6(text);
      if (words) return { family: 'inet6', words };
    } else {
      const word = parseIpv4(text);
      if (word !== undefined) return { family: 'inet', words: [word, 0, 0, 0] };
    }
  }
  throw new InvalidAddressError(String(text));
}

/**
 * The 32-bit value the kernel's mh hash starts from: `ntohl(addr->ip)` for an AF_INET
 * service, `ntohl(ip6[0] ^ ip6[1] ^ ip6[2] ^ ip6[3])` for AF_INET6. The family is the
 * *service's*, also for destinations of the other family (mixed-family tunnel services).
 */
export function foldAddress(address: ParsedAddress, serviceFamily: AddressFamily): number {
  const [a, b, c, d] = address.words;
  return serviceFamily === 'inet6' ? (a ^ b ^ c ^ d) >>> 0 : a >>> 0;
}
