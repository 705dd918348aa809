export { InvalidAddressError, InvalidCidrError, InvalidRangeError } from './errors.js';
export {
  canonicalIp,
  compareIp,
  familyBits,
  formatIp,
  ipFromBigInt,
  ipFromBytes,
  ipToBigInt,
  isIpv4Mapped,
  parseIp,
  tryParseIp,
  type AddressFamily,
  type IpAddress,
} from './ip.js';
export { cidrContains, cidrOf, cidrOwnership, compareCidr, maskBytes, parseCidr, tryParseCidr, type Cidr } from './cidr.js';
export { cidrRange, parseIpRange, rangeCidrs, rangeContains, tryParseIpRange, type IpRange } from './range.js';
export { parseAddressPrefix, type AddressPrefix } from './address-prefix.js';
