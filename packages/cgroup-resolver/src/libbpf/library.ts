// koffi bindings to libbpf.so.1 (libbpf1 1.1.x) and the few libc calls the loader needs.
// Only what the loader uses is bound. libbpf 1.x returns NULL or a negative errno and sets
// errno; callers read it through lastErrno() right after the call.
//
// Nothing here runs at import time: koffi (a native addon), libbpf.so.1 and libc are loaded
// by the first call that opens a map, an object or a socket, and each declaration is bound on
// its first call. Importing @balanced/cgroup-resolver for its pure parts (the desired-state
// builder, the planner, the map codec) or running `--help` needs neither koffi nor libbpf
// (issue 16 item 4); test/lazy-koffi.test.ts checks it. libbpf's print callback is installed
// on first use of captureLibbpf().
import { createRequire } from 'node:module';
import type * as Koffi from 'koffi';

/** An opaque native pointer (libbpf object, program, link). */
export type NativePointer = bigint;

const requireNative = createRequire(import.meta.url);
let koffiModule: typeof Koffi | undefined;

/** koffi itself, loaded on the first call (for callbacks, views and prototypes). */
export function loadKoffi(): typeof Koffi {
  koffiModule ??= requireNative('koffi') as typeof Koffi;
  return koffiModule;
}

/** A shared library opened (dlopen) on first use. */
export interface NativeLibrary {
  readonly name: string;
  handle(): Koffi.LibraryHandle;
}

function library(name: string): NativeLibrary {
  let handle: Koffi.LibraryHandle | undefined;
  return {
    name,
    handle: () => (handle ??= loadKoffi().load(name)),
  };
}

/** The one dlopen of each library; maps.ts and the ring reader bind their calls on these too. */
export const libbpf = library('libbpf.so.1');
export const libc = library('libc.so.6');

type NativeFunction = (...args: never[]) => unknown;

/** Binds a C declaration on its first call, typed by the caller. */
export function bind<F extends NativeFunction>(lib: NativeLibrary, declaration: string): F {
  let bound: ((...args: unknown[]) => unknown) | undefined;
  const call = (...args: unknown[]): unknown => {
    bound ??= lib.handle().func(declaration) as (...args: unknown[]) => unknown;
    return bound(...args);
  };
  return call as unknown as F;
}

/** A C function called on koffi's worker thread (`fn.async`), bound on its first call. */
export function bindAsync<A extends unknown[], R>(
  lib: NativeLibrary,
  declaration: string,
): (...args: [...A, (err: unknown, result: R) => void]) => void {
  let bound: { async(...args: unknown[]): void } | undefined;
  return (...args) => {
    bound ??= lib.handle().func(declaration) as unknown as { async(...args: unknown[]): void };
    bound.async(...args);
  };
}

/** A koffi function-pointer prototype, declared on first use (anonymous: a named koffi type may
 * be declared once per process, and test runners evaluate modules again per test file). */
export function lazyProto(declaration: string): () => Koffi.TypeObject {
  let type: Koffi.TypeObject | undefined;
  return () => (type ??= loadKoffi().pointer(loadKoffi().proto(declaration)));
}

/** libbpf's calls, typed. Pointers are bigint (koffi 3), NULL is null. */
export const bpf = {
  objectOpenFile: bind<(path: string, opts: Uint8Array | null) => NativePointer | null>(
    libbpf,
    'void *bpf_object__open_file(const char *path, const void *opts)',
  ),
  objectLoad: bind<(obj: NativePointer) => number>(libbpf, 'int bpf_object__load(void *obj)'),
  objectClose: bind<(obj: NativePointer) => void>(libbpf, 'void bpf_object__close(void *obj)'),
  objectFindProgram: bind<(obj: NativePointer, name: string) => NativePointer | null>(
    libbpf,
    'void *bpf_object__find_program_by_name(void *obj, const char *name)',
  ),
  objectFindMapFd: bind<(obj: NativePointer, name: string) => number>(
    libbpf,
    'int bpf_object__find_map_fd_by_name(void *obj, const char *name)',
  ),
  programFd: bind<(prog: NativePointer) => number>(libbpf, 'int bpf_program__fd(void *prog)'),
  programAttachCgroup: bind<(prog: NativePointer, cgroupFd: number) => NativePointer | null>(
    libbpf,
    'void *bpf_program__attach_cgroup(void *prog, int cgroup_fd)',
  ),
  programAttachIter: bind<(prog: NativePointer, opts: Uint8Array | null) => NativePointer | null>(
    libbpf,
    'void *bpf_program__attach_iter(void *prog, const void *opts)',
  ),
  linkOpen: bind<(path: string) => NativePointer | null>(libbpf, 'void *bpf_link__open(const char *path)'),
  linkFd: bind<(link: NativePointer) => number>(libbpf, 'int bpf_link__fd(void *link)'),
  linkPin: bind<(link: NativePointer, path: string) => number>(libbpf, 'int bpf_link__pin(void *link, const char *path)'),
  linkUpdateProgram: bind<(link: NativePointer, prog: NativePointer) => number>(
    libbpf,
    'int bpf_link__update_program(void *link, void *prog)',
  ),
  /** Closes the link's fd (a pinned link stays attached) and frees it. */
  linkDestroy: bind<(link: NativePointer) => number>(libbpf, 'int bpf_link__destroy(void *link)'),
  iterCreate: bind<(linkFd: number) => number>(libbpf, 'int bpf_iter_create(int link_fd)'),
  objGetInfoByFd: bind<(fd: number, info: Uint8Array, infoLen: Uint8Array) => number>(
    libbpf,
    'int bpf_obj_get_info_by_fd(int fd, void *info, void *info_len)',
  ),
};

/** libc's calls, typed. */
export const libcCalls = {
  open: bind<(path: string, flags: number) => number>(libc, 'int open(const char *path, int flags)'),
  close: bind<(fd: number) => number>(libc, 'int close(int fd)'),
  read: bind<(fd: number, buf: Uint8Array, count: number) => number>(libc, 'intptr_t read(int fd, void *buf, size_t count)'),
  setns: bind<(fd: number, nstype: number) => number>(libc, 'int setns(int fd, int nstype)'),
  socket: bind<(domain: number, type: number, protocol: number) => number>(libc, 'int socket(int domain, int type, int protocol)'),
  getsockopt: bind<(fd: number, level: number, name: number, value: Uint8Array, len: Uint8Array) => number>(
    libc,
    'int getsockopt(int fd, int level, int name, void *value, void *len)',
  ),
};

export const O_RDONLY = 0;
export const O_DIRECTORY = 0o200000;
export const O_CLOEXEC = 0o2000000;
export const CLONE_NEWNET = 0x40000000;
export const AF_INET = 2;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_NETNS_COOKIE = 71;
export const EINTR = 4;
export const EAGAIN = 11;

/** errno of the last native call on this thread (koffi saves it right after each call). */
export function lastErrno(): number {
  return loadKoffi().errno();
}

/** errno of a libbpf int result: libbpf 1.x returns -errno (and sets errno). */
export function errnoOf(result: number): number {
  return result < 0 ? -result : lastErrno();
}

/** A native copy of bytes whose address stays valid until the Buffer is collected. */
export function addressOf(buffer: Buffer): bigint {
  return loadKoffi().address(buffer);
}

// ---- libbpf's messages ----------------------------------------------------------------

/** libbpf print levels (enum libbpf_print_level). */
const LIBBPF_DEBUG = 2;

const vsnprintf = bind<(buf: Uint8Array, size: number, fmt: NativePointer, ap: NativePointer | Uint8Array) => number>(
  libc,
  'int vsnprintf(void *buf, size_t size, void *fmt, void *ap)',
);
const printFn = lazyProto('int (int level, void *fmt, void *args)');
const setPrint = bind<(fn: bigint | null) => NativePointer | null>(libbpf, 'void *libbpf_set_print(void *fn)');

/**
 * Bytes of a va_list object where `va_list` parameters are passed as a pointer to it
 * (x86-64: `__va_list_tag[1]`, 24 bytes; arm64: a 32-byte struct passed by reference).
 * Copying them is what va_copy does, so a message longer than the first buffer can be
 * formatted again from the copy.
 */
const VA_LIST_BYTES = process.arch === 'x64' ? 24 : process.arch === 'arm64' ? 32 : 0;
const FIRST_BUFFER = 4096;

/** Lines collected while a capture runs (a stack: captures may nest). */
const captures: string[][] = [];
let installed: bigint | undefined;

function format(fmt: NativePointer, ap: NativePointer): string {
  const copy = VA_LIST_BYTES > 0 ? Buffer.from(loadKoffi().view(ap, VA_LIST_BYTES).slice(0)) : undefined;
  const buffer = Buffer.alloc(FIRST_BUFFER);
  const n = vsnprintf(buffer, buffer.length, fmt, ap);
  if (n < 0) return '';
  if (n < buffer.length || copy === undefined) return buffer.toString('utf8', 0, Math.min(n, buffer.length - 1));
  const large = Buffer.alloc(n + 1);
  const m = vsnprintf(large, large.length, fmt, copy);
  return large.toString('utf8', 0, Math.max(0, Math.min(m, n)));
}

function onPrint(level: number, fmt: NativePointer | null, ap: NativePointer | null): number {
  const current = captures[captures.length - 1];
  // Debug messages are dropped; so is everything printed outside a capture (libbpf's own
  // default would write it to stderr).
  if (current === undefined || level >= LIBBPF_DEBUG || fmt === null || ap === null) return 0;
  try {
    const text = format(fmt, ap).replace(/\n+$/, '');
    if (text !== '') current.push(text);
  } catch {
    // never throw into libbpf
  }
  return 0;
}

/**
 * Run `fn` and return what libbpf printed meanwhile (warnings and info: the reason of a
 * failure, e.g. `couldn't reuse pinned map at '…': parameter mismatch`). Installs the
 * print callback on first use; it stays installed for the life of the process (libbpf's
 * print function is process-global).
 */
export function captureLibbpf<T>(fn: () => T): { readonly result: T; readonly log: readonly string[] } {
  if (installed === undefined) {
    installed = loadKoffi().register(onPrint, printFn());
    setPrint(installed);
  }
  const log: string[] = [];
  captures.push(log);
  try {
    return { result: fn(), log };
  } finally {
    captures.pop();
  }
}

/** Like {@link captureLibbpf}, and hands the log collected so far to `fn` (for errors thrown inside). */
export function withLibbpfLog<T>(fn: (log: readonly string[]) => T): T {
  return captureLibbpf(() => fn(captures[captures.length - 1] ?? [])).result;
}
