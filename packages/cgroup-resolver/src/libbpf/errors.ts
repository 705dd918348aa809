import { constants } from 'node:os';

/** Stable codes of {@link BpfError}: match on these, never on the message. */
export type BpfErrorCode =
  /** bpf_object__open_file failed: missing or malformed object file. */
  | 'BPF_OBJECT_OPEN'
  /** bpf_object__load failed (maps, BTF or a program); `verifierLog` holds the kernel's log. */
  | 'BPF_OBJECT_LOAD'
  /** The object has no program by an expected name. */
  | 'BPF_PROGRAM_MISSING'
  /** The object has no map by the asked name. */
  | 'BPF_MAP_MISSING'
  /** The cgroup directory cannot be opened, or a pinned link sits on another cgroup. */
  | 'BPF_CGROUP_OPEN'
  /** bpf_program__attach_cgroup / attach_iter failed. */
  | 'BPF_ATTACH'
  /** A link could not be pinned (or a pinned link could not be opened). */
  | 'BPF_LINK_PIN'
  /** bpf_link__update_program on an adopted link failed. */
  | 'BPF_LINK_UPDATE'
  /** The pin root is not on a bpf filesystem (bpffs not mounted) or cannot be created. */
  | 'BPF_PIN_ROOT'
  /** A map pinned by an earlier version has another layout than this object's. */
  | 'BPF_MAP_REUSE'
  /** Creating or reading a BPF iterator (or entering a network namespace for it) failed. */
  | 'BPF_ITER'
  /** The kernel lacks what the object needs (e.g. bpf_sock_destroy before Linux 6.5). */
  | 'BPF_NOT_SUPPORTED'
  /** A map syscall failed (see `op`, `map` and `errno`). */
  | 'BPF_MAP_OP'
  /** A pinned map's type or key/value size is not what layout.ts declares. */
  | 'BPF_MAP_LAYOUT'
  /** A plan that cannot be applied as given (out of publish order, unknown op). */
  | 'BPF_MAP_PLAN';

export interface BpfErrorOptions {
  readonly code: BpfErrorCode;
  /** What was being done, e.g. `attach balanced_connect4 to /sys/fs/cgroup/unified/x`. */
  readonly op: string;
  /** errno of the failed call (positive), when there was one. */
  readonly errno?: number;
  /** Human detail appended to the message. */
  readonly detail?: string;
  /** The kernel verifier's log (BPF_OBJECT_LOAD). */
  readonly verifierLog?: string;
  /** What libbpf printed during the call (warnings and info, not debug). */
  readonly libbpfLog?: readonly string[];
  /** The map concerned (BPF_MAP_REUSE, BPF_MAP_*). */
  readonly map?: string;
  readonly cause?: unknown;
}

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** Symbolic name of an errno (`EPERM`), or `errno N`. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

/** The one error class of the libbpf layer: everything the loader throws is a BpfError. */
export class BpfError extends Error {
  override readonly name = 'BpfError';
  readonly code: BpfErrorCode;
  readonly op: string;
  readonly errno: number | undefined;
  readonly verifierLog: string | undefined;
  readonly libbpfLog: readonly string[];
  readonly map: string | undefined;

  constructor(options: BpfErrorOptions) {
    const errnoText = options.errno === undefined ? '' : ` (${errnoName(options.errno)})`;
    const detail = options.detail === undefined || options.detail === '' ? '' : `: ${options.detail}`;
    super(`${options.op} failed${errnoText}${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.op = options.op;
    this.errno = options.errno;
    this.verifierLog = options.verifierLog;
    this.libbpfLog = options.libbpfLog ?? [];
    this.map = options.map;
  }
}
