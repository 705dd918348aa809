// IP addresses, CIDRs and address ranges as text: strict parsing, canonical text, comparison, containment, range to CIDR cover.
export { InvalidAddressError, InvalidCidrError, InvalidRangeError } from './errors.js';
export {
  canonicalIp,
  compareIp,
  formatIp,
  ipFromBigInt,
  ipToBigInt,
  isIpv4Mapped,
  parseIp,
  tryParseIp,
  type AddressFamily,
  type IpAddress,
} from './ip.js';
export { cidrContains, cidrOf, cidrOwnership, parseCidr, tryParseCidr, type Cidr } from './cidr.js';
export { cidrRange, parseIpRange, rangeCidrs, rangeContains, tryParseIpRange, type IpRange } from './range.js';
export { parseAddressPrefix, type AddressPrefix } from './address-prefix.js';
