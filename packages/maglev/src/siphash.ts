/**
 * SipHash over 32-bit halves, so it runs on plain numbers with no BigInt in the hot path.
 *
 * Two flavours are used by this package:
 * - SipHash-2-4 (the reference PRF) behind the weighted table's default backend hash;
 * - the Linux kernel's `hsiphash` as built on 64-bit kernels: SipHash with one compression
 *   round and three finalisation rounds (SipHash-1-3) over 64-bit words, truncated to the
 *   low 32 bits of the result. (32-bit kernels use HalfSipHash instead; not modelled.)
 *
 * A 64-bit value is held as (hi, lo) int32 bit patterns; arithmetic is done with `| 0`
 * and the carry of the low half is derived from the operands' top bits.
 */

/** A SipHash key as two little-endian 64-bit words, like the kernel's `key[0]`, `key[1]`. */
export type SipHashKey = readonly [bigint, bigint];

// "somepseudorandomlygeneratedbytes", split into (hi, lo) halves.
const C0H = 0x736f6d65, C0L = 0x70736575;
const C1H = 0x646f7261, C1L = 0x6e646f6d;
const C2H = 0x6c796765, C2L = 0x6e657261;
const C3H = 0x74656462, C3L = 0x79746573;

const U64 = (1n << 64n) - 1n;

/** Key words as int32 patterns: [k0hi, k0lo, k1hi, k1lo]. */
function keyWords(key: SipHashKey): Int32Array {
  const [k0, k1] = key;
  if (typeof k0 !== 'bigint' || typeof k1 !== 'bigint' || k0 < 0n || k1 < 0n || k0 > U64 || k1 > U64) {
    throw new RangeError('a SipHash key is two unsigned 64-bit bigints');
  }
  return Int32Array.of(Number(k0 >> 32n) | 0, Number(k0 & 0xffffffffn) | 0, Number(k1 >> 32n) | 0, Number(k1 & 0xffffffffn) | 0);
}

/**
 * Applies `n` SipRounds to the state `s` = [v0h, v0l, v1h, v1l, v2h, v2l, v3h, v3l].
 * One round: v0+=v1, v1<<<=13, v1^=v0, v0<<<=32; v2+=v3, v3<<<=16, v3^=v2;
 *            v0+=v3, v3<<<=21, v3^=v0; v2+=v1, v1<<<=17, v1^=v2, v2<<<=32.
 */
function sipRounds(s: Int32Array, n: number): void {
  let v0h = s[0]!, v0l = s[1]!, v1h = s[2]!, v1l = s[3]!;
  let v2h = s[4]!, v2l = s[5]!, v3h = s[6]!, v3l = s[7]!;
  let lo: number, t: number;
  for (let r = 0; r < n; r++) {
    // v0 += v1
    lo = (v0l + v1l) | 0;
    v0h = (v0h + v1h + (((v0l & v1l) | ((v0l | v1l) & ~lo)) >>> 31)) | 0;
    v0l = lo;
    // v1 <<<= 13; v1 ^= v0
    t = (v1h << 13) | (v1l >>> 19);
    v1l = ((v1l << 13) | (v1h >>> 19)) ^ v0l;
    v1h = t ^ v0h;
    // v0 <<<= 32
    t = v0h; v0h = v0l; v0l = t;
    // v2 += v3
    lo = (v2l + v3l) | 0;
    v2h = (v2h + v3h + (((v2l & v3l) | ((v2l | v3l) & ~lo)) >>> 31)) | 0;
    v2l = lo;
    // v3 <<<= 16; v3 ^= v2
    t = (v3h << 16) | (v3l >>> 16);
    v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l;
    v3h = t ^ v2h;
    // v0 += v3
    lo = (v0l + v3l) | 0;
    v0h = (v0h + v3h + (((v0l & v3l) | ((v0l | v3l) & ~lo)) >>> 31)) | 0;
    v0l = lo;
    // v3 <<<= 21; v3 ^= v0
    t = (v3h << 21) | (v3l >>> 11);
    v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l;
    v3h = t ^ v0h;
    // v2 += v1
    lo = (v2l + v1l) | 0;
    v2h = (v2h + v1h + (((v2l & v1l) | ((v2l | v1l) & ~lo)) >>> 31)) | 0;
    v2l = lo;
    // v1 <<<= 17; v1 ^= v2
    t = (v1h << 17) | (v1l >>> 15);
    v1l = ((v1l << 17) | (v1h >>> 15)) ^ v2l;
    v1h = t ^ v2h;
    // v2 <<<= 32
    t = v2h; v2h = v2l; v2l = t;
  }
  s[0] = v0h; s[1] = v0l; s[2] = v1h; s[3] = v1l;
  s[4] = v2h; s[5] = v2l; s[6] = v3h; s[7] = v3l;
}

function initState(s: Int32Array, k: Int32Array): void {
  s[0] = C0H ^ k[0]!; s[1] = C0L ^ k[1]!;
  s[2] = C1H ^ k[2]!; s[3] = C1L ^ k[3]!;
  s[4] = C2H ^ k[0]!; s[5] = C2L ^ k[1]!;
  s[6] = C3H ^ k[2]!; s[7] = C3L ^ k[3]!;
}

/** Absorbs the message word (mh, ml) with `c` rounds. */
function absorb(s: Int32Array, mh: number, ml: number, c: number): void {
  s[6] = s[6]! ^ mh; s[7] = s[7]! ^ ml;
  sipRounds(s, c);
  s[0] = s[0]! ^ mh; s[1] = s[1]! ^ ml;
}

/** Runs SipHash-c-d over `data`, leaving the 64-bit result in `out` as [hi, lo] int32 patterns. */
function sipInto(out: Int32Array, s: Int32Array, k: Int32Array, data: Uint8Array, c: number, d: number): void {
  initState(s, k);
  const len = data.length;
  const end = len - (len & 7);
  let i = 0;
  for (; i < end; i += 8) {
    const ml = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    const mh = data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24);
    absorb(s, mh, ml, c);
  }
  // Last block: the remaining 0..7 bytes, little-endian, with (len mod 256) in the top byte.
  let bl = 0;
  let bh = (len & 0xff) << 24;
  for (let j = 0; i + j < len; j++) {
    const byte = data[i + j]!;
    if (j < 4) bl |= byte << (8 * j);
    else bh |= byte << (8 * (j - 4));
  }
  absorb(s, bh, bl, c);
  s[5] = s[5]! ^ 0xff;
  sipRounds(s, d);
  out[0] = s[0]! ^ s[2]! ^ s[4]! ^ s[6]!;
  out[1] = s[1]! ^ s[3]! ^ s[5]! ^ s[7]!;
}

function toBigInt(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** SipHash-c-d of `data` (defaults: the reference SipHash-2-4), as an unsigned 64-bit bigint. */
export function sipHash(data: Uint8Array, key: SipHashKey, rounds: { c: number; d: number } = { c: 2, d: 4 }): bigint {
  const out = new Int32Array(2);
  sipInto(out, new Int32Array(8), keyWords(key), data, rounds.c, rounds.d);
  return toBigInt(out[0]!, out[1]!);
}

/**
 * The kernel's `hsiphash(data, len, key)` on a 64-bit kernel: SipHash-1-3, result truncated
 * to u32. (The kernel dispatches constant lengths 4/8/12/16 to `hsiphash_Nu32`; all paths
 * compute the same function of the bytes.)
 */
export function hsiphash(data: Uint8Array, key: SipHashKey): number {
  const out = new Int32Array(2);
  sipInto(out, new Int32Array(8), keyWords(key), data, 1, 3);
  return out[1]! >>> 0;
}

/**
 * A reusable `hsiphash_1u32(value, key)` for one key: the hash of the four bytes of `value`
 * in little-endian order (what `hsiphash(&v, 4, key)` reads on x86-64). Allocates once, at
 * creation; each call is allocation-free.
 */
export function createHsiphash1u32(key: SipHashKey): (value: number) => number {
  const k = keyWords(key);
  const s = new Int32Array(8);
  return (value: number): number => {
    initState(s, k);
    // len = 4: no full word; b = (4 << 56) | value.
    absorb(s, 0x04000000, value | 0, 1);
    s[5] = s[5]! ^ 0xff;
    sipRounds(s, 3);
    return (s[1]! ^ s[3]! ^ s[5]! ^ s[7]!) >>> 0;
  };
}

/**
 * A reusable SipHash-2-4 for one key, writing the 64-bit result into `out[offset]` (lo) and
 * `out[offset + 1]` (hi) as unsigned words. Used for the weighted table's backend hash.
 */
export function createSipHash24(key: SipHashKey): (data: Uint8Array, out: Uint32Array, offset: number) => void {
  const k = keyWords(key);
  const s = new Int32Array(8);
  const r = new Int32Array(2);
  return (data, out, offset) => {
    sipInto(r, s, k, data, 2, 4);
    out[offset] = r[1]! >>> 0;
    out[offset + 1] = r[0]! >>> 0;
  };
}
