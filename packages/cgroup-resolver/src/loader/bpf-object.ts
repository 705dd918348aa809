// One BPF object file opened and loaded by libbpf with our pin root, shared by the two
// loaders (resolver programs, socket iterators). Maps declared LIBBPF_PIN_BY_NAME are
// reused from <pinRoot>/<name> when pinned there, else created and pinned at load.
import { mkdirSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { BpfError } from '../libbpf/errors.js';
import { addressOf, bpf, errnoOf, lastErrno, type NativePointer } from '../libbpf/library.js';

/** statfs f_type of a bpf filesystem. */
export const BPF_FS_MAGIC = 0xcafe4a11;

/** Size of the verifier log buffer handed to libbpf (kernel_log_buf). */
const VERIFIER_LOG_BYTES = 4 * 1024 * 1024;

/**
 * struct bpf_object_open_opts of libbpf 1.1.x (x86-64/arm64 LP64), checked with offsetof
 * against /usr/include/bpf/libbpf.h: sz 0, object_name 8, relaxed_maps 16,
 * pin_root_path 24, (removed attach_prog_fd) 32, kconfig 40, btf_custom_path 48,
 * kernel_log_buf 56, kernel_log_size 64, kernel_log_level 72; sizeof 80.
 */
const OPEN_OPTS = { size: 80, pinRootPath: 24, kernelLogBuf: 56, kernelLogSize: 64, kernelLogLevel: 72 } as const;

/**
 * Make sure `pinRoot` is (or can be created) on a bpf filesystem and create it.
 * BPF_PIN_ROOT when bpffs is not mounted there.
 */
export function ensurePinRoot(pinRoot: string): void {
  const existing = nearestExisting(pinRoot);
  let type: number;
  try {
    type = Number(statfsSync(existing).type);
  } catch (e) {
    throw new BpfError({ code: 'BPF_PIN_ROOT', op: `statfs ${existing}`, detail: String(e), cause: e });
  }
  if (type !== BPF_FS_MAGIC) {
    throw new BpfError({
      code: 'BPF_PIN_ROOT',
      op: `check pin root ${pinRoot}`,
      detail: `${existing} is not on a bpf filesystem (statfs type 0x${type.toString(16)}); mount it first: mount -t bpf bpf /sys/fs/bpf`,
    });
  }
  try {
    mkdirSync(pinRoot, { recursive: true });
  } catch (e) {
    throw new BpfError({ code: 'BPF_PIN_ROOT', op: `create pin root ${pinRoot}`, detail: String(e), cause: e });
  }
}

/** Whether `path` exists and lies on a bpf filesystem. */
export function onBpfFs(path: string): boolean {
  try {
    return Number(statfsSync(path).type) === BPF_FS_MAGIC;
  } catch {
    return false;
  }
}

function nearestExisting(path: string): string {
  let p = path;
  for (;;) {
    try {
      statfsSync(p);
      return p;
    } catch {
      const parent = dirname(p);
      if (parent === p) return p;
      p = parent;
    }
  }
}

/** The message libbpf prints when a pinned map differs from the object's definition. */
const REUSE_MISMATCH = /couldn't reuse pinned map at '([^']+)'/;

/** The verifier's verdict: the last line of its log before the statistics it appends. */
export function verifierReason(log: string): string | undefined {
  const lines = log.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const statistics = /^(verification time|stack depth|processed \d+ insns)/;
  return [...lines].reverse().find((l) => !statistics.test(l));
}

/** A loaded bpf_object. Owns its native handle until {@link BpfObject.close}. */
export class BpfObject {
  private handle: NativePointer | undefined;
  /** Native memory libbpf points into (pin root, verifier log) kept alive while it may. */
  private retained: readonly Buffer[] | undefined;

  private constructor(
    readonly path: string,
    handle: NativePointer,
  ) {
    this.handle = handle;
  }

  /**
   * Open `path` with pin_root_path = `pinRoot` and load it. Must run inside
   * withLibbpfLog (pass its log): errors carry what libbpf printed.
   * BPF_OBJECT_OPEN, BPF_MAP_REUSE (a pinned map's layout changed), BPF_OBJECT_LOAD (with
   * the verifier log when a program was refused).
   */
  static openAndLoad(path: string, pinRoot: string, log: readonly string[]): BpfObject {
    const pinRootC = Buffer.from(`${pinRoot}\0`);
    const verifierLog = Buffer.alloc(VERIFIER_LOG_BYTES);
    const opts = Buffer.alloc(OPEN_OPTS.size);
    opts.writeBigUInt64LE(BigInt(OPEN_OPTS.size), 0);
    opts.writeBigUInt64LE(addressOf(pinRootC), OPEN_OPTS.pinRootPath);
    opts.writeBigUInt64LE(addressOf(verifierLog), OPEN_OPTS.kernelLogBuf);
    opts.writeBigUInt64LE(BigInt(verifierLog.length), OPEN_OPTS.kernelLogSize);
    // kernel_log_level 0: libbpf loads without a log and retries with level 1 into our
    // buffer when the kernel refuses a program, so a success costs nothing.
    opts.writeUInt32LE(0, OPEN_OPTS.kernelLogLevel);

    const handle = bpf.objectOpenFile(path, opts);
    if (handle === null) {
      throw new BpfError({ code: 'BPF_OBJECT_OPEN', op: `open BPF object ${path}`, errno: lastErrno(), libbpfLog: [...log] });
    }
    const object = new BpfObject(path, handle);
    // libbpf holds these addresses until the load is done; the print callback runs JS
    // (and may collect garbage) during it.
    object.retained = [pinRootC, verifierLog, opts];
    const rc = bpf.objectLoad(handle);
    object.retained = undefined;
    if (rc < 0) {
      const errno = errnoOf(rc);
      object.close();
      const end = verifierLog.indexOf(0);
      const kernelLog = verifierLog.toString('utf8', 0, end < 0 ? verifierLog.length : end).trimEnd();
      const reuse = log.map((l) => REUSE_MISMATCH.exec(l)).find((m) => m !== null);
      if (reuse) {
        const pinned = reuse[1] ?? '';
        const map = pinned.slice(pinned.lastIndexOf('/') + 1);
        throw new BpfError({
          code: 'BPF_MAP_REUSE',
          op: `load BPF object ${path}`,
          errno,
          map,
          detail: `the map pinned at ${pinned} has another layout than ${map} in this object (its definition changed between versions); run the agent with --detach, then start it again (resolution is interrupted meanwhile)`,
          libbpfLog: [...log],
        });
      }
      const failed = log.find((l) => /failed|error|not found|invalid|mismatch/i.test(l))?.replace(/^libbpf: /, '');
      const refused = verifierReason(kernelLog);
      const detail = [failed, refused === undefined ? undefined : `verifier: ${refused}`].filter((d) => d !== undefined).join('; ');
      throw new BpfError({
        code: 'BPF_OBJECT_LOAD',
        op: `load BPF object ${path}`,
        errno,
        detail,
        verifierLog: kernelLog,
        libbpfLog: [...log],
      });
    }
    return object;
  }

  /** The program `name`, or undefined when the object has none by that name. */
  findProgram(name: string): NativePointer | undefined {
    return bpf.objectFindProgram(this.native(), name) ?? undefined;
  }

  /** The program named `name`; BPF_PROGRAM_MISSING if the object has none. */
  program(name: string): NativePointer {
    const prog = this.findProgram(name);
    if (prog === undefined) {
      throw new BpfError({ code: 'BPF_PROGRAM_MISSING', op: `find program ${name} in ${this.path}`, detail: 'no program by that name in the object' });
    }
    return prog;
  }

  /** The fd of the object's map `name` (valid until close); BPF_MAP_MISSING if none. */
  mapFd(name: string): number {
    const fd = bpf.objectFindMapFd(this.native(), name);
    if (fd < 0) throw new BpfError({ code: 'BPF_MAP_MISSING', op: `find map ${name} in ${this.path}`, errno: errnoOf(fd) });
    return fd;
  }

  /** Close program and map fds (pinned maps and links stay). Idempotent. */
  close(): void {
    if (this.handle === undefined) return;
    bpf.objectClose(this.handle);
    this.handle = undefined;
  }

  private native(): NativePointer {
    if (this.handle === undefined) throw new Error(`BPF object ${this.path} is closed`);
    return this.handle;
  }
}
