import type { ExtendedAck } from './codec/ack.js';
import { Errno, errnoName } from './errno.js';

export type NetlinkErrorCode =
  /** The kernel answered with a negative errno. */
  | 'NETLINK_KERNEL_ERROR'
  /** A syscall on the socket failed. */
  | 'NETLINK_SYSCALL'
  /**
   * The receive buffer overflowed (ENOBUFS) while this request was in flight: the kernel may
   * or may not have applied it. Re-read kernel state before deciding what to do.
   */
  | 'NETLINK_OUTCOME_UNKNOWN'
  /** A batch stopped before this request was sent (an earlier one's outcome is unknown). */
  | 'NETLINK_NOT_SENT'
  /** The dump changed under us (NLM_F_DUMP_INTR): repeat it. */
  | 'NETLINK_DUMP_INTERRUPTED'
  | 'NETLINK_TIMEOUT'
  | 'NETLINK_CLOSED'
  | 'NETLINK_MALFORMED_REPLY';

export interface NetlinkErrorDetails {
  readonly code: NetlinkErrorCode;
  /** What we were doing, e.g. "sendmsg" or "IPVS NEW_DEST". */
  readonly op: string;
  /** Positive errno, 0 if none applies. */
  readonly errno?: number;
  readonly extAck?: ExtendedAck;
  readonly sequence?: number;
  readonly cause?: unknown;
}

/** The one error class of the netlink layer (op, errno, ext-ack message/offset, sequence). */
export class NetlinkError extends Error {
  override readonly name = 'NetlinkError';
  readonly code: NetlinkErrorCode;
  readonly op: string;
  readonly errno: number;
  readonly extAck: ExtendedAck;
  readonly sequence: number | undefined;

  constructor(details: NetlinkErrorDetails) {
    super(describe(details), details.cause !== undefined ? { cause: details.cause } : undefined);
    this.code = details.code;
    this.op = details.op;
    this.errno = details.errno ?? 0;
    this.extAck = details.extAck ?? {};
    this.sequence = details.sequence;
  }

  /** True when the kernel's verdict is unknown (overflow, not sent, timed out): re-read state. */
  get outcomeUnknown(): boolean {
    return this.code === 'NETLINK_OUTCOME_UNKNOWN' || this.code === 'NETLINK_NOT_SENT' || this.code === 'NETLINK_TIMEOUT';
  }
}

function describe(d: NetlinkErrorDetails): string {
  const parts = [`${d.op}:`];
  switch (d.code) {
    case 'NETLINK_OUTCOME_UNKNOWN':
      parts.push('outcome unknown (receive buffer overflowed, ENOBUFS): re-read kernel state');
      break;
    case 'NETLINK_NOT_SENT':
      parts.push('not sent (an earlier request in the batch has an unknown outcome)');
      break;
    case 'NETLINK_DUMP_INTERRUPTED':
      parts.push('dump interrupted by a concurrent change (NLM_F_DUMP_INTR): repeat it');
      break;
    case 'NETLINK_TIMEOUT':
      parts.push('no reply from the kernel in time');
      break;
    case 'NETLINK_CLOSED':
      parts.push('socket is closed');
      break;
    default:
      if (d.errno) parts.push(`${errnoName(d.errno)} (${d.errno})`);
  }
  if (d.extAck?.message) parts.push(`— kernel says: ${d.extAck.message}`);
  if (d.extAck?.offset !== undefined) parts.push(`(at request byte ${d.extAck.offset})`);
  if (d.extAck?.missingType !== undefined) parts.push(`(missing attribute ${d.extAck.missingType})`);
  if (d.code === 'NETLINK_MALFORMED_REPLY' && d.cause instanceof Error) parts.push(d.cause.message);
  return parts.join(' ');
}

export function isErrno(e: unknown, errno: number): boolean {
  return e instanceof NetlinkError && e.errno === errno;
}

export { Errno };
