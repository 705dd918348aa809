// IPv4 dotted quads read without a regular expression or an object (a first pass reads 100,000
// endpoint addresses and encodes as many): the desired-state builder checks them, the map
// layout encodes them.

/**
 * The 32-bit value of a dotted quad as ipaddr.js's IPv4.isValidFourPartDecimal accepts it (four
 * decimal parts, each 0..255, no leading zeros); -1 when `value` is not one.
 */
export function dottedQuadValue(value: string): number {
  let quad = 0;
  let parts = 0;
  let part = 0;
  let digits = 0;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || parts > 3) return -1;
      quad = quad * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && part === 0) return -1; // a leading zero
      part = part * 10 + (c - 0x30);
      if (++digits > 3 || part > 255) return -1;
    } else return -1;
  }
  return parts === 4 ? quad : -1;
}
