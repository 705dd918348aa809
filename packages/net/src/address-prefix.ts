// An address as an interface holds it: `10.0.0.1/24` is the address 10.0.0.1 on a /24, so the
// bits past the prefix are the point (unlike a CIDR, see cidr.ts). A bare address is a host
// address (/32, /128). What `ip addr add` and RTM_NEWADDR take.

import { parsePrefixLength } from './cidr.js';
import { InvalidAddressError } from './errors.js';
import { familyBits, parseIp, type IpAddress } from './ip.js';

export interface AddressPrefix {
  readonly address: IpAddress;
  readonly prefixLength: number;
}

/** `10.0.0.1/24`, `fd00::1/64`, or a bare address (a host prefix). Throws InvalidAddressError. */
export function parseAddressPrefix(text: string): AddressPrefix {
  if (typeof text !== 'string') throw new InvalidAddressError(text, 'not a string');
  const slash = text.indexOf('/');
  const address = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (slash === -1) return { address, prefixLength: familyBits(address.family) };
  const prefixLength = parsePrefixLength(text.slice(slash + 1), address.family);
  if (typeof prefixLength === 'string') throw new InvalidAddressError(text, prefixLength);
  return { address, prefixLength };
}
