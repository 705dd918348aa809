/**
 * The codec's single error type: bytes that do not form valid netlink. It says what was
 * wrong and where, so a bad kernel reply or a fuzzed input is reported, never crashes.
 */
export class MalformedMessageError extends Error {
  override readonly name = 'MalformedMessageError';
  readonly code = 'NETLINK_MALFORMED';
  constructor(
    readonly what: string,
    readonly offset: number,
  ) {
    super(`malformed netlink data at byte ${offset}: ${what}`);
  }
}

/** An encoder was asked to write a value its attribute cannot hold. */
export class EncodeError extends Error {
  override readonly name = 'EncodeError';
  readonly code = 'NETLINK_ENCODE';
  constructor(
    readonly attributeType: number,
    what: string,
  ) {
    super(`cannot encode attribute ${attributeType}: ${what}`);
  }
}
