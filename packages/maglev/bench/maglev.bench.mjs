// Maglev vs a consistent-hash ring (npm `consistent-hash`) for N = 1000 backends.
//   npm run bench -w @balanced/maglev      (after `tsc -b`; imports ../dist)
// Prints a comparison table and writes bench/results/maglev.json at the repository root.
// Timings are wall-clock on whatever else the machine is doing: build = median of runs,
// throughput = best of three windows; compare rows of one run, not runs of different days.
//
// Figures per method and table size M:
//   build ms        median wall time to build the structure for N backends
//   Mlookups/s      lookups on precomputed 32-bit hashes (Maglev) / on strings (both)
//   max/mean        structural: Maglev slot counts; ring arc lengths (what a uniform key hash sees)
//   sampled max/mean  the same measured with 1M client keys through each method's own key hash
//   removal         fraction of client keys that change backend when one backend is removed,
//                   and the part of it that moved between survivors (ideal: 1/N and 0)
import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { createMaglev, disruption, kernelMh, quality } from '../dist/index.js';

const require = createRequire(import.meta.url);
const ConsistentHash = require('consistent-hash');

const N = 1000;
const SIZES = [4093, 16381, 65521];
const KEYS = 1_000_000;
const REMOVAL_KEYS = 200_000;
const CILIUM_ANCHOR_MS = { 16381: 8.2 };

function repoRoot() {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).workspaces) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root (package.json with workspaces) not found');
    dir = up;
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeIt(fn, { warmup = 3, runs = 15 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
}

/**
 * Operations per second of `body` (each call does `opsPerCall` operations): the best of three
 * 200 ms windows, since a shared machine only ever makes a window slower.
 */
function rate(body, opsPerCall) {
  body(); // warm up
  let best = 0;
  for (let w = 0; w < 3; w++) {
    let calls = 0;
    const t0 = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < 200) {
      body();
      calls++;
      elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
    }
    best = Math.max(best, (calls * opsPerCall) / (elapsed / 1000));
  }
  return best;
}

// FNV-1a 32 over UTF-16 code units: the key hash used to drive Maglev from strings.
function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// Deterministic pseudo-random 32-bit stream (xorshift32) so every run probes the same keys.
function xorshift(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const backends = Array.from({ length: N }, (_, i) => ({ id: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080`, weight: 1 }));
const rnd = xorshift(0x5eed);
const hashes = Uint32Array.from({ length: KEYS }, () => rnd());
const clientKeys = Array.from({ length: KEYS }, (_, i) => {
  const x = hashes[i];
  return `${(x >>> 24) & 255}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}:${1024 + (i % 60000)}`;
});
const removalKeys = clientKeys.slice(0, REMOVAL_KEYS);
const victim = backends[N >> 1];
const survivors = backends.filter((b) => b !== victim);

function sampledMaxMean(ownerOf, count) {
  const counts = new Map();
  for (let i = 0; i < count; i++) {
    const o = ownerOf(clientKeys[i]);
    counts.set(o, (counts.get(o) ?? 0) + 1);
  }
  return Math.max(...counts.values()) / (count / N);
}

function keyRemoval(before, after) {
  let moved = 0;
  let survivorMoved = 0;
  for (const k of removalKeys) {
    const a = before(k);
    const b = after(k);
    if (a !== b) {
      moved++;
      if (a !== victim.id) survivorMoved++;
    }
  }
  return { moved: moved / removalKeys.length, survivorMoved: survivorMoved / removalKeys.length };
}

const results = [];

// Lookup loops live in plain functions taking the table, so every size runs the same code.
function u32Loop(table) {
  let sink = 0;
  for (let i = 0; i < KEYS; i++) sink = (sink + table.lookup(hashes[i])) | 0;
  return sink;
}
function stringLoop(table) {
  let sink = 0;
  for (let i = 0; i < 200_000; i++) sink = (sink + table.lookup(fnv1a(clientKeys[i]))) | 0;
  return sink;
}

// Warm every size up before timing any, so JIT tiering does not favour later sizes.
const maglevs = SIZES.map((m) => createMaglev({ tableSize: m }));
for (let round = 0; round < 3; round++) for (const mg of maglevs) u32Loop(mg.build(backends));

for (const maglev of maglevs) {
  const m = maglev.tableSize;
  const buildMs = timeIt(() => maglev.build(backends), { warmup: 5, runs: 31 });
  const table = maglev.build(backends);
  const after = maglev.build(survivors);
  const lookupRate = rate(() => u32Loop(table), KEYS);
  const stringRate = rate(() => stringLoop(table), 200_000);
  const q = quality(table, backends);
  const slotRemoval = disruption(table, after);
  const owner = (t) => (k) => t.keys[t.lookup(fnv1a(k))];
  const keyMoves = keyRemoval(owner(table), owner(after));
  results.push({
    method: 'maglev',
    tableSize: m,
    backends: N,
    buildMs,
    ciliumAnchorMs: CILIUM_ANCHOR_MS[m] ?? null,
    lookupsPerSec: lookupRate,
    stringLookupsPerSec: stringRate,
    maxOverMean: q.maxOverMean,
    sampledMaxOverMean: sampledMaxMean(owner(table), KEYS),
    removal: {
      ideal: 1 / N,
      slotsMoved: slotRemoval.fraction,
      slotsMovedBetweenSurvivors: slotRemoval.survivorFraction,
      keysMoved: keyMoves.moved,
      keysMovedBetweenSurvivors: keyMoves.survivorMoved,
    },
    warnings: table.warnings.map((w) => w.code),
  });
}

// The kernel model at the same sizes (TAB_INDEX 12, 14, 16), for reference.
const kernelDests = backends.map((b, i) => ({ address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 8080, weight: 1 }));
const kernelRows = [];
for (const [tabIndex, m] of [[12, 4093], [14, 16381], [16, 65521]]) {
  const svc = { af: 'inet', schedulerFlags: { mhPort: false, mhFallback: true }, destinations: kernelDests };
  const buildMs = timeIt(() => kernelMh(svc, { tabIndex }), { warmup: 2, runs: 9 });
  kernelRows.push({ method: 'kernel-mh model', tableSize: m, tabIndex, backends: N, buildMs });
}

for (const points of [40, 160]) {
  const range = points * N > 90_000 ? 1_000_003 : 100_003;
  const makeRing = (list) => {
    const ring = new ConsistentHash({ weight: points, range });
    for (const b of list) ring.add(b.id);
    ring.get('warm'); // sorts the control points
    return ring;
  };
  const buildMs = timeIt(() => makeRing(backends), { warmup: 2, runs: 9 });
  const ring = makeRing(backends);
  const stringRate = rate(() => {
    let sink = 0;
    for (let i = 0; i < 200_000; i++) sink = (sink + ring.get(clientKeys[i]).length) | 0;
    return sink;
  }, 200_000);
  // Structural share: each control point owns the arc back to the previous point.
  const owners = [];
  for (const b of backends) for (const p of ring.getPoints(b.id)) owners.push([p, b.id]);
  owners.sort((a, b) => a[0] - b[0]);
  const arc = new Map();
  for (let i = 0; i < owners.length; i++) {
    const [p, id] = owners[i];
    const prev = i === 0 ? owners[owners.length - 1][0] - range : owners[i - 1][0];
    arc.set(id, (arc.get(id) ?? 0) + (p - prev));
  }
  // A ring built from the survivors keeps their random control points only if we reuse them.
  const afterRing = new ConsistentHash({ weight: points, range });
  for (const b of survivors) afterRing.add(b.id, points, ring.getPoints(b.id));
  afterRing.get('warm');
  const keyMoves = keyRemoval((k) => ring.get(k), (k) => afterRing.get(k));
  results.push({
    method: `consistent-hash ring (${points} points/node)`,
    tableSize: null,
    backends: N,
    buildMs,
    ciliumAnchorMs: null,
    lookupsPerSec: null,
    stringLookupsPerSec: stringRate,
    maxOverMean: Math.max(...arc.values()) / (range / N),
    sampledMaxOverMean: sampledMaxMean((k) => ring.get(k), KEYS),
    removal: {
      ideal: 1 / N,
      slotsMoved: null,
      slotsMovedBetweenSurvivors: null,
      keysMoved: keyMoves.moved,
      keysMovedBetweenSurvivors: keyMoves.survivorMoved,
    },
    warnings: [],
  });
}

const fmt = (x, d = 2) => (x === null || x === undefined ? '–' : x.toFixed(d));
const pct = (x) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(3)}%`);
const header = ['method', 'M', 'build ms', 'Mlookups/s (u32)', 'Mlookups/s (str)', 'max/mean', 'sampled max/mean', 'removal: keys moved', 'between survivors', 'slots moved'];
const rows = results.map((r) => [
  r.method,
  r.tableSize ?? '–',
  fmt(r.buildMs),
  r.lookupsPerSec === null ? '–' : fmt(r.lookupsPerSec / 1e6, 1),
  fmt(r.stringLookupsPerSec / 1e6, 1),
  fmt(r.maxOverMean, 3),
  fmt(r.sampledMaxOverMean, 3),
  pct(r.removal.keysMoved),
  pct(r.removal.keysMovedBetweenSurvivors),
  pct(r.removal.slotsMoved),
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
const out = [
  `Maglev vs consistent-hash, N = ${N} backends (ideal removal: ${pct(1 / N)}); node ${process.version}`,
  line(header),
  line(widths.map((w) => '-'.repeat(w))),
  ...rows.map(line),
  '',
  `anchor: Cilium builds M=16381, N=1000 in ~${CILIUM_ANCHOR_MS[16381]} ms; ours: ${fmt(results.find((r) => r.tableSize === 16381).buildMs)} ms`,
  `kernel mh model build (N=${N}): ${kernelRows.map((k) => `M=${k.tableSize} ${fmt(k.buildMs)} ms`).join(', ')}`,
];
process.stdout.write(out.join('\n') + '\n');

const file = join(repoRoot(), 'bench', 'results', 'maglev.json');
mkdirSync(dirname(file), { recursive: true });
writeFileSync(
  file,
  JSON.stringify({ benchmark: 'maglev', date: new Date().toISOString(), node: process.version, backends: N, keys: KEYS, results, kernelModel: kernelRows }, null, 2) + '\n',
);
process.stdout.write(`wrote ${file}\n`);
