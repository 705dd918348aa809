// One error class per kind of text: an address, a CIDR, an address range. Each keeps the input
// and says what to write instead.

function quoted(input: unknown): string {
  return typeof input === 'string' ? `"${input}"` : JSON.stringify(input) ?? String(input);
}

/** The text is not one IPv4 or IPv6 address in a form this package accepts. */
export class InvalidAddressError extends Error {
  override readonly name = 'InvalidAddressError';
  readonly code = 'INVALID_ADDRESS';
  constructor(
    readonly input: unknown,
    readonly why = 'not an IPv4 or IPv6 address',
  ) {
    super(`invalid address ${quoted(input)}: ${why}`);
  }
}

/** The text is not a CIDR (address/length, no host bits set). */
export class InvalidCidrError extends Error {
  override readonly name = 'InvalidCidrError';
  readonly code = 'INVALID_CIDR';
  constructor(
    readonly input: unknown,
    readonly why = 'expected e.g. 10.96.0.0/24 or fd96::/64',
  ) {
    super(`invalid CIDR ${quoted(input)}: ${why}`);
  }
}

/** The text is neither a CIDR nor an inclusive `first-last` range of one family. */
export class InvalidRangeError extends Error {
  override readonly name = 'InvalidRangeError';
  readonly code = 'INVALID_RANGE';
  constructor(
    readonly input: unknown,
    readonly why: string,
  ) {
    super(`invalid address range ${quoted(input)}: ${why}`);
  }
}
