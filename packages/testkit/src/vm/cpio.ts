import { gzipSync } from 'node:zlib';

export interface CpioEntry {
  /** Path inside the archive, without a leading slash ("bin/busybox"). */
  readonly path: string;
  /** "dir" | "file" | "symlink" (symlink data = target) | "chardev" (needs rdev). */
  readonly type: 'dir' | 'file' | 'symlink' | 'chardev';
  readonly mode?: number;
  readonly data?: Buffer;
  /** Device numbers of a chardev. */
  readonly rdev?: { readonly major: number; readonly minor: number };
}

const TYPE_BITS = { dir: 0o040000, file: 0o100000, symlink: 0o120000, chardev: 0o020000 } as const;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function pad4(len: number): Buffer {
  return Buffer.alloc((4 - (len % 4)) % 4);
}

function record(ino: number, name: string, mode: number, nlink: number, data: Buffer, rdev = { major: 0, minor: 0 }): Buffer {
  const nameBytes = Buffer.from(`${name}\0`);
  const header = Buffer.from(
    '070701' +
      [ino, mode, 0, 0, nlink, 0, data.length, 0, 0, rdev.major, rdev.minor, nameBytes.length, 0].map(hex8).join(''),
  );
  const head = Buffer.concat([header, nameBytes]);
  return Buffer.concat([head, pad4(head.length), data, pad4(data.length)]);
}

/** A deterministic "newc" cpio archive (mtime 0, uid/gid 0), as the kernel's initramfs unpacker reads. */
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((e, i) => {
    const perm = e.mode ?? (e.type === 'dir' ? 0o755 : e.type === 'symlink' ? 0o777 : e.type === 'chardev' ? 0o600 : 0o644);
    const data = e.type === 'dir' || e.type === 'chardev' ? Buffer.alloc(0) : (e.data ?? Buffer.alloc(0));
    parts.push(record(i + 1, e.path, TYPE_BITS[e.type] | perm, e.type === 'dir' ? 2 : 1, data, e.rdev));
  });
  parts.push(record(0, 'TRAILER!!!', 0, 1, Buffer.alloc(0)));
  return Buffer.concat(parts);
}

/** gzip-compressed newc archive. */
export function cpioNewcGz(entries: readonly CpioEntry[]): Buffer {
  return gzipSync(cpioNewc(entries), { level: 6 });
}
