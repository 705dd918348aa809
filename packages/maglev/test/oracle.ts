// Deliberately naive reference implementations, written differently from src/ (BigInt
// arithmetic, explicit permutation arrays, the kernel's list-pointer walk), used as oracles.

const M64 = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & M64;

/** SipHash-c-d over bytes with BigInt words, straight from the SipHash paper's description. */
export function naiveSipHash(bytes: Uint8Array, k0: bigint, k1: bigint, c: number, d: number): bigint {
  let v0 = 0x736f6d6570736575n ^ k0;
  let v1 = 0x646f72616e646f6dn ^ k1;
  let v2 = 0x6c7967656e657261n ^ k0;
  let v3 = 0x7465646279746573n ^ k1;
  const round = (): void => {
    v0 = (v0 + v1) & M64; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M64; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & M64; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & M64; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const words = Math.floor(bytes.length / 8);
  for (let w = 0; w <= words; w++) {
    let m = 0n;
    if (w < words) {
      for (let j = 7; j >= 0; j--) m = (m << 8n) | BigInt(bytes[w * 8 + j]!);
    } else {
      m = BigInt(bytes.length & 0xff) << 56n;
      for (let j = bytes.length - 1; j >= w * 8; j--) m |= BigInt(bytes[j]!) << BigInt(8 * (j - w * 8));
    }
    v3 ^= m;
    for (let r = 0; r < c; r++) round();
    v0 ^= m;
  }
  v2 ^= 0xffn;
  for (let r = 0; r < d; r++) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

/** The kernel's hsiphash(&v, 4, key) on x86-64: SipHash-1-3 of v's little-endian bytes, low 32 bits. */
export function naiveHsiphashU32(v: number, key: readonly [bigint, bigint]): number {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, v >>> 0, true);
  return Number(naiveSipHash(bytes, key[0], key[1], 1, 3) & 0xffffffffn);
}

function ipv4Word(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

export interface NaiveDest {
  address: string; // IPv4 only in the oracle
  port: number;
  weight: number;
  lastWeight?: number;
}

const HASH1: [bigint, bigint] = [2654435761n, 2654435761n];
const HASH2: [bigint, bigint] = [2654446892n, 2654446892n];

/**
 * The kernel's reassign for an AF_INET service, transcribed loop for loop: list pointer `p`
 * with a head sentinel, `ds` pointer reset at each outer pass, `dt_count` carried along.
 */
export function naiveKernelTable(dests: NaiveDest[], m: number, tabBits: number): number[] {
  const HEAD = dests.length;
  const nextOf = (p: number): number => (p + 1 < dests.length ? p + 1 : HEAD);
  const lw = dests.map((d) => d.lastWeight ?? d.weight);
  let g = 0;
  for (const w of lw) if (w > 0) g = g > 0 ? gcdOf(w, g) : w;
  const table: number[] = new Array<number>(m).fill(-1);
  if (g < 1) return table;
  let weight = 0;
  for (const w of lw) if (w > weight) weight = w;
  const mw = Math.floor(weight / g);
  const flsMw = mw.toString(2).length;
  const shift = Math.max(0, flsMw - tabBits);
  const ds = dests.map((d, i) => {
    const v = (d.port + ipv4Word(d.address)) >>> 0;
    const offset = naiveHsiphashU32(v, HASH1) % m;
    const skip = (naiveHsiphashU32(v, HASH2) % (m - 1)) + 1;
    const t = Math.floor(lw[i]! / g) >> shift;
    return { offset, skip, perm: offset, turns: t !== 0 ? t : lw[i] !== 0 ? 1 : 0 };
  });
  const bits = new Set<number>();
  let p = HEAD;
  let n = 0;
  let dtCount = 0;
  outer: while (n < m) {
    if (p === HEAD) p = 0; // list_head->next: the first destination
    let k = 0;
    while (p !== HEAD) {
      const s = ds[k]!;
      if (s.turns < 1) {
        p = nextOf(p);
        k++;
        continue;
      }
      let c = s.perm;
      while (bits.has(c)) {
        s.perm += s.skip;
        if (s.perm >= m) s.perm -= m;
        c = s.perm;
      }
      bits.add(c);
      table[c] = p;
      if (++n === m) break outer;
      if (++dtCount >= s.turns) {
        dtCount = 0;
        p = nextOf(p);
        k++;
      }
    }
  }
  return table;
}

/** ip_vs_mh_get / ip_vs_mh_get_fallback for an AF_INET service, transcribed. */
export function naiveKernelSchedule(
  dests: NaiveDest[],
  table: number[],
  fallback: boolean,
  client: string,
  port: number,
): number | null {
  const m = table.length;
  const hashkey = (offset: number): number => naiveHsiphashU32((offset + port + ipv4Word(client)) >>> 0, HASH1);
  const unavailable = (i: number): boolean => dests[i]!.weight <= 0;
  const ihash = hashkey(0) % m;
  const first = table[ihash]!;
  if (!fallback) return first < 0 || unavailable(first) ? null : first;
  if (first < 0) return null;
  if (!unavailable(first)) return first;
  for (let offset = 0; offset < m; offset++) {
    const roffset = (offset + ihash) % m;
    const i = table[hashkey(roffset) % m]!;
    if (i < 0) break;
    if (!unavailable(i)) return i;
  }
  return null;
}

function gcdOf(a: number, b: number): number {
  return b === 0 ? a : gcdOf(b, a % b);
}

/**
 * Weighted Maglev written from the paper's pseudo-code: a full preference list per backend,
 * then turns by weight credit, in id order.
 */
export function naiveWeightedTable(
  backends: { id: string; weight: number }[],
  m: number,
  hash: (id: string) => ArrayLike<number>,
): number[] {
  const sorted = [...backends].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const big = (lo: number, hi: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);
  const prefs = sorted.map((b) => {
    if (b.weight === 0) return [];
    const h = hash(b.id);
    const offset = Number(big(h[0]!, h[1]!) % BigInt(m));
    const skip = Number(big(h[2]!, h[3]!) % BigInt(m - 1)) + 1;
    return Array.from({ length: m }, (_, j) => (offset + j * skip) % m);
  });
  const table: number[] = new Array<number>(m).fill(-1);
  const maxW = Math.max(0, ...sorted.map((b) => b.weight));
  if (maxW === 0) return table;
  const credit = sorted.map(() => 0);
  const nextPref = sorted.map(() => 0);
  let filled = 0;
  while (filled < m) {
    for (let i = 0; i < sorted.length && filled < m; i++) {
      if (sorted[i]!.weight === 0) continue;
      credit[i]! += sorted[i]!.weight;
      if (credit[i]! < maxW) continue;
      credit[i]! -= maxW;
      let c = prefs[i]![nextPref[i]!]!;
      while (table[c] !== -1) c = prefs[i]![++nextPref[i]!]!;
      table[c] = i;
      filled++;
    }
  }
  return table;
}
