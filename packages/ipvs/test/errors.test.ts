import { describe, expect, it, test } from '@jest/globals';
import { Errno, NetlinkError, type NetlinkErrorCode } from '@balanced/netlink';
import {
  AlreadyExists,
  DestinationNotFound,
  InvalidArgument,
  IpvsError,
  OutcomeUnknown,
  PermissionDenied,
  SchedulerMissing,
  ServiceNotFound,
  toIpvsError,
  type CommandKind,
} from '../src/errors.js';

const OP = 'IPVS NEW_DEST tcp/10.0.0.1:80 -> 10.0.0.2:80';

function kernelError(errno: number, message?: string, code: NetlinkErrorCode = 'NETLINK_KERNEL_ERROR'): NetlinkError {
  return new NetlinkError({ code, op: OP, errno, ...(message !== undefined ? { extAck: { message } } : {}) });
}

describe('toIpvsError', () => {
  const cases: [string, number, CommandKind, typeof IpvsError, string][] = [
    ['ESRCH', Errno.ESRCH, 'destination', ServiceNotFound, 'IPVS_SERVICE_NOT_FOUND'],
    ['ESRCH on a service command', Errno.ESRCH, 'service', ServiceNotFound, 'IPVS_SERVICE_NOT_FOUND'],
    ['ENOENT on a destination command', Errno.ENOENT, 'destination', DestinationNotFound, 'IPVS_DESTINATION_NOT_FOUND'],
    ['ENOENT on a service command', Errno.ENOENT, 'service', SchedulerMissing, 'IPVS_SCHEDULER_MISSING'],
    ['EEXIST', Errno.EEXIST, 'service', AlreadyExists, 'IPVS_ALREADY_EXISTS'],
    ['EPERM', Errno.EPERM, 'other', PermissionDenied, 'IPVS_PERMISSION_DENIED'],
    ['EACCES', Errno.EACCES, 'other', PermissionDenied, 'IPVS_PERMISSION_DENIED'],
    ['EINVAL', Errno.EINVAL, 'destination', InvalidArgument, 'IPVS_INVALID_ARGUMENT'],
    ['ERANGE', Errno.ERANGE, 'destination', InvalidArgument, 'IPVS_INVALID_ARGUMENT'],
    ['EAFNOSUPPORT', Errno.EAFNOSUPPORT, 'service', InvalidArgument, 'IPVS_INVALID_ARGUMENT'],
    ['EOPNOTSUPP', Errno.EOPNOTSUPP, 'service', InvalidArgument, 'IPVS_INVALID_ARGUMENT'],
  ];
  test.each(cases)('%s → %p', (_name, errno, kind, type, code) => {
    const e = toIpvsError(OP, kind, kernelError(errno));
    expect(e).toBeInstanceOf(type);
    expect(e).toBeInstanceOf(IpvsError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe(code);
    expect(e.name).toBe(type.name);
    expect(e.errno).toBe(errno);
    expect(e.op).toBe(OP);
    expect(e.message.startsWith(`${OP}: `)).toBe(true);
    expect(e.kernelMessage).toBeUndefined();
    expect(e.cause).toBeInstanceOf(NetlinkError);
  });

  it('ENOENT on another command stays a plain IpvsError', () => {
    const e = toIpvsError(OP, 'other', kernelError(Errno.ENOENT));
    expect(e.constructor).toBe(IpvsError);
    expect(e.code).toBe('IPVS_ERROR');
    expect(e.name).toBe('IpvsError');
    expect(e.message).toContain('ENOENT (2)');
  });

  it('an unmapped errno stays a plain IpvsError carrying it', () => {
    const e = toIpvsError(OP, 'service', kernelError(Errno.ENOMEM));
    expect(e.constructor).toBe(IpvsError);
    expect(e.errno).toBe(Errno.ENOMEM);
    expect(e.message).toContain('ENOMEM (12)');
  });

  it('NETLINK_OUTCOME_UNKNOWN and NETLINK_NOT_SENT → OutcomeUnknown, whatever the errno', () => {
    for (const code of ['NETLINK_OUTCOME_UNKNOWN', 'NETLINK_NOT_SENT'] as const) {
      const e = toIpvsError(OP, 'destination', kernelError(code === 'NETLINK_OUTCOME_UNKNOWN' ? Errno.ENOBUFS : 0, undefined, code));
      expect(e).toBeInstanceOf(OutcomeUnknown);
      expect(e.code).toBe('IPVS_OUTCOME_UNKNOWN');
    }
    // Even an errno that would otherwise map (EEXIST) does not hide an unknown outcome.
    expect(toIpvsError(OP, 'service', kernelError(Errno.EEXIST, undefined, 'NETLINK_OUTCOME_UNKNOWN'))).toBeInstanceOf(OutcomeUnknown);
  });

  it('a timeout is OutcomeUnknown: the kernel may have applied the request', () => {
    const e = toIpvsError(OP, 'service', new NetlinkError({ code: 'NETLINK_TIMEOUT', op: OP }));
    expect(e).toBeInstanceOf(OutcomeUnknown);
    expect(e).toBeInstanceOf(IpvsError);
    expect(e.errno).toBe(0);
    expect(e.message).toContain('no reply from the kernel in time');
  });

  it("the kernel's ext-ack message appears in message and kernelMessage", () => {
    const e = toIpvsError(OP, 'destination', kernelError(Errno.EINVAL, 'Invalid forwarding method'));
    expect(e).toBeInstanceOf(InvalidArgument);
    expect(e.kernelMessage).toBe('Invalid forwarding method');
    expect(e.message).toContain('kernel says: Invalid forwarding method');
    expect(e.message.startsWith(`${OP}: kernel refused the request (`)).toBe(true);
    const s = toIpvsError(OP, 'service', kernelError(Errno.ESRCH, 'Service not found'));
    expect(s.message).toBe(`${OP}: no such virtual service — kernel says: Service not found`);
    expect(s.kernelMessage).toBe('Service not found');
  });
});

describe('IpvsError', () => {
  it('works without a cause', () => {
    const e = new IpvsError('IPVS GET_INFO', 'no outcome');
    expect(e.message).toBe('IPVS GET_INFO: no outcome');
    expect(e.errno).toBe(0);
    expect(e.kernelMessage).toBeUndefined();
    expect(e.cause).toBeUndefined();
  });

  it('takes errno only from a NetlinkError cause', () => {
    const e = new IpvsError('op', 'what', new Error('plain'));
    expect(e.errno).toBe(0);
    expect(e.cause).toBeInstanceOf(Error);
  });
});
