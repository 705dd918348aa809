// Closes connected sockets whose backend just left their service, with the socket
// iterators of sock_destroy.bpf.o (bpf_sock_destroy, Linux >= 6.5).
//
// Userspace writes the removed backends into bd_doomed, reads one iterator per program in
// each network namespace (a tcp/udp iterator walks the namespace that is current for the
// thread when the iterator fd is created), then empties bd_doomed. Which namespaces: a task
// iterator of the same object lists every process's (one read; a /proc scan, one stat per
// process, is the fallback for an object without it).
//
// Everything here is synchronous, on purpose: the JS thread enters another network
// namespace with setns() only between creating the iterator fds, and returns to its own
// before anything else happens, so no other JS (and no other socket) ever runs in a pod's
// namespace.
import { fstatSync } from 'node:fs';
import { BpfError } from '../libbpf/errors.js';
import {
  bpf,
  CLONE_NEWNET,
  EAGAIN,
  EINTR,
  errnoOf,
  lastErrno,
  libcCalls,
  O_CLOEXEC,
  O_RDONLY,
  withLibbpfLog,
  type NativePointer,
} from '../libbpf/library.js';
import { MapHandle } from '../libbpf/maps.js';
import { COUNTERS, encodeDoomedKey, encodeU32Key } from '../maps/layout.js';
import { BpfObject, ensurePinRoot } from './bpf-object.js';
import { distinctNamespaces, listOtherNetworkNamespaces, type ProcessNetns } from './pod-namespaces.js';
import { defaultObjectPath } from './resolver-programs.js';

/** The iterator programs of sock_destroy.bpf.o. */
export const SOCKET_ITERATORS = ['balanced_destroy_tcp', 'balanced_destroy_udp'] as const;

/** The task iterator of sock_destroy.bpf.o: (pid, netns inode) of every process, 8 bytes each. */
export const NETNS_ITERATOR = 'balanced_netns_of_tasks';
const NETNS_RECORD_BYTES = 8;

const DOOMED = Uint8Array.of(1);
const READ_CHUNK = 64 * 1024;
/** Reads of one iterator that may be retried on EINTR/EAGAIN before giving up. */
const READ_RETRIES = 100;

export interface SocketTerminatorOptions {
  /** The resolver's pin root: bd_revnat, bd_doomed and bd_counters are shared through it. */
  readonly pinRoot: string;
  /** Default: dist/bpf/sock_destroy.bpf.o of this package. */
  readonly objectPath?: string;
}

/** A backend that left a service (the agent's RemovedBackend). */
export interface DoomedBackend {
  readonly serviceId: number;
  readonly address: string;
  readonly port: number;
}

/** A namespace that could not be walked (e.g. its last process exited meanwhile). */
export interface NamespaceFailure {
  readonly netns: string;
  readonly error: BpfError;
}

export interface TerminateResult {
  /** Sockets the iterators closed (from bd_counters[CNT_DESTROYED]). */
  readonly destroyed: number;
  /** Namespaces walked, ours included. */
  readonly namespaces: number;
  readonly errors: readonly NamespaceFailure[];
}

/** The socket iterators, loaded and attached (not pinned: they live as long as this object). */
export class SocketTerminator {
  private closed = false;
  /** Set when returning to our namespace failed: the thread is not where it should be. */
  private stranded: BpfError | undefined;

  /** The inode of our network namespace, read once: otherNamespaces() leaves it out on every removal pass. */
  private readonly ownNetnsInode: bigint;

  private constructor(
    private readonly object: BpfObject,
    private readonly links: readonly NativePointer[],
    /** The task iterator's link (null: the object has none; namespaces come from a /proc scan). */
    private readonly netnsLink: NativePointer | null,
    private readonly doomed: MapHandle,
    private readonly counters: MapHandle,
    /** Our own network namespace, held open from load on to return to it. */
    private readonly originalNetns: number,
  ) {
    this.ownNetnsInode = fstatSync(originalNetns, { bigint: true }).ino;
  }

  /**
   * Open sock_destroy.bpf.o with the same pin root as the resolver (its maps are reused),
   * load it and attach both iterators.
   *
   * Throws BpfError BPF_NOT_SUPPORTED with the reason when the kernel cannot load or
   * attach them (no bpf_sock_destroy before Linux 6.5, no BTF, …): then connected sockets
   * to a removed backend keep it until the application reconnects. BPF_MAP_REUSE and
   * BPF_PIN_ROOT as for the resolver.
   */
  static load(options: SocketTerminatorOptions): SocketTerminator {
    const objectPath = options.objectPath ?? defaultObjectPath('sock_destroy.bpf.o');
    ensurePinRoot(options.pinRoot);
    return withLibbpfLog((log) => {
      let object: BpfObject;
      try {
        object = BpfObject.openAndLoad(objectPath, options.pinRoot, log);
      } catch (e) {
        if (e instanceof BpfError && (e.code === 'BPF_MAP_REUSE' || e.code === 'BPF_OBJECT_OPEN')) throw e;
        throw notSupported(`load the socket iterators ${objectPath}`, e, log);
      }
      const links: NativePointer[] = [];
      let netnsLink: NativePointer | null = null;
      try {
        for (const name of SOCKET_ITERATORS) {
          const link = bpf.programAttachIter(object.program(name), null);
          if (link === null) throw new BpfError({ code: 'BPF_ATTACH', op: `attach iterator ${name}`, errno: lastErrno(), libbpfLog: [...log] });
          links.push(link);
        }
        const netnsProgram = object.findProgram(NETNS_ITERATOR);
        if (netnsProgram !== undefined) {
          netnsLink = bpf.programAttachIter(netnsProgram, null);
          if (netnsLink === null) throw new BpfError({ code: 'BPF_ATTACH', op: `attach iterator ${NETNS_ITERATOR}`, errno: lastErrno(), libbpfLog: [...log] });
        }
        const original = libcCalls.open('/proc/thread-self/ns/net', O_RDONLY | O_CLOEXEC);
        if (original < 0) throw new BpfError({ code: 'BPF_ITER', op: 'open /proc/thread-self/ns/net', errno: lastErrno() });
        return new SocketTerminator(object, links, netnsLink, MapHandle.pinned(`${options.pinRoot}/bd_doomed`, 'bd_doomed'), MapHandle.pinned(`${options.pinRoot}/bd_counters`, 'bd_counters'), original);
      } catch (e) {
        for (const link of links) bpf.linkDestroy(link);
        if (netnsLink !== null) bpf.linkDestroy(netnsLink);
        object.close();
        if (e instanceof BpfError && e.code === 'BPF_ATTACH') throw notSupported(`attach the socket iterators of ${objectPath}`, e, log);
        throw e;
      }
    });
  }

  /**
   * Close the connected sockets resolved (through the reverse-NAT map) to one of `removed`
   * in its service: in our network namespace and in each of `netnsPaths`
   * (`/proc/<pid>/ns/net`, `/run/netns/<name>`). A namespace that cannot be entered is
   * reported in `errors` and skipped. The iterators also run when `removed` is empty.
   */
  terminate(removed: readonly DoomedBackend[], netnsPaths: readonly string[]): TerminateResult {
    this.check();
    const keys = removed.map((r) => encodeDoomedKey(r.serviceId, r.address, r.port));
    const before = this.destroyedCount();
    const errors: NamespaceFailure[] = [];
    let namespaces = 0;
    try {
      for (const key of keys) this.doomed.update(key, DOOMED);
      for (const netns of [undefined, ...netnsPaths]) {
        try {
          this.iterate(netns);
          namespaces++;
        } catch (e) {
          if (this.stranded !== undefined || !(e instanceof BpfError) || netns === undefined) throw e;
          errors.push({ netns, error: e });
        }
      }
    } finally {
      // Leaving an entry would close later sockets to a backend that came back: a failed
      // delete throws (an absent key is fine).
      if (this.stranded === undefined) for (const key of keys) this.doomed.delete(key);
    }
    return { destroyed: Number(this.destroyedCount() - before), namespaces, errors };
  }

  /**
   * Run both iterators once in `netns` (a namespace file; ours when undefined) and return
   * what they wrote, per program (the shipped programs write nothing; diagnostics, tests).
   */
  iterate(netns?: string): string[] {
    this.check();
    const fds = netns === undefined ? this.createIterators() : this.inNamespace(netns, () => this.createIterators());
    // Back in our own namespace: reading runs the programs over the sockets the iterator
    // captured at creation.
    try {
      return fds.map((fd, i) => drain(fd, SOCKET_ITERATORS[i] ?? 'iterator'));
    } finally {
      for (const fd of fds) libcCalls.close(fd);
    }
  }

  /**
   * The network namespaces of this host's processes other than ours, one
   * `/proc/<pid>/ns/net` per namespace (its lowest pid's): where terminate() must also walk.
   * One read of the task iterator; without it in the object, a /proc scan
   * (listOtherNetworkNamespaces). Needs the host's pid namespace, as the /proc scan does.
   */
  otherNamespaces(): string[] {
    this.check();
    if (this.netnsLink === null) return listOtherNetworkNamespaces();
    const fd = bpf.iterCreate(bpf.linkFd(this.netnsLink));
    if (fd < 0) throw new BpfError({ code: 'BPF_ITER', op: `create iterator ${NETNS_ITERATOR}`, errno: errnoOf(fd) });
    let records: Buffer;
    try {
      records = drainBytes(fd, NETNS_ITERATOR);
    } finally {
      libcCalls.close(fd);
    }
    // One nsfs per kernel: a namespace is its inode (the device is the same for all).
    const processes: ProcessNetns[] = [];
    for (let at = 0; at + NETNS_RECORD_BYTES <= records.length; at += NETNS_RECORD_BYTES) {
      processes.push({ pid: records.readUInt32LE(at), dev: 0n, ino: BigInt(records.readUInt32LE(at + 4)) });
    }
    return distinctNamespaces(processes, { dev: 0n, ino: this.ownNetnsInode });
  }

  /** Sum of bd_counters[CNT_DESTROYED] over all possible CPUs. */
  destroyedCount(): bigint {
    const values = this.counters.lookup(encodeU32Key(COUNTERS.destroyed));
    if (values === undefined) throw new BpfError({ code: 'BPF_ITER', op: 'read bd_counters', map: 'bd_counters' });
    const view = new DataView(values.buffer, values.byteOffset, values.byteLength);
    let sum = 0n;
    for (let at = 0; at + 8 <= values.byteLength; at += 8) sum += view.getBigUint64(at, true);
    return sum;
  }

  /** Detach the iterators and release our fds (the pinned maps stay). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links) bpf.linkDestroy(link);
    if (this.netnsLink !== null) bpf.linkDestroy(this.netnsLink);
    this.object.close();
    this.doomed.close();
    this.counters.close();
    libcCalls.close(this.originalNetns);
  }

  private createIterators(): number[] {
    const fds: number[] = [];
    for (const [i, link] of this.links.entries()) {
      const fd = bpf.iterCreate(bpf.linkFd(link));
      if (fd < 0) {
        const errno = errnoOf(fd);
        for (const f of fds) libcCalls.close(f);
        throw new BpfError({ code: 'BPF_ITER', op: `create iterator ${SOCKET_ITERATORS[i] ?? i}`, errno });
      }
      fds.push(fd);
    }
    return fds;
  }

  /** Run `fn` with this thread in the namespace at `path`; always return to ours. */
  private inNamespace<T>(path: string, fn: () => T): T {
    const target = libcCalls.open(path, O_RDONLY | O_CLOEXEC);
    if (target < 0) throw new BpfError({ code: 'BPF_ITER', op: `open network namespace ${path}`, errno: lastErrno() });
    try {
      if (libcCalls.setns(target, CLONE_NEWNET) < 0) throw new BpfError({ code: 'BPF_ITER', op: `enter network namespace ${path}`, errno: lastErrno() });
    } finally {
      libcCalls.close(target);
    }
    try {
      return fn();
    } finally {
      if (libcCalls.setns(this.originalNetns, CLONE_NEWNET) < 0) {
        this.stranded = new BpfError({ code: 'BPF_ITER', op: `return from network namespace ${path} to our own`, errno: lastErrno() });
        // eslint-disable-next-line no-unsafe-finally -- nothing may go on in the wrong namespace
        throw this.stranded;
      }
    }
  }

  private check(): void {
    if (this.stranded !== undefined) throw this.stranded;
    if (this.closed) throw new Error('SocketTerminator is closed');
  }
}

function notSupported(op: string, e: unknown, log: readonly string[]): BpfError {
  // The first specific line, e.g. "extern (func ksym) 'bpf_sock_destroy': not found in
  // kernel or module BTFs", else the load error's own message.
  const reason = log.find((l) => /not found|unknown func|invalid|not supported|failed/i.test(l))?.replace(/^libbpf: /, '') ?? (e instanceof Error ? e.message : String(e));
  return new BpfError({
    code: 'BPF_NOT_SUPPORTED',
    op,
    ...(e instanceof BpfError && e.errno !== undefined ? { errno: e.errno } : {}),
    detail: `${reason} (closing sockets needs the bpf_sock_destroy kfunc and tcp/udp iterators: Linux 6.5 or later with BTF)`,
    ...(e instanceof BpfError && e.verifierLog !== undefined ? { verifierLog: e.verifierLog } : {}),
    libbpfLog: [...log],
    cause: e,
  });
}

/** Read an iterator fd to EOF (reading runs the program); return what it wrote, as text. */
function drain(fd: number, name: string): string {
  return drainBytes(fd, name).toString('utf8');
}

/** Read an iterator fd to EOF (reading runs the program); return what it wrote. */
function drainBytes(fd: number, name: string): Buffer {
  const chunk = Buffer.alloc(READ_CHUNK);
  const parts: Buffer[] = [];
  let retries = 0;
  for (;;) {
    const n = Number(libcCalls.read(fd, chunk, chunk.length));
    if (n > 0) {
      parts.push(Buffer.from(chunk.subarray(0, n)));
      continue;
    }
    if (n === 0) return Buffer.concat(parts);
    const errno = lastErrno();
    if ((errno === EINTR || errno === EAGAIN) && retries++ < READ_RETRIES) continue;
    throw new BpfError({ code: 'BPF_ITER', op: `read iterator ${name}`, errno });
  }
}
