/**
 * Every failure this package reports is a {@link MaglevError} with a stable `code`
 * string. Callers switch on `code` (or `instanceof`), never on `message`.
 */
export type MaglevErrorCode =
  | 'MAGLEV_TABLE_SIZE_NOT_ALLOWED'
  | 'MAGLEV_TABLE_TOO_SMALL'
  | 'MAGLEV_INVALID_BACKEND'
  | 'MAGLEV_DUPLICATE_BACKEND'
  | 'MAGLEV_INVALID_HASH'
  | 'MH_INVALID_ADDRESS'
  | 'MH_ADDRESS_FAMILY_MISMATCH'
  | 'MH_INVALID_DESTINATION'
  | 'MH_TOO_MANY_DESTINATIONS'
  | 'MH_INVALID_TAB_INDEX';

export abstract class MaglevError extends Error {
  abstract readonly code: MaglevErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The table size is not one of {@link ALLOWED_TABLE_SIZES}. */
export class TableSizeNotAllowedError extends MaglevError {
  readonly code = 'MAGLEV_TABLE_SIZE_NOT_ALLOWED' as const;
  constructor(
    readonly tableSize: number,
    readonly allowed: readonly number[],
  ) {
    super(`table size ${tableSize} is not allowed; use one of ${allowed.join(', ')}`);
  }
}

/** M ≤ N: a Maglev table needs more slots than backends. */
export class TableTooSmallError extends MaglevError {
  readonly code = 'MAGLEV_TABLE_TOO_SMALL' as const;
  constructor(
    readonly tableSize: number,
    readonly backends: number,
  ) {
    super(`table size ${tableSize} must be larger than the number of backends (${backends})`);
  }
}

/** A backend has an empty id or a weight that is not a non-negative integer. */
export class InvalidBackendError extends MaglevError {
  readonly code = 'MAGLEV_INVALID_BACKEND' as const;
  constructor(
    readonly index: number,
    readonly reason: string,
  ) {
    super(`backend #${index}: ${reason}`);
  }
}

/** Two backends share an id, so the set is ambiguous. */
export class DuplicateBackendError extends MaglevError {
  readonly code = 'MAGLEV_DUPLICATE_BACKEND' as const;
  constructor(readonly id: string) {
    super(`backend id ${JSON.stringify(id)} appears more than once`);
  }
}

/** A pluggable hash returned something that is not four 32-bit words. */
export class InvalidHashError extends MaglevError {
  readonly code = 'MAGLEV_INVALID_HASH' as const;
  constructor(readonly id: string) {
    super(`hash of backend ${JSON.stringify(id)} is not four unsigned 32-bit words`);
  }
}

/** A string is not an IPv4 or IPv6 address in a form this package parses. */
export class InvalidAddressError extends MaglevError {
  readonly code = 'MH_INVALID_ADDRESS' as const;
  constructor(readonly address: string) {
    super(`not an IPv4 or IPv6 address: ${JSON.stringify(address)}`);
  }
}

/** The client address family differs from the service's. */
export class AddressFamilyMismatchError extends MaglevError {
  readonly code = 'MH_ADDRESS_FAMILY_MISMATCH' as const;
  constructor(
    readonly address: string,
    readonly expected: 'inet' | 'inet6',
  ) {
    super(`client ${address} is not an ${expected} address`);
  }
}

/** A destination (or client port) is out of the range the kernel accepts. */
export class InvalidDestinationError extends MaglevError {
  readonly code = 'MH_INVALID_DESTINATION' as const;
  constructor(
    readonly index: number,
    readonly reason: string,
  ) {
    super(index >= 0 ? `destination #${index}: ${reason}` : reason);
  }
}

/** More destinations than table slots: the kernel refuses the update with EINVAL. */
export class TooManyDestinationsError extends MaglevError {
  readonly code = 'MH_TOO_MANY_DESTINATIONS' as const;
  constructor(
    readonly destinations: number,
    readonly tableSize: number,
  ) {
    super(`${destinations} destinations exceed the mh table size ${tableSize} (kernel: EINVAL)`);
  }
}

/** CONFIG_IP_VS_MH_TAB_INDEX outside the kernel's 8..17 range. */
export class InvalidTabIndexError extends MaglevError {
  readonly code = 'MH_INVALID_TAB_INDEX' as const;
  constructor(readonly tabIndex: number) {
    super(`CONFIG_IP_VS_MH_TAB_INDEX must be an integer in 8..17, got ${tabIndex}`);
  }
}
