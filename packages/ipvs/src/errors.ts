import { Errno, NetlinkError } from '@balanced/netlink';

export type IpvsErrorCode =
  | 'IPVS_SERVICE_NOT_FOUND'
  | 'IPVS_DESTINATION_NOT_FOUND'
  | 'IPVS_SCHEDULER_MISSING'
  | 'IPVS_ALREADY_EXISTS'
  | 'IPVS_PERMISSION_DENIED'
  | 'IPVS_INVALID_ARGUMENT'
  | 'IPVS_UNAVAILABLE'
  | 'IPVS_OUTCOME_UNKNOWN'
  | 'IPVS_ERROR';

/** Base of the IPVS client's errors: what was being done, and the kernel's words if any. */
export class IpvsError extends Error {
  override readonly name: string = 'IpvsError';
  readonly code: IpvsErrorCode = 'IPVS_ERROR';
  readonly op: string;
  readonly errno: number;
  /** The kernel's extended-ack message, when it gave one. */
  readonly kernelMessage: string | undefined;

  constructor(op: string, what: string, cause?: NetlinkError | Error) {
    const extAck = cause instanceof NetlinkError ? cause.extAck.message : undefined;
    super(`${op}: ${what}${extAck ? ` — kernel says: ${extAck}` : ''}`, cause ? { cause } : undefined);
    this.op = op;
    this.errno = cause instanceof NetlinkError ? cause.errno : 0;
    this.kernelMessage = extAck;
  }
}

/** ESRCH: the virtual service does not exist. */
export class ServiceNotFound extends IpvsError {
  override readonly name = 'ServiceNotFound';
  override readonly code = 'IPVS_SERVICE_NOT_FOUND';
}
/** ENOENT on a destination command: no such real server in that service. */
export class DestinationNotFound extends IpvsError {
  override readonly name = 'DestinationNotFound';
  override readonly code = 'IPVS_DESTINATION_NOT_FOUND';
}
/** ENOENT on a service command: the scheduler (or persistence engine) module is absent. */
export class SchedulerMissing extends IpvsError {
  override readonly name = 'SchedulerMissing';
  override readonly code = 'IPVS_SCHEDULER_MISSING';
}
/** EEXIST: the service or destination is already there. */
export class AlreadyExists extends IpvsError {
  override readonly name = 'AlreadyExists';
  override readonly code = 'IPVS_ALREADY_EXISTS';
}
/** EPERM/EACCES: CAP_NET_ADMIN is needed. */
export class PermissionDenied extends IpvsError {
  override readonly name = 'PermissionDenied';
  override readonly code = 'IPVS_PERMISSION_DENIED';
}
/** EINVAL/ERANGE and friends: the kernel refused the values. */
export class InvalidArgument extends IpvsError {
  override readonly name = 'InvalidArgument';
  override readonly code = 'IPVS_INVALID_ARGUMENT';
}
/** The kernel has no IPVS genetlink family (module not loaded, or not built). */
export class IpvsUnavailable extends IpvsError {
  override readonly name = 'IpvsUnavailable';
  override readonly code = 'IPVS_UNAVAILABLE';
}
/** The receive buffer overflowed (or a batch stopped): re-read state before acting. */
export class OutcomeUnknown extends IpvsError {
  override readonly name = 'OutcomeUnknown';
  override readonly code = 'IPVS_OUTCOME_UNKNOWN';
}

export type CommandKind = 'service' | 'destination' | 'other';

/** Turn a netlink failure of `op` into the typed IPVS error a caller can act on. */
export function toIpvsError(op: string, kind: CommandKind, error: NetlinkError): IpvsError {
  if (error.outcomeUnknown) return new OutcomeUnknown(op, error.message, error);
  switch (error.errno) {
    case Errno.ESRCH:
      return new ServiceNotFound(op, 'no such virtual service', error);
    case Errno.ENOENT:
      if (kind === 'destination') return new DestinationNotFound(op, 'no such destination in the service', error);
      if (kind === 'service') return new SchedulerMissing(op, 'scheduler or persistence engine not available (module missing?)', error);
      return new IpvsError(op, error.message, error);
    case Errno.EEXIST:
      return new AlreadyExists(op, 'already exists', error);
    case Errno.EPERM:
    case Errno.EACCES:
      return new PermissionDenied(op, 'permission denied (needs CAP_NET_ADMIN)', error);
    case Errno.EINVAL:
    case Errno.ERANGE:
    case Errno.EAFNOSUPPORT:
    case Errno.EOPNOTSUPP:
      return new InvalidArgument(op, `kernel refused the request (${error.message})`, error);
    default:
      return new IpvsError(op, error.message, error);
  }
}
