import { NetlinkError } from '../errors.js';
import { Errno } from '../errno.js';
import {
  AF_NETLINK,
  CLONE_NEWNET,
  MSG_DONTWAIT,
  MSG_TRUNC,
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  O_CLOEXEC,
  O_RDONLY,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOL_NETLINK,
  SOL_SOCKET,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SO_SNDBUF,
  SO_SNDBUFFORCE,
  lastErrno,
  pollReadable,
  sys,
} from './libc.js';
import type { Datagrams } from './datagrams.js';

export interface NetlinkSocketOptions {
  /** Receive buffer to ask for (SO_RCVBUFFORCE when privileged). Default 4 MiB. */
  readonly receiveBufferBytes?: number;
  /** Send buffer to ask for; bounds one batched sendmsg. Default 4 MiB. */
  readonly sendBufferBytes?: number;
  /**
   * Open the socket inside this network namespace (a path such as /run/netns/NAME or
   * /proc/PID/ns/net). The socket stays bound to it; the process does not move.
   */
  readonly netns?: string;
}

const DEFAULT_BUFFER = 4 << 20;
const RECEIVE_CHUNK = 1 << 18;

/**
 * An AF_NETLINK socket: nonblocking, ext-ack and capped acks on, buffers enlarged. Sends are
 * synchronous (the kernel handles netlink requests inside sendmsg); receives never block the
 * event loop: a nonblocking recv, and when nothing is queued, poll() on a worker thread.
 */
export class NetlinkSocket implements Datagrams {
  readonly receiveBufferBytes: number;
  readonly sendBufferBytes: number;
  readonly portId: number;
  private fd: number;
  private readonly chunk = Buffer.alloc(RECEIVE_CHUNK);

  static open(protocol: number, options: NetlinkSocketOptions = {}): NetlinkSocket {
    const fd = options.netns ? inNamespace(options.netns, () => openRaw(protocol)) : openRaw(protocol);
    try {
      return new NetlinkSocket(fd, options);
    } catch (e) {
      sys().close(fd);
      throw e;
    }
  }

  private constructor(fd: number, options: NetlinkSocketOptions) {
    this.fd = fd;
    const addr = Buffer.alloc(12);
    addr.writeUInt16LE(AF_NETLINK, 0);
    check(sys().bind(fd, addr, 12), 'bind');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(12, 0);
    check(sys().getsockname(fd, addr, len), 'getsockname');
    this.portId = addr.readUInt32LE(4);
    setInt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1, 'NETLINK_EXT_ACK');
    setInt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1, 'NETLINK_CAP_ACK');
    this.receiveBufferBytes = setBuffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, options.receiveBufferBytes ?? DEFAULT_BUFFER);
    this.sendBufferBytes = setBuffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, options.sendBufferBytes ?? DEFAULT_BUFFER);
  }

  send(bytes: Uint8Array): void {
    this.assertOpen('sendmsg');
    for (;;) {
      const n = Number(sys().send(this.fd, bytes, bytes.length, 0));
      if (n === bytes.length) return;
      if (n >= 0) throw new NetlinkError({ code: 'NETLINK_SYSCALL', op: `sendmsg (short write ${n} of ${bytes.length})` });
      const errno = lastErrno();
      if (errno !== Errno.EINTR) throw new NetlinkError({ code: 'NETLINK_SYSCALL', op: 'sendmsg', errno });
    }
  }

  /** Next datagram, or null if none arrives before the deadline. ENOBUFS throws. */
  async receive(timeoutMs: number): Promise<Uint8Array | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.tryReceive();
      if (got) return got;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await pollReadable(this.fd, Math.min(left, 1000));
      this.assertOpen('recvmsg');
    }
  }

  /** A datagram already queued, or null. Never waits. */
  tryReceive(): Uint8Array | null {
    this.assertOpen('recvmsg');
    for (;;) {
      const n = Number(sys().recv(this.fd, this.chunk, this.chunk.length, MSG_DONTWAIT | MSG_TRUNC));
      if (n >= 0) {
        if (n > this.chunk.length) {
          throw new NetlinkError({ code: 'NETLINK_SYSCALL', op: `recvmsg (datagram of ${n} bytes truncated)`, errno: Errno.EMSGSIZE });
        }
        return Uint8Array.prototype.slice.call(this.chunk, 0, n);
      }
      const errno = lastErrno();
      if (errno === Errno.EINTR) continue;
      if (errno === Errno.EAGAIN) return null;
      throw new NetlinkError({ code: 'NETLINK_SYSCALL', op: 'recvmsg', errno });
    }
  }

  close(): void {
    if (this.fd >= 0) {
      sys().close(this.fd);
      this.fd = -1;
    }
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  private assertOpen(op: string): void {
    if (this.fd < 0) throw new NetlinkError({ code: 'NETLINK_CLOSED', op });
  }
}

function openRaw(protocol: number): number {
  const fd = sys().socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  check(fd, `socket(AF_NETLINK, protocol ${protocol})`);
  return fd;
}

/**
 * Run `fn` with this thread in another network namespace, then return to the original one.
 * Only synchronous code runs in between, so no other JavaScript observes the switch; sockets
 * opened inside stay bound to the namespace they were created in.
 */
export function inNamespace<T>(path: string, fn: () => T): T {
  const original = sys().open('/proc/thread-self/ns/net', O_RDONLY | O_CLOEXEC);
  check(original, 'open /proc/thread-self/ns/net');
  try {
    const target = sys().open(path, O_RDONLY | O_CLOEXEC);
    check(target, `open ${path}`);
    try {
      check(sys().setns(target, CLONE_NEWNET), `setns ${path}`);
    } finally {
      sys().close(target);
    }
    try {
      return fn();
    } finally {
      check(sys().setns(original, CLONE_NEWNET), 'setns back to the original namespace');
    }
  } finally {
    sys().close(original);
  }
}

function check(result: number, op: string): void {
  if (result < 0) throw new NetlinkError({ code: 'NETLINK_SYSCALL', op, errno: lastErrno() });
}

function setInt(fd: number, level: number, name: number, value: number, op: string): void {
  const b = Buffer.alloc(4);
  b.writeInt32LE(value, 0);
  check(sys().setsockopt(fd, level, name, b, 4), `setsockopt ${op}`);
}

function getInt(fd: number, level: number, name: number): number {
  const b = Buffer.alloc(4);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(4, 0);
  check(sys().getsockopt(fd, level, name, b, len), 'getsockopt');
  return b.readInt32LE(0);
}

/** Ask for `bytes` (forced when CAP_NET_ADMIN allows), return what the kernel granted. */
function setBuffer(fd: number, forceName: number, name: number, bytes: number): number {
  const b = Buffer.alloc(4);
  b.writeInt32LE(bytes, 0);
  if (sys().setsockopt(fd, SOL_SOCKET, forceName, b, 4) < 0) sys().setsockopt(fd, SOL_SOCKET, name, b, 4);
  // The kernel doubles the value for bookkeeping overhead and reports the doubled figure.
  return Math.floor(getInt(fd, SOL_SOCKET, name) / 2);
}
