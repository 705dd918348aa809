// Attaches the resolver's cgroup programs through pinned BPF links, or replaces the
// programs of links an earlier run pinned (resolution never stops across restarts).
//
// Pin layout under the pin root (default /sys/fs/bpf/balanced):
//   <root>/<map name>            maps (LIBBPF_PIN_BY_NAME, libbpf's pin_root_path = root)
//   <root>/links/<program name>  one cgroup link per program
//
// Everything is synchronous: each step is one short syscall through koffi.
import { existsSync, readdirSync, rmdirSync, statfsSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfError } from '../libbpf/errors.js';
import {
  AF_INET,
  bpf,
  errnoOf,
  lastErrno,
  libcCalls,
  O_CLOEXEC,
  O_DIRECTORY,
  O_RDONLY,
  SO_NETNS_COOKIE,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOL_SOCKET,
  withLibbpfLog,
  type NativePointer,
} from '../libbpf/library.js';
import { BpfObject, ensurePinRoot, onBpfFs } from './bpf-object.js';

/** The cgroup sock_addr programs of resolver.bpf.o, in attach order. */
export const RESOLVER_PROGRAMS = [
  'balanced_connect4',
  'balanced_connect6',
  'balanced_sendmsg4',
  'balanced_sendmsg6',
  'balanced_recvmsg4',
  'balanced_recvmsg6',
  'balanced_getpeername4',
  'balanced_getpeername6',
] as const;
export type ResolverProgramName = (typeof RESOLVER_PROGRAMS)[number];

/** Every map pinned by name under the pin root (resolver.bpf.o and sock_destroy.bpf.o). */
export const PINNED_MAPS = [
  'bd_frontends',
  'bd_services',
  'bd_backends',
  'bd_revnat',
  'bd_affinity',
  'bd_doomed',
  'bd_config',
  'bd_counters',
  'bd_events',
] as const;

/** Default pin root. */
export const DEFAULT_PIN_ROOT = '/sys/fs/bpf/balanced';

/** statfs f_type of cgroup v2. */
const CGROUP2_SUPER_MAGIC = 0x63677270;
/** enum bpf_link_type: BPF_LINK_TYPE_CGROUP. */
const BPF_LINK_TYPE_CGROUP = 3;

/** dist/bpf/<file> of this package, from src/loader/ (tests) or dist/loader/ (built). */
export function defaultObjectPath(file: string): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'bpf', file);
}

/** Where program `name`'s link is pinned. */
export function linkPinPath(pinRoot: string, name: string): string {
  return join(pinRoot, 'links', name);
}

/** One attached program, for diagnostics. */
export interface AttachedProgram {
  /** Kernel id of the loaded program (changes on every load). */
  readonly programId: number;
  /** The program's tag (hex), a hash of its instructions: equal tags = same code. */
  readonly tag: string;
  /** Kernel id of its cgroup link (stable while the pin lives). */
  readonly linkId: number;
  /** The link was pinned by an earlier run and its program replaced in place. */
  readonly adopted: boolean;
}

export interface AttachOptions {
  /** bpffs directory for maps and links; created if missing. */
  readonly pinRoot: string;
  /** cgroup v2 directory the programs run for (it and its descendants). */
  readonly cgroupPath: string;
  /** Default: dist/bpf/resolver.bpf.o of this package. */
  readonly objectPath?: string;
}

/**
 * The resolver's programs, loaded and attached (or adopted). `close()` releases our file
 * descriptors; the pinned links and maps keep resolving after it and after the process
 * exits. `detach()` is the uninstall.
 */
export class ResolverPrograms {
  private object: BpfObject | undefined;
  private links: NativePointer[];

  private constructor(
    object: BpfObject,
    links: NativePointer[],
    /** Per program name. */
    readonly programs: ReadonlyMap<ResolverProgramName, AttachedProgram>,
    private readonly cgroupFd: number,
  ) {
    this.object = object;
    this.links = links;
  }

  /** Every program's link was pinned already and its program was replaced in place. */
  get adopted(): boolean {
    return [...this.programs.values()].every((p) => p.adopted);
  }

  /**
   * Load the object (reusing pinned maps, pinning new ones) and attach its 8 programs to
   * `cgroupPath`, or replace the program of each link already pinned at
   * `<pinRoot>/links/<name>` (`bpf_link__update_program`: atomic, no gap in resolution).
   *
   * Throws BpfError: BPF_PIN_ROOT, BPF_CGROUP_OPEN (also: a pinned link on another cgroup),
   * BPF_OBJECT_OPEN, BPF_MAP_REUSE, BPF_OBJECT_LOAD (verifierLog), BPF_PROGRAM_MISSING,
   * BPF_ATTACH, BPF_LINK_PIN, BPF_LINK_UPDATE. On a failure after some links were pinned
   * those stay (the next attach adopts them).
   */
  static attach(options: AttachOptions): ResolverPrograms {
    const objectPath = options.objectPath ?? defaultObjectPath('resolver.bpf.o');
    ensurePinRoot(join(options.pinRoot, 'links'));
    const cgroupFd = openCgroup(options.cgroupPath);
    const links: NativePointer[] = [];
    const held: { object?: BpfObject } = {};
    try {
      return withLibbpfLog((log) => {
        const object = BpfObject.openAndLoad(objectPath, options.pinRoot, log);
        held.object = object;
        const wantedCgroup = cgroupId(options.cgroupPath);
        const programs = new Map<ResolverProgramName, AttachedProgram>();
        for (const name of RESOLVER_PROGRAMS) {
          const prog = object.program(name);
          const pinPath = linkPinPath(options.pinRoot, name);
          const adopted = existsSync(pinPath);
          const link = adopted
            ? adoptLink(pinPath, prog, name, options.cgroupPath, wantedCgroup, log)
            : attachLink(prog, name, cgroupFd, options.cgroupPath, pinPath, log);
          links.push(link);
          const info = programInfo(bpf.programFd(prog), name);
          programs.set(name, { ...info, linkId: linkInfo(bpf.linkFd(link), pinPath).id, adopted });
        }
        return new ResolverPrograms(object, links, programs, cgroupFd);
      });
    } catch (e) {
      for (const link of links) bpf.linkDestroy(link);
      held.object?.close();
      libcCalls.close(cgroupFd);
      throw e;
    }
  }

  /** fd of the pinned map `name` (valid until close). BPF_MAP_MISSING if the object has none. */
  mapFd(name: string): number {
    if (this.object === undefined) throw new Error('ResolverPrograms is closed');
    return this.object.mapFd(name);
  }

  /** Release our fds. Pinned links and maps stay: resolution goes on. Idempotent. */
  close(): void {
    // bpf_link__destroy closes the link fd; a pinned link keeps its program attached.
    for (const link of this.links) bpf.linkDestroy(link);
    this.links = [];
    if (this.object !== undefined) {
      this.object.close();
      libcCalls.close(this.cgroupFd);
      this.object = undefined;
    }
  }

  /**
   * Uninstall: unpin every link (which detaches its program), every map this package pins,
   * then remove `links/` and the pin root if nothing else is left in them. Only names this
   * package uses are removed. Missing pins are fine (idempotent). Returns the paths removed.
   * BPF_PIN_ROOT if `pinRoot` exists but is not on bpffs (nothing is touched then).
   */
  static detach(pinRoot: string): string[] {
    if (!existsSync(pinRoot)) return [];
    if (!onBpfFs(pinRoot)) {
      throw new BpfError({ code: 'BPF_PIN_ROOT', op: `detach ${pinRoot}`, detail: 'not on a bpf filesystem; refusing to remove anything there' });
    }
    const removed: string[] = [];
    const remove = (path: string): void => {
      try {
        unlinkSync(path);
        removed.push(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    };
    for (const name of RESOLVER_PROGRAMS) remove(linkPinPath(pinRoot, name));
    for (const name of PINNED_MAPS) remove(join(pinRoot, name));
    for (const dir of [join(pinRoot, 'links'), pinRoot]) {
      if (existsSync(dir) && readdirSync(dir).length === 0) {
        rmdirSync(dir);
        removed.push(dir);
      }
    }
    return removed;
  }
}

/** cgroup id of a cgroup v2 directory: its inode number (kernfs id on 64-bit kernels). */
export function cgroupId(path: string): bigint {
  return statSync(path, { bigint: true }).ino;
}

/** The network namespace cookie of the calling thread's namespace (SO_NETNS_COOKIE). */
export function hostNetnsCookie(): bigint {
  const fd = libcCalls.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new BpfError({ code: 'BPF_NOT_SUPPORTED', op: 'socket(AF_INET, SOCK_DGRAM)', errno: lastErrno() });
  try {
    const value = Buffer.alloc(8);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(8, 0);
    if (libcCalls.getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, value, len) < 0) {
      throw new BpfError({ code: 'BPF_NOT_SUPPORTED', op: 'getsockopt SO_NETNS_COOKIE', errno: lastErrno(), detail: 'needs Linux 5.14' });
    }
    return value.readBigUInt64LE(0);
  } finally {
    libcCalls.close(fd);
  }
}

function openCgroup(path: string): number {
  let type: number;
  try {
    type = Number(statfsSync(path).type);
  } catch (e) {
    throw new BpfError({ code: 'BPF_CGROUP_OPEN', op: `open cgroup ${path}`, detail: String(e), cause: e });
  }
  if (type !== CGROUP2_SUPER_MAGIC) {
    throw new BpfError({ code: 'BPF_CGROUP_OPEN', op: `open cgroup ${path}`, detail: `not a cgroup v2 directory (statfs type 0x${type.toString(16)})` });
  }
  const fd = libcCalls.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw new BpfError({ code: 'BPF_CGROUP_OPEN', op: `open cgroup ${path}`, errno: lastErrno() });
  return fd;
}

function attachLink(prog: NativePointer, name: string, cgroupFd: number, cgroupPath: string, pinPath: string, log: readonly string[]): NativePointer {
  const link = bpf.programAttachCgroup(prog, cgroupFd);
  if (link === null) {
    throw new BpfError({ code: 'BPF_ATTACH', op: `attach ${name} to ${cgroupPath}`, errno: lastErrno(), libbpfLog: [...log] });
  }
  const rc = bpf.linkPin(link, pinPath);
  if (rc < 0) {
    const errno = errnoOf(rc);
    bpf.linkDestroy(link); // not pinned: this detaches it again
    throw new BpfError({ code: 'BPF_LINK_PIN', op: `pin ${name}'s link at ${pinPath}`, errno, libbpfLog: [...log] });
  }
  return link;
}

function adoptLink(pinPath: string, prog: NativePointer, name: string, cgroupPath: string, wanted: bigint, log: readonly string[]): NativePointer {
  const link = bpf.linkOpen(pinPath);
  if (link === null) {
    throw new BpfError({ code: 'BPF_LINK_PIN', op: `open pinned link ${pinPath}`, errno: lastErrno(), libbpfLog: [...log] });
  }
  try {
    const info = linkInfo(bpf.linkFd(link), pinPath);
    if (info.type !== BPF_LINK_TYPE_CGROUP || info.cgroupId !== wanted) {
      const where = info.type !== BPF_LINK_TYPE_CGROUP ? `is not a cgroup link (type ${info.type})` : info.cgroupId === 0n ? 'belongs to a cgroup that was removed' : `is attached to cgroup id ${info.cgroupId}`;
      throw new BpfError({
        code: 'BPF_CGROUP_OPEN',
        op: `adopt pinned link ${pinPath}`,
        detail: `it ${where}, not ${cgroupPath} (cgroup id ${wanted}); run the agent with --detach for this pin root first, or use another pin root`,
      });
    }
    const rc = bpf.linkUpdateProgram(link, prog);
    if (rc < 0) {
      throw new BpfError({ code: 'BPF_LINK_UPDATE', op: `replace the program of pinned link ${pinPath} with ${name}`, errno: errnoOf(rc), libbpfLog: [...log] });
    }
    return link;
  } catch (e) {
    bpf.linkDestroy(link); // closes our fd only: the pinned link stays
    throw e;
  }
}

interface LinkInfo {
  readonly type: number;
  readonly id: number;
  readonly programId: number;
  /** For cgroup links; 0 once the cgroup is gone. */
  readonly cgroupId: bigint;
}

/** struct bpf_link_info: type 0, id 4, prog_id 8, cgroup.cgroup_id 16, cgroup.attach_type 24. */
function linkInfo(fd: number, what: string): LinkInfo {
  const info = objectInfo(fd, 48, `link info of ${what}`);
  return { type: info.readUInt32LE(0), id: info.readUInt32LE(4), programId: info.readUInt32LE(8), cgroupId: info.readBigUInt64LE(16) };
}

/** struct bpf_prog_info: id 4, tag[8] 8. */
function programInfo(fd: number, name: string): { programId: number; tag: string } {
  const info = objectInfo(fd, 232, `program info of ${name}`);
  return { programId: info.readUInt32LE(4), tag: info.toString('hex', 8, 16) };
}

function objectInfo(fd: number, size: number, op: string): Buffer {
  const info = Buffer.alloc(size);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(size, 0);
  const rc = bpf.objGetInfoByFd(fd, info, len);
  if (rc < 0) throw new BpfError({ code: 'BPF_ATTACH', op, errno: errnoOf(rc) });
  return info;
}
