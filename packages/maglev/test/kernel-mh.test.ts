import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { explain, kernelMh, mhHashkey, type MhDestination, type MhService } from '../src/index.js';
import { AddressFamilyMismatchError, InvalidAddressError, InvalidDestinationError, InvalidTabIndexError, TooManyDestinationsError } from '../src/errors.js';
import { MH_HASH1_KEY, MH_HASH2_KEY, destinationKey, kernelMhTable, mhTableSize } from '../src/kernel-mh.js';
import { createHsiphash1u32 } from '../src/siphash.js';
import { naiveHsiphashU32, naiveKernelSchedule, naiveKernelTable } from './oracle.js';

interface GoldenCase {
  service: MhService;
  tabIndex: number;
  gcd: number;
  rshift: number;
  offsets: number[];
  skips: number[];
  turns: number[];
  table: number[];
  explain: { client: string; port: number; index: number | null; fallbackProbes: number | null }[];
}
const golden = JSON.parse(readFileSync(new URL('./fixtures/kernel-mh-m251.json', import.meta.url), 'utf8')) as Record<string, GoldenCase>;

const service = (destinations: MhDestination[], flags: Partial<MhService['schedulerFlags']> = {}): MhService => ({
  af: 'inet',
  schedulerFlags: { mhPort: false, mhFallback: false, ...flags },
  destinations,
});

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
const dests = (min: number, max: number, maxWeight = 10): fc.Arbitrary<MhDestination[]> =>
  fc.uniqueArray(fc.tuple(ipv4, fc.integer({ min: 1, max: 65535 })), {
    minLength: min,
    maxLength: max,
    selector: ([a, p]) => `${a}:${p}`,
  }).chain((list) =>
    fc.tuple(...list.map(([address, port]) => fc.integer({ min: 0, max: maxWeight }).map((weight) => ({ address, port, weight })))),
  );

describe('kernel facts', () => {
  it('table sizes: primes[TAB_INDEX − 8], TAB_INDEX 8..17, default 12 → 4093', () => {
    expect(mhTableSize()).toBe(4093);
    expect(mhTableSize(8)).toBe(251);
    expect(mhTableSize(17)).toBe(131071);
    expect(() => mhTableSize(7)).toThrow(InvalidTabIndexError);
    expect(() => mhTableSize(18)).toThrow(expect.objectContaining({ code: 'MH_INVALID_TAB_INDEX' }));
  });

  it('fixed hsiphash keys from generate_hash_secret (not random)', () => {
    expect(MH_HASH1_KEY).toEqual([2654435761n, 2654435761n]);
    expect(MH_HASH2_KEY).toEqual([2654446892n, 2654446892n]);
  });

  it('ip_vs_mh_hashkey hashes one host-order u32: offset + port + ntohl(addr), little-endian bytes', () => {
    // 10.0.0.1 = 0x0a000001; port 80; offset 7 → v = 0x0a000058.
    const v = 0x0a000001 + 80 + 7;
    expect(mhHashkey('inet', '10.0.0.1', 80, 'hash1', 7)).toBe(naiveHsiphashU32(v, MH_HASH1_KEY));
    expect(mhHashkey('inet', '10.0.0.1', 80, 'hash2', 7)).toBe(naiveHsiphashU32(v, MH_HASH2_KEY));
    // The sum wraps at 2^32.
    expect(mhHashkey('inet', '255.255.255.255', 2, 'hash1')).toBe(createHsiphash1u32(MH_HASH1_KEY)(1));
  });

  it('IPv6 folds the four words with XOR before hashing (service af decides, also for dests)', () => {
    // 2001:db8::1 → 0x20010db8 ^ 0 ^ 0 ^ 1
    expect(mhHashkey('inet6', '2001:db8::1', 443, 'hash1')).toBe(naiveHsiphashU32((0x20010db9 + 443) >>> 0, MH_HASH1_KEY));
    // A v4 destination in an inet6 service folds as its zero-padded words; a v6 one in an inet service uses word 0.
    expect(mhHashkey('inet6', '10.0.0.1', 80, 'hash1')).toBe(mhHashkey('inet', '10.0.0.1', 80, 'hash1'));
    expect(mhHashkey('inet', '2001:db8::1', 80, 'hash1')).toBe(naiveHsiphashU32((0x20010db8 + 80) >>> 0, MH_HASH1_KEY));
  });

  it('weights → turns: gcd, then rshift = fls(max/gcd) − TAB_INDEX/2; max weight 300 makes weights 1–15 one turn', () => {
    const m = kernelMh(
      service([300, 15, 1, 16, 8, 0].map((weight, i) => ({ address: `10.0.0.${i + 1}`, port: 80, weight }))),
    );
    expect(m.gcd).toBe(1);
    expect(m.rshift).toBe(3); // fls(300) = 9, 9 − 6
    expect([...m.turns]).toEqual([37, 1, 1, 2, 1, 0]);
    const g = kernelMh(service([20, 40, 60].map((weight, i) => ({ address: `10.0.0.${i + 1}`, port: 80, weight }))));
    expect([g.gcd, g.rshift, ...g.turns]).toEqual([20, 0, 1, 2, 3]);
    // TAB_INDEX 17 → TAB_BITS 8: max/gcd 300 → fls 9 − 8 = 1.
    const big = service([300, 1].map((weight, i) => ({ address: `10.0.0.${i + 1}`, port: 80, weight })));
    expect(kernelMh(big, { tabIndex: 17 }).rshift).toBe(1);
    expect([...kernelMh(big, { tabIndex: 17 }).turns]).toEqual([150, 1]);
  });

  it('uses last_weight for the table: a drained dest (weight 0) keeps its slots', () => {
    const live = [1, 2, 3].map((w, i) => ({ address: `10.0.0.${i + 1}`, port: 80, weight: w }));
    const drained = live.map((d, i) => (i === 1 ? { ...d, weight: 0, lastWeight: d.weight } : d));
    expect(kernelMhTable(service(drained))).toEqual(kernelMhTable(service(live)));
    // Added with weight 0 (last_weight 0): no turns, no slots.
    const zero = kernelMh(service([...live, { address: '10.0.0.9', port: 80, weight: 0 }]));
    expect(zero.turns[3]).toBe(0);
    expect(zero.table.includes(3)).toBe(false);
  });

  it('rejects what the kernel would not hold', () => {
    expect(() => kernelMh(service([{ address: '10.0.0.1', port: 70000, weight: 1 }]))).toThrow(InvalidDestinationError);
    expect(() => kernelMh(service([{ address: '10.0.0.1', port: 80, weight: -1 }]))).toThrow(InvalidDestinationError);
    expect(() => kernelMh(service([{ address: '10.0.0.1', port: 80, weight: 5, lastWeight: 3 }]))).toThrow(
      expect.objectContaining({ code: 'MH_INVALID_DESTINATION' }),
    );
    expect(() => kernelMh(service([{ address: '10.0.0.256', port: 80, weight: 1 }]))).toThrow(InvalidAddressError);
    const many = Array.from({ length: 252 }, (_, i) => ({ address: `10.0.${i >> 8}.${i & 255}`, port: 80, weight: 1 }));
    expect(() => kernelMh(service(many), { tabIndex: 8 })).toThrow(TooManyDestinationsError);
    expect(kernelMh(service(many.slice(0, 251)), { tabIndex: 8 }).table.every((i) => i >= 0)).toBe(true);
    const svc = service([{ address: '10.0.0.1', port: 80, weight: 1 }]);
    expect(() => explain(svc, '2001:db8::1')).toThrow(AddressFamilyMismatchError);
    expect(() => explain(svc, '10.0.0.1', 65536)).toThrow(InvalidDestinationError);
  });

  it('no destination with last_weight > 0 → empty table, every client dropped', () => {
    const svc = service([{ address: '10.0.0.1', port: 80, weight: 0 }], { mhFallback: true });
    expect(kernelMhTable(svc).every((i) => i === -1)).toBe(true);
    expect(explain(svc, '192.0.2.1')).toBeNull();
    expect(explain(service([]), '192.0.2.1')).toBeNull();
  });
});

describe('golden tables at M = 251 (test/fixtures/kernel-mh-m251.json)', () => {
  it.each(Object.keys(golden))('%s service', (name) => {
    const g = golden[name]!;
    const model = kernelMh(g.service, { tabIndex: g.tabIndex });
    expect(model.tableSize).toBe(251);
    expect([model.gcd, model.rshift]).toEqual([g.gcd, g.rshift]);
    expect([...model.offsets]).toEqual(g.offsets);
    expect([...model.skips]).toEqual(g.skips);
    expect([...model.turns]).toEqual(g.turns);
    expect([...model.table]).toEqual(g.table);
    for (const e of g.explain) {
      const r = model.explain(e.client, e.port);
      expect(r === null ? [null, null] : [r.index, r.fallbackProbes]).toEqual([e.index, e.fallbackProbes]);
    }
  });
});

describe('against a line-by-line transcription of ip_vs_mh.c (BigInt SipHash)', () => {
  it('property: same table as the transcribed populate loop', () => {
    fc.assert(
      fc.property(dests(0, 25, 300), fc.constantFrom(8, 9, 12), (list, tabIndex) => {
        const m = mhTableSize(tabIndex);
        expect([...kernelMhTable(service(list), { tabIndex })]).toEqual(naiveKernelTable(list, m, Math.trunc(tabIndex / 2)));
      }),
      { numRuns: 40 },
    );
  });

  it('property: same scheduling decision (with and without fallback, some dests drained)', () => {
    fc.assert(
      fc.property(dests(1, 12), fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), fc.array(ipv4, { minLength: 5, maxLength: 5 }), fc.boolean(), (list, drain, clients, fallback) => {
        const current = list.map((d, i) => (drain[i] ? { ...d, weight: 0, lastWeight: d.weight } : d));
        const svc = service(current, { mhFallback: fallback });
        const model = kernelMh(svc, { tabIndex: 8 });
        const table = naiveKernelTable(current, 251, 4);
        for (const c of clients) {
          const r = model.explain(c);
          expect(r === null ? null : r.index).toBe(naiveKernelSchedule(current, table, fallback, c, 0));
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('scheduling', () => {
  const ten = Array.from({ length: 10 }, (_, i) => ({ address: `10.2.0.${i + 1}`, port: 8080, weight: 1 }));
  const clients = Array.from({ length: 2000 }, (_, i) => `198.51.${i >> 8}.${i & 255}`);

  it('every slot is filled; equal weights get about M/N slots each', () => {
    const m = kernelMh(service(ten));
    const counts = new Array<number>(10).fill(0);
    for (const i of m.table) counts[i]!++;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(4093);
    for (const c of counts) expect(Math.abs(c - 409.3)).toBeLessThan(3);
  });

  it('the table is order-DEPENDENT: the same dests in reverse order move some clients', () => {
    const a = kernelMh(service(ten));
    const b = kernelMh(service([...ten].reverse()));
    expect(a.table).not.toEqual(b.table);
    const key = (svc: MhDestination[], i: number | undefined): string | undefined => (i === undefined ? undefined : destinationKey(svc[i]!));
    const reversed = [...ten].reverse();
    const moved = clients.filter((c) => key(ten, a.explain(c)?.index) !== key(reversed, b.explain(c)?.index)).length / clients.length;
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(0.2);
  });

  it('property: for random sets of ≥ 3 dests, some order change alters the table', () => {
    let differing = 0;
    fc.assert(
      fc.property(dests(3, 15, 5), (list) => {
        fc.pre(list.filter((d) => d.weight > 0).length >= 3);
        const forward = kernelMhTable(service(list));
        const backward = kernelMhTable(service([...list].reverse()));
        // Same owners after mapping reversed indices back (i ↔ N−1−i)?
        if (!forward.every((v, s) => backward[s] === list.length - 1 - v)) differing++;
      }),
      { numRuns: 40 },
    );
    expect(differing).toBeGreaterThan(0);
  });

  it('without mh-port the client port is ignored; with mh-port it is hashed', () => {
    const plain = kernelMh(service(ten));
    const ported = kernelMh(service(ten, { mhPort: true }));
    for (const c of clients.slice(0, 50)) expect(plain.explain(c, 1234)?.index).toBe(plain.explain(c, 4321)?.index);
    const differs = clients.slice(0, 200).filter((c) => ported.explain(c, 1234)?.index !== ported.explain(c, 4321)?.index).length;
    expect(differs).toBeGreaterThan(100);
    // No port given (ICMP-like) = port 0 = the plain lookup.
    for (const c of clients.slice(0, 50)) expect(ported.explain(c)?.index).toBe(plain.explain(c)?.index);
  });

  it('drain without mh-fallback drops exactly the drained dest\'s clients; with it they move and nobody else does', () => {
    const drained = ten.map((d, i) => (i === 3 ? { ...d, weight: 0, lastWeight: 1 } : d));
    const before = kernelMh(service(ten));
    const noFallback = kernelMh(service(drained));
    const fallback = kernelMh(service(drained, { mhFallback: true }));
    let onDrained = 0;
    for (const c of clients) {
      const was = before.explain(c)!.index;
      if (was === 3) {
        onDrained++;
        expect(noFallback.explain(c)).toBeNull();
        const moved = fallback.explain(c)!;
        expect(moved.index).not.toBe(3);
        expect(moved.fallbackProbes).toBeGreaterThan(0);
      } else {
        expect(noFallback.explain(c)!.index).toBe(was);
        expect(fallback.explain(c)!.index).toBe(was);
      }
    }
    expect(onDrained).toBeGreaterThan(100);
  });

  it('an overloaded dest is unavailable like a weight-0 one', () => {
    const over = ten.map((d, i) => (i === 5 ? { ...d, overloaded: true } : d));
    const m = kernelMh(service(over));
    const base = kernelMh(service(ten));
    for (const c of clients.slice(0, 500)) if (base.explain(c)!.index === 5) expect(m.explain(c)).toBeNull();
  });

  it('fallback with every dest unavailable ends in a drop', () => {
    const all = ten.map((d) => ({ ...d, weight: 0, lastWeight: 1 }));
    expect(explain(service(all, { mhFallback: true }), '192.0.2.1')).toBeNull();
  });

  it('IPv6 service with an IPv4 client is refused; IPv6 clients are scheduled', () => {
    const svc: MhService = {
      af: 'inet6',
      schedulerFlags: { mhPort: false, mhFallback: true },
      destinations: [
        { address: '2001:db8::a', port: 80, weight: 1 },
        { address: '2001:db8::b', port: 80, weight: 1 },
      ],
    };
    expect(explain(svc, '2001:db8:1::1')).toEqual(expect.objectContaining({ destination: expect.objectContaining({ port: 80 }) }));
    expect(() => explain(svc, '192.0.2.1')).toThrow(AddressFamilyMismatchError);
  });
});
