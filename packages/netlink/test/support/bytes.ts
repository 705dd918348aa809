// Small helpers for hand-written byte tables in tests. Netlink headers and most attributes
// are host order; the golden tables in these tests are written for a little-endian host
// (x86-64, arm64), and `describeLE` skips them elsewhere.
import { describe } from '@jest/globals';
import { HOST_LITTLE_ENDIAN } from '../../src/codec/byte-order.js';

export const describeLE = HOST_LITTLE_ENDIAN ? describe : describe.skip;

/** Concatenate byte rows (arrays of numbers or Uint8Arrays) into one Uint8Array. */
export function b(...rows: readonly (readonly number[] | Uint8Array)[]): Uint8Array {
  const total = rows.reduce((n, r) => n + r.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const r of rows) {
    out.set(r, offset);
    offset += r.length;
  }
  return out;
}

/** Little-endian u16 / u32 / u64 as byte rows. */
export const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
export const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
export const le64 = (v: bigint): number[] => Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
/** ASCII text followed by a NUL, as the kernel writes NLA_STRING / NLA_NUL_STRING. */
export const cstr = (s: string): number[] => [...Array.from(s, (c) => c.charCodeAt(0)), 0];
/** n zero bytes. */
export const zeros = (n: number): number[] => new Array<number>(n).fill(0);

/** Hex dump for readable failure messages: "05 00 01 00 ab 00 00 00". */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (x) => x.toString(16).padStart(2, '0')).join(' ');
}
