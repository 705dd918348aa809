// The only ways a value reaches a rendered BIRD file or a BIRD command: every string goes
// through one of these checks, so nothing read from a Service, a VipPool or the config file
// can close a string, open a block or start a new statement.

/** A name fragment we turn into a BIRD symbol by prefixing it (`balanced_peer_<name>`). */
export const NAME_PATTERN = /^[A-Za-z0-9_]{1,40}$/;

/**
 * Characters allowed inside a quoted BIRD string we write (passwords, interface patterns, file
 * names): printable ASCII without the quote and the backslash (BIRD's lexer has no escapes).
 */
const SAFE_STRING = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

export class BirdSyntaxError extends Error {
  override readonly name = 'BirdSyntaxError';
  constructor(
    readonly what: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`${what} ${JSON.stringify(value)} ${reason}`);
  }
}

export function isSafeBirdString(value: unknown): value is string {
  return typeof value === 'string' && SAFE_STRING.test(value);
}

/** `"value"`, or a BirdSyntaxError when the value could escape the quotes (or its length is off). */
export function birdString(what: string, value: unknown, length: { readonly min: number; readonly max: number }): string {
  if (!isSafeBirdString(value)) throw new BirdSyntaxError(what, value, 'may hold only printable ASCII without " and \\');
  if (value.length < length.min || value.length > length.max) throw new BirdSyntaxError(what, value, `must be ${length.min}..${length.max} characters long`);
  return `"${value}"`;
}

/** `<prefix><fragment>` as a BIRD symbol; the fragment must match NAME_PATTERN. */
export function birdSymbol(prefix: string, fragment: unknown): string {
  if (typeof fragment !== 'string' || !NAME_PATTERN.test(fragment)) {
    throw new BirdSyntaxError('name', fragment, 'must be 1..40 letters, digits or underscores');
  }
  return `${prefix}${fragment}`;
}

/** An integer in [min, max], as decimal text. */
export function birdInteger(what: string, value: unknown, min: number, max: number): string {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new BirdSyntaxError(what, value, `must be an integer ${min}..${max}`);
  }
  return String(value);
}
