import koffi from 'koffi';

/**
 * The few libc calls the netlink socket needs, bound once with koffi. Nothing here blocks:
 * the socket is O_NONBLOCK and waiting for readability uses poll() on koffi's worker thread.
 */
const libc = koffi.load('libc.so.6');

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

export const sys = {
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

/** errno of the last libc call made on this (the main) thread. */
export function lastErrno(): number {
  return koffi.errno();
}

/** Wait on koffi's worker thread until fd is readable or timeoutMs passes. */
export function pollReadable(fd: number, timeoutMs: number): Promise<boolean> {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(POLLIN, 4);
  return new Promise((resolve, reject) => {
    sys.poll.async(pfd, 1, timeoutMs, (err: unknown, ready: number) => {
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(ready > 0);
    });
  });
}
