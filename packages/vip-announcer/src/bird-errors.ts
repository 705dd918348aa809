// One error class for everything that can go wrong talking to BIRD, with a stable `code`.

export type BirdErrorCode =
  /** BIRD answered with an error reply (8xxx run-time, 9xxx parse-time); see replyCode/replyText. */
  | 'BIRD_REPLY_ERROR'
  /** BIRD answered, but not with what the command should produce (e.g. 0016 Access restricted). */
  | 'BIRD_UNEXPECTED_REPLY'
  /** No complete reply within the timeout; the connection was dropped. */
  | 'BIRD_TIMEOUT'
  /** Cannot connect, or the connection closed or failed mid-command. */
  | 'BIRD_CONNECTION'
  /** Bytes that are not BIRD's control protocol. */
  | 'BIRD_PROTOCOL'
  /** A command we refuse to send (a newline would start a second command). */
  | 'BIRD_INVALID_COMMAND'
  /** The client was closed. */
  | 'BIRD_CLOSED';

export interface BirdErrorDetails {
  readonly command?: string;
  readonly replyCode?: number;
  readonly replyText?: string;
  readonly cause?: unknown;
}

export class BirdError extends Error {
  override readonly name = 'BirdError';
  readonly command: string | undefined;
  readonly replyCode: number | undefined;
  readonly replyText: string | undefined;

  constructor(
    readonly code: BirdErrorCode,
    message: string,
    details: BirdErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.command = details.command;
    this.replyCode = details.replyCode;
    this.replyText = details.replyText;
  }
}

export function isBirdError(e: unknown, code?: BirdErrorCode): e is BirdError {
  return e instanceof BirdError && (code === undefined || e.code === code);
}
