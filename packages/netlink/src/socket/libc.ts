import { createRequire } from 'node:module';
import type * as Koffi from 'koffi';

/**
 * The few libc calls the netlink socket needs, bound with koffi on first use. Nothing here
 * blocks: the socket is O_NONBLOCK and waiting for readability uses poll() on koffi's worker
 * thread. koffi (a native addon that dlopens libc) is loaded only when a socket is opened,
 * not when `@balanced/netlink` is imported: every package reaches the pure codec through this
 * package's index, and most never open a socket (issue 16 item 4).
 */
const requireNative = createRequire(import.meta.url);
let koffi: typeof Koffi | undefined;

function loadKoffi(): typeof Koffi {
  koffi ??= requireNative('koffi') as typeof Koffi;
  return koffi;
}

export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
export const SOL_NETLINK = 270;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const POLLIN = 0x1;
export const O_RDONLY = 0;
export const O_CLOEXEC = 0o2000000;
export const CLONE_NEWNET = 0x40000000;

function bindSyscalls(libc: Koffi.LibraryHandle) {
  return {
    socket: libc.func('int socket(int domain, int type, int protocol)'),
    bind: libc.func('int bind(int fd, const void *addr, uint32_t len)'),
    getsockname: libc.func('int getsockname(int fd, void *addr, void *len)'),
    setsockopt: libc.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
    getsockopt: libc.func('int getsockopt(int fd, int level, int name, void *value, void *len)'),
    send: libc.func('intptr_t send(int fd, const void *buf, size_t len, int flags)'),
    recv: libc.func('intptr_t recv(int fd, void *buf, size_t len, int flags)'),
    poll: libc.func('int poll(void *fds, unsigned long nfds, int timeout)'),
    close: libc.func('int close(int fd)'),
    open: libc.func('int open(const char *path, int flags)'),
    setns: libc.func('int setns(int fd, int nstype)'),
  };
}

export type Syscalls = ReturnType<typeof bindSyscalls>;
let syscalls: Syscalls | undefined;

/** The bound libc calls; the first call loads koffi and libc. */
export function sys(): Syscalls {
  syscalls ??= bindSyscalls(loadKoffi().load('libc.so.6'));
  return syscalls;
}

/** errno of the last libc call made on this (the main) thread. */
export function lastErrno(): number {
  return loadKoffi().errno();
}

/** Wait on koffi's worker thread until fd is readable or timeoutMs passes. */
export function pollReadable(fd: number, timeoutMs: number): Promise<boolean> {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(POLLIN, 4);
  return new Promise((resolve, reject) => {
    sys().poll.async(pfd, 1, timeoutMs, (err: unknown, ready: number) => {
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(ready > 0);
    });
  });
}
