// koffi bindings to libbpf's low-level map API (libbpf.so.1, libbpf1 1.1.x) and a small
// MapHandle over one map fd: element and batch ops, typed errors, kernel accounting.
//
// libbpf 1.x returns a negative errno from these calls (and sets errno); we use the return
// value. Struct layouts below are those of /usr/include/bpf/bpf.h and linux/bpf.h for this
// libbpf version, on x86-64 (size_t = 8, little-endian).
import { readFileSync } from 'node:fs';
import { BpfError } from './errors.js';
import { bind, libbpf, libc } from './library.js';

type Buf = Uint8Array | null;

const sys = {
  objGet: bind<(path: string) => number>(libbpf, 'int bpf_obj_get(const char *pathname)'),
  lookup: bind<(fd: number, key: Buf, value: Uint8Array) => number>(libbpf, 'int bpf_map_lookup_elem(int fd, const void *key, void *value)'),
  update: bind<(fd: number, key: Uint8Array, value: Uint8Array, flags: bigint) => number>(
    libbpf,
    'int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)',
  ),
  delete: bind<(fd: number, key: Uint8Array) => number>(libbpf, 'int bpf_map_delete_elem(int fd, const void *key)'),
  nextKey: bind<(fd: number, key: Buf, next: Uint8Array) => number>(libbpf, 'int bpf_map_get_next_key(int fd, const void *key, void *next_key)'),
  lookupBatch: bind<(fd: number, inBatch: Buf, outBatch: Uint8Array, keys: Uint8Array, values: Uint8Array, count: Uint32Array, opts: Uint8Array) => number>(
    libbpf,
    'int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, void *count, const void *opts)',
  ),
  updateBatch: bind<(fd: number, keys: Uint8Array, values: Uint8Array, count: Uint32Array, opts: Uint8Array) => number>(
    libbpf,
    'int bpf_map_update_batch(int fd, const void *keys, const void *values, void *count, const void *opts)',
  ),
  deleteBatch: bind<(fd: number, keys: Uint8Array, count: Uint32Array, opts: Uint8Array) => number>(
    libbpf,
    'int bpf_map_delete_batch(int fd, const void *keys, void *count, const void *opts)',
  ),
  create: bind<(type: number, name: string | null, keySize: number, valueSize: number, maxEntries: number, opts: Uint8Array) => number>(
    libbpf,
    'int bpf_map_create(int map_type, const char *map_name, uint32_t key_size, uint32_t value_size, uint32_t max_entries, const void *opts)',
  ),
  fdById: bind<(id: number) => number>(libbpf, 'int bpf_map_get_fd_by_id(uint32_t id)'),
  freeze: bind<(fd: number) => number>(libbpf, 'int bpf_map_freeze(int fd)'),
  infoByFd: bind<(fd: number, info: Uint8Array, len: Uint32Array) => number>(libbpf, 'int bpf_obj_get_info_by_fd(int bpf_fd, void *info, void *info_len)'),
  numPossibleCpus: bind<() => number>(libbpf, 'int libbpf_num_possible_cpus(void)'),
  close: bind<(fd: number) => number>(libc, 'int close(int fd)'),
};

/** linux/bpf.h BPF_F_INNER_MAP (1U << 12): inner maps of one outer map may differ in max_entries. */
export const BPF_F_INNER_MAP = 0x1000;
/** linux/bpf.h BPF_F_NO_PREALLOC. */
export const BPF_F_NO_PREALLOC = 0x1;
/** Update flags (linux/bpf.h). */
export const BPF_ANY = 0n;
export const BPF_NOEXIST = 1n;
export const BPF_EXIST = 2n;

const ENOENT = 2;
const EBUSY = 16;
const EINVAL = 22;
const ENOSPC = 28;
const EOPNOTSUPP = 95;
/** Kernel-internal ENOTSUPP: what BPF_MAP_*_BATCH answers for a map type without batch ops. */
const ENOTSUPP = 524;

/** bpf_map_batch_opts (bpf.h, libbpf 1.1): { size_t sz; u64 elem_flags; u64 flags; } = 24 bytes. */
const BATCH_OPTS_SIZE = 24;
/** bpf_map_create_opts (bpf.h, libbpf 1.1): 48 bytes; inner_map_fd at 24, map_flags at 28. */
const CREATE_OPTS = { size: 48, innerMapFd: 24, mapFlags: 28 } as const;
/** struct bpf_map_info (linux/bpf.h): 88 bytes; we read the first fields and the name. */
const MAP_INFO = { size: 88, type: 0, id: 4, keySize: 8, valueSize: 12, maxEntries: 16, flags: 20, name: 24, nameLen: 16 } as const;

/** One batch call never carries more than this many elements, nor more than MAX_BATCH_BYTES. */
export const MAX_BATCH_ELEMENTS = 4096;
export const MAX_BATCH_BYTES = 1 << 20;

/** What the kernel says about a map (struct bpf_map_info). */
export interface MapInfo {
  readonly type: number;
  readonly id: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
}

export interface CreateMapOptions {
  readonly type: number;
  /** ≤ 15 characters of [A-Za-z0-9_.]. */
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags?: number;
  readonly innerMapFd?: number;
}

/** Outcome of a batch write: elements that failed (by index into the input), the rest applied. */
export interface BatchResult {
  readonly failed: readonly { readonly index: number; readonly error: BpfError }[];
  /** Elements absent on delete (ENOENT), when tolerated. */
  readonly missing: readonly number[];
}

export type Entry = readonly [key: Uint8Array, value: Uint8Array];

/** Possible CPUs (per-CPU map values hold one 8-byte-aligned slot per possible CPU). */
export function possibleCpus(): number {
  const n = sys.numPossibleCpus();
  if (n <= 0) throw new BpfError({ code: 'BPF_MAP_OP', op: 'libbpf_num_possible_cpus', map: '', errno: -n });
  return n;
}

function concat(parts: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(parts.length * size);
  parts.forEach((p, i) => {
    if (p.byteLength !== size) throw new RangeError(`element ${i}: ${p.byteLength} bytes, the map takes ${size}`);
    out.set(p, i * size);
  });
  return out;
}

/** One open map fd. Not thread-safe; close() it (the map lives on while pinned or referenced). */
export class MapHandle {
  /** Mutating syscalls that changed the map (a batch call counts once). */
  writes = 0;
  /** null until the first batch call tells whether this map type supports batch ops. */
  /**
   * Per batch op, null until the first call tells whether this map type supports it: they
   * differ (Linux 6.1 looks up a hash of maps in batches but refuses to update one so: EINVAL).
   */
  readonly batchSupported: Record<'lookup' | 'update' | 'delete', boolean | null> = { lookup: null, update: null, delete: null };
  private open = true;

  private constructor(
    readonly fd: number,
    readonly info: MapInfo,
    /** Name used in errors: the pin path's map name, or the kernel's. */
    readonly label: string,
    /** close() closes the fd (false: the fd belongs to someone else, e.g. a loaded object). */
    private readonly ownsFd = true,
  ) {}

  /** A handle on an fd owned elsewhere (a loaded object's map): close() leaves the fd open. */
  static borrow(fd: number, label: string): MapHandle {
    return new MapHandle(fd, readInfo(fd, label), label, false);
  }

  /** bpf_obj_get of a pinned map. */
  static pinned(path: string, label = path): MapHandle {
    const fd = sys.objGet(path);
    if (fd < 0) throw new BpfError({ code: 'BPF_MAP_OP', op: `bpf_obj_get ${path}`, map: label, errno: -fd });
    return MapHandle.adopt(fd, label);
  }

  /** bpf_map_get_fd_by_id (e.g. an inner map's id read from an outer map). */
  static byId(id: number, label = `map id ${id}`): MapHandle {
    const fd = sys.fdById(id);
    if (fd < 0) throw new BpfError({ code: 'BPF_MAP_OP', op: `bpf_map_get_fd_by_id ${id}`, map: label, errno: -fd });
    return MapHandle.adopt(fd, label);
  }

  /** bpf_map_create with bpf_map_create_opts (map_flags, inner_map_fd). */
  static create(o: CreateMapOptions): MapHandle {
    const opts = new Uint8Array(CREATE_OPTS.size);
    const v = new DataView(opts.buffer);
    v.setBigUint64(0, BigInt(CREATE_OPTS.size), true);
    v.setUint32(CREATE_OPTS.innerMapFd, o.innerMapFd ?? 0, true);
    v.setUint32(CREATE_OPTS.mapFlags, o.flags ?? 0, true);
    const fd = sys.create(o.type, o.name, o.keySize, o.valueSize, o.maxEntries, opts);
    if (fd < 0) {
      throw new BpfError({ code: 'BPF_MAP_OP', op: `bpf_map_create ${o.name}`, map: o.name, errno: -fd, detail: `max_entries ${o.maxEntries}` });
    }
    return MapHandle.adopt(fd, o.name);
  }

  private static adopt(fd: number, label: string): MapHandle {
    try {
      return new MapHandle(fd, readInfo(fd, label), label);
    } catch (e) {
      sys.close(fd);
      throw e;
    }
  }

  /** Bytes of one value as userspace reads it (per-CPU: rounded to 8, times possible CPUs). */
  get valueBytes(): number {
    return this.perCpu ? Math.ceil(this.info.valueSize / 8) * 8 * possibleCpus() : this.info.valueSize;
  }

  private get perCpu(): boolean {
    return [5, 6, 10, 20].includes(this.info.type); // PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH, PERCPU_CGROUP_STORAGE
  }

  private error(op: string, errno: number, detail?: string): BpfError {
    return new BpfError({ code: 'BPF_MAP_OP', op: `${op} ${this.label}`, map: this.label, errno, ...(detail === undefined ? {} : { detail }) });
  }

  /** The value, or undefined when the key is absent. */
  lookup(key: Uint8Array): Uint8Array | undefined {
    const value = new Uint8Array(this.valueBytes);
    const rc = sys.lookup(this.fd, key, value);
    if (rc === -ENOENT) return undefined;
    if (rc < 0) throw this.error('lookup_elem', -rc);
    return value;
  }

  update(key: Uint8Array, value: Uint8Array, flags: bigint = BPF_ANY): void {
    const rc = sys.update(this.fd, key, value, flags);
    if (rc < 0) throw this.error('update_elem', -rc);
    this.writes++;
  }

  /** False when the key was already absent. */
  delete(key: Uint8Array): boolean {
    const rc = sys.delete(this.fd, key);
    if (rc === -ENOENT) return false;
    if (rc < 0) throw this.error('delete_elem', -rc);
    this.writes++;
    return true;
  }

  /** Every key, by bpf_map_get_next_key (one syscall per key). */
  keys(): Uint8Array[] {
    const keys: Uint8Array[] = [];
    let prev: Uint8Array | null = null;
    for (;;) {
      const next = new Uint8Array(this.info.keySize);
      const rc = sys.nextKey(this.fd, prev, next);
      if (rc === -ENOENT) return keys;
      if (rc < 0) throw this.error('get_next_key', -rc);
      keys.push(next);
      prev = next;
    }
  }

  /** Every (key, value): lookup_batch in chunks, or get_next_key + lookup where batch is unsupported. */
  entries(): Entry[] {
    const { keys, values, count } = this.entriesPacked();
    const k = this.info.keySize;
    const vb = this.valueBytes;
    const out: Entry[] = new Array<Entry>(count);
    for (let i = 0; i < count; i++) out[i] = [keys.slice(i * k, (i + 1) * k), values.slice(i * vb, (i + 1) * vb)];
    return out;
  }

  /**
   * {@link entries} back to back: key i at i × keySize of `keys`, its value at i × valueBytes of
   * `values` (two buffers instead of two arrays per entry: a dump reads 10,000 inner maps).
   */
  entriesPacked(): { readonly keys: Uint8Array; readonly values: Uint8Array; readonly count: number } {
    if (this.batchSupported.lookup !== false) {
      const batched = this.lookupAllBatched();
      if (batched !== undefined) return batched;
    }
    const k = this.info.keySize;
    const vb = this.valueBytes;
    const found: Entry[] = [];
    for (const key of this.keys()) {
      const value = this.lookup(key);
      if (value !== undefined) found.push([key, value]); // deleted since get_next_key: skip
    }
    return { keys: concat(found.map((e) => e[0]), k), values: concat(found.map((e) => e[1]), vb), count: found.length };
  }

  private batchElements(valueBytes: number): number {
    return Math.max(1, Math.min(MAX_BATCH_ELEMENTS, Math.floor(MAX_BATCH_BYTES / (this.info.keySize + valueBytes))));
  }

  /** undefined when the kernel has no batch lookup for this map type. */
  private lookupAllBatched(): { keys: Uint8Array; values: Uint8Array; count: number } | undefined {
    const k = this.info.keySize;
    const vb = this.valueBytes;
    // No map holds more than max_entries: a small map (an inner service map: ~34 entries) is
    // read whole by one call (one more than it holds: the call then also sees the end), with no
    // 4096-element buffers (256 KB of values each, 10,000 times over in one dump).
    let count = Math.min(this.batchElements(vb), this.info.maxEntries + 1);
    const opts = batchOpts(0n);
    const token = Math.max(8, k);
    let inBatch: Uint8Array | null = null;
    const parts: { keys: Uint8Array; values: Uint8Array; got: number }[] = [];
    let total = 0;
    for (;;) {
      const outBatch = new Uint8Array(token);
      const keys = new Uint8Array(count * k);
      const values = new Uint8Array(count * vb);
      const n = Uint32Array.of(count);
      const rc = sys.lookupBatch(this.fd, inBatch, outBatch, keys, values, n, opts);
      if (rc < 0 && rc !== -ENOENT) {
        if ((rc === -ENOTSUPP || rc === -EOPNOTSUPP || rc === -EINVAL) && this.batchSupported.lookup === null) {
          this.batchSupported.lookup = false;
          return undefined;
        }
        if (rc === -ENOSPC && (n[0] ?? 0) === 0) {
          count *= 2; // a hash bucket holds more entries than count: retry from the same place
          continue;
        }
        throw this.error('lookup_batch', -rc);
      }
      this.batchSupported.lookup = true;
      const got = n[0] ?? 0;
      if (got > 0) parts.push({ keys, values, got });
      total += got;
      if (rc === -ENOENT) break;
      inBatch = outBatch;
    }
    const only = parts[0];
    if (parts.length === 1 && only !== undefined) return { keys: only.keys.subarray(0, total * k), values: only.values.subarray(0, total * vb), count: total };
    const keys = new Uint8Array(total * k);
    const values = new Uint8Array(total * vb);
    let at = 0;
    for (const p of parts) {
      keys.set(p.keys.subarray(0, p.got * k), at * k);
      values.set(p.values.subarray(0, p.got * vb), at * vb);
      at += p.got;
    }
    return { keys, values, count: total };
  }

  /**
   * Writes many elements, in batch calls of at most MAX_BATCH_ELEMENTS / MAX_BATCH_BYTES.
   * An element the kernel refuses is recorded and the rest are still written (the kernel
   * stops a batch at the first failing element and reports how many it applied).
   */
  updateMany(keys: readonly Uint8Array[], values: readonly Uint8Array[], flags: bigint = BPF_ANY): BatchResult {
    if (keys.length !== values.length) throw new RangeError(`${keys.length} keys, ${values.length} values`);
    return this.updatePacked(concat(keys, this.info.keySize), concat(values, this.valueBytes), flags);
  }

  /**
   * {@link updateMany} of elements already laid out back to back: key i at i × keySize of
   * `keys`, its value at i × valueBytes of `values` (no copy; element indexes as updateMany's).
   */
  updatePacked(keys: Uint8Array, values: Uint8Array, flags: bigint = BPF_ANY): BatchResult {
    const ks = this.info.keySize;
    const vs = this.valueBytes;
    const total = keys.byteLength / ks;
    if (!Number.isInteger(total) || values.byteLength !== total * vs) {
      throw new RangeError(`${keys.byteLength} key bytes, ${values.byteLength} value bytes: the map takes ${ks} + ${vs} per element`);
    }
    return this.writeMany(total, 'update', (start, _count, n) => sys.updateBatch(this.fd, keys.subarray(start * ks), values.subarray(start * vs), n, batchOpts(flags)),
      (i) => sys.update(this.fd, keys.subarray(i * ks, (i + 1) * ks), values.subarray(i * vs, (i + 1) * vs), flags),
      false);
  }

  /** Deletes many keys in batch calls; absent keys (ENOENT) go to `missing`, not `failed`. */
  deleteMany(keys: readonly Uint8Array[]): BatchResult {
    const k = concat(keys, this.info.keySize);
    const ks = this.info.keySize;
    return this.writeMany(keys.length, 'delete', (start, _count, n) => sys.deleteBatch(this.fd, k.subarray(start * ks), n, batchOpts(0n)),
      (i) => sys.delete(this.fd, k.subarray(i * ks, (i + 1) * ks)), true);
  }

  private writeMany(
    total: number,
    what: 'update' | 'delete',
    batch: (start: number, count: number, n: Uint32Array) => number,
    single: (index: number) => number,
    missingOk: boolean,
  ): BatchResult {
    const failed: { index: number; error: BpfError }[] = [];
    const missing: number[] = [];
    const per = this.batchElements(what === 'update' ? this.valueBytes : 0);
    const one = (i: number): void => {
      const rc = single(i);
      if (rc === 0) this.writes++;
      else if (rc === -ENOENT && missingOk) missing.push(i);
      else failed.push({ index: i, error: this.error(`${what}_elem`, -rc, `element ${i}`) });
    };
    let i = 0;
    while (i < total) {
      if (this.batchSupported[what] === false) {
        one(i++);
        continue;
      }
      const count = Math.min(per, total - i);
      const n = Uint32Array.of(count);
      const rc = batch(i, count, n);
      const done = rc === 0 ? count : Math.min(n[0] ?? 0, count);
      if (done > 0) this.writes++;
      if (rc === 0) {
        this.batchSupported[what] = true;
        i += count;
        continue;
      }
      i += done;
      if (done === 0 && this.batchSupported[what] === null && (rc === -ENOTSUPP || rc === -EOPNOTSUPP || rc === -EINVAL)) {
        // Either no batch op for this map type or a bad first element: the element op tells.
        const before = failed.length;
        one(i++);
        if (failed.length === before) this.batchSupported[what] = false;
        continue;
      }
      if (done > 0) this.batchSupported[what] = true;
      if (rc === -ENOENT && missingOk) missing.push(i);
      else failed.push({ index: i, error: this.error(`${what}_batch`, -rc, `element ${i}`) });
      i++;
    }
    return { failed, missing };
  }

  /** Kernel-charged memory of this map: `memlock:` of /proc/self/fdinfo/<fd>, in bytes. */
  memlock(): number {
    const text = readFileSync(`/proc/self/fdinfo/${this.fd}`, 'utf8');
    const m = /^memlock:\s+(\d+)/m.exec(text);
    if (m?.[1] === undefined) throw this.error('fdinfo memlock', 0, 'no memlock line');
    return Number(m[1]);
  }

  /**
   * Makes the map read-only for every syscall from now on (BPF_MAP_FREEZE; programs keep
   * their access). A map frozen already stays so.
   */
  freeze(): void {
    const rc = sys.freeze(this.fd);
    if (rc < 0 && rc !== -EBUSY) throw this.error('freeze', -rc);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    if (this.ownsFd) sys.close(this.fd);
  }
}

function batchOpts(elemFlags: bigint): Uint8Array {
  const opts = new Uint8Array(BATCH_OPTS_SIZE);
  const v = new DataView(opts.buffer);
  v.setBigUint64(0, BigInt(BATCH_OPTS_SIZE), true);
  v.setBigUint64(8, elemFlags, true);
  return opts;
}

function readInfo(fd: number, label: string): MapInfo {
  const buf = new Uint8Array(MAP_INFO.size);
  const len = Uint32Array.of(MAP_INFO.size);
  const rc = sys.infoByFd(fd, buf, len);
  if (rc < 0) throw new BpfError({ code: 'BPF_MAP_OP', op: `bpf_obj_get_info_by_fd ${label}`, map: label, errno: -rc });
  const v = new DataView(buf.buffer);
  const nameBytes = buf.subarray(MAP_INFO.name, MAP_INFO.name + MAP_INFO.nameLen);
  const end = nameBytes.indexOf(0);
  return {
    type: v.getUint32(MAP_INFO.type, true),
    id: v.getUint32(MAP_INFO.id, true),
    keySize: v.getUint32(MAP_INFO.keySize, true),
    valueSize: v.getUint32(MAP_INFO.valueSize, true),
    maxEntries: v.getUint32(MAP_INFO.maxEntries, true),
    flags: v.getUint32(MAP_INFO.flags, true),
    name: new TextDecoder().decode(end < 0 ? nameBytes : nameBytes.subarray(0, end)),
  };
}
