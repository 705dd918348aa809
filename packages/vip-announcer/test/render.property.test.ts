import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { cidrContains, tryParseIp } from '@balanced/net';
import { AnnouncerConfigError, announcerConfigFromObject, renderBirdConfig, type AnnouncerConfig } from '../src/index.js';
import { BirdSyntaxError } from '../src/bird-syntax.js';
import type { NeighborConfig } from '../src/config.js';
import { announcements, config, rawConfig } from './arbitraries.js';
import { offGrammarLines } from './bird-grammar.js';

function renderedVips(text: string): string[] {
  return [...text.matchAll(/^ {2}route (\S+)\/(?:32|128) blackhole/gm)].map((m) => m[1] as string);
}

describe('renderBirdConfig properties', () => {
  test('exactly the input VIPs that lie inside the CIDRs are rendered, each once', () => {
    fc.assert(
      fc.property(config, announcements, (c, anns) => {
        const want = new Set<string>();
        for (const a of anns) {
          const ip = tryParseIp(a.vip);
          if (ip !== undefined && c.cidrs.some((x) => cidrContains(x, ip))) want.add(ip.text);
        }
        const got = renderedVips(renderBirdConfig(c, anns));
        expect(new Set(got)).toEqual(want);
        expect(got.length).toBe(want.size);
      }),
    );
  });

  test('every community of a rendered VIP is on its route (merged over repeats), and nothing else', () => {
    fc.assert(
      fc.property(config, announcements, (c, anns) => {
        const text = renderBirdConfig(c, anns);
        for (const line of text.split('\n')) {
          const m = /^ {2}route (\S+)\/\d+ blackhole(.*);$/.exec(line);
          if (m === null) continue;
          const vip = m[1] as string;
          const want = new Set(anns.filter((a) => tryParseIp(a.vip)?.text === vip).flatMap((a) => a.communities.map((x) => `(${x.asn},${x.value})`)));
          const got = [...(m[2] ?? '').matchAll(/bgp_community\.add\((\(\d+,\d+\))\)/g)].map((x) => x[1]);
          expect(new Set(got)).toEqual(want);
          expect(got.length).toBe(want.size);
        }
      }),
    );
  });

  test('deterministic: the order of VIPs, communities and neighbors does not matter', () => {
    fc.assert(
      fc.property(config, announcements, fc.nat(), (c, anns, seed) => {
        const shuffle = <T>(list: readonly T[]): T[] => {
          const out = [...list];
          for (let i = out.length - 1; i > 0; i--) {
            const j = (seed * (i + 7)) % (i + 1);
            [out[i], out[j]] = [out[j] as T, out[i] as T];
          }
          return out;
        };
        const shuffled = shuffle(anns).map((a) => ({ ...a, communities: shuffle(a.communities) }));
        const c2: AnnouncerConfig = { ...c, neighbors: shuffle(c.neighbors), cidrs: shuffle(c.cidrs) };
        expect(renderBirdConfig(c2, shuffled)).toBe(renderBirdConfig(c, anns));
      }),
    );
  });

  test('every line of every rendered file has one of the known shapes', () => {
    fc.assert(
      fc.property(config, announcements, (c, anns) => {
        expect(offGrammarLines(renderBirdConfig(c, anns))).toEqual([]);
      }),
    );
  });

  test('no unvalidated string reaches the file: arbitrary text in a config document is refused or harmless', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('"', '\\', '\n', '}; protocol kernel { ipv4 { export all; }; }', 'a"b', '*'));
    fc.assert(
      fc.property(rawConfig, text, fc.constantFrom('name', 'password', 'address', 'sourceAddress', 'bfd.interface', 'outputFile', 'cidr', 'routerId'), (raw, value, where) => {
        const doc = structuredClone(raw) as Record<string, unknown> & { neighbors: Record<string, unknown>[]; bfd: Record<string, unknown>; cidrs: unknown[] };
        const n = doc.neighbors[0] as Record<string, unknown>;
        if (where === 'bfd.interface') doc.bfd.interface = value;
        else if (where === 'outputFile') doc.outputFile = value;
        else if (where === 'cidr') doc.cidrs = [...doc.cidrs, value];
        else if (where === 'routerId') doc.routerId = value;
        else n[where] = value;
        let parsed: AnnouncerConfig;
        try {
          parsed = announcerConfigFromObject(doc);
        } catch (e) {
          expect(e).toBeInstanceOf(AnnouncerConfigError);
          return;
        }
        expect(offGrammarLines(renderBirdConfig(parsed, [{ vip: '10.96.0.1', communities: [] }]))).toEqual([]);
      }),
    );
  });

  test('a config object built by hand (bypassing the parser) is checked again by the renderer', () => {
    const hostile = fc.oneof(fc.string(), fc.constantFrom('x"; }', 'a\\', 'tor 1', 'bad-name', '', 'ok_name'));
    fc.assert(
      fc.property(config, hostile, fc.constantFrom('name', 'password', 'interface'), (c, value, where) => {
        const first = c.neighbors[0] as NeighborConfig;
        const neighbor: NeighborConfig = where === 'name' ? { ...first, name: value } : where === 'password' ? { ...first, password: value } : { ...first, bfd: true };
        const built: AnnouncerConfig = { ...c, neighbors: [neighbor, ...c.neighbors.slice(1)], ...(where === 'interface' ? { bfd: { ...c.bfd, interface: value } } : {}) };
        let text: string;
        try {
          text = renderBirdConfig(built, []);
        } catch (e) {
          expect(e instanceof BirdSyntaxError || e instanceof RangeError).toBe(true);
          return;
        }
        expect(offGrammarLines(text)).toEqual([]);
      }),
    );
  });

  test('a community or VIP that is not one never reaches the file', () => {
    expect(() => renderBirdConfig(announcerConfigFromObject({ localAsn: 1, cidrs: ['10.96.0.0/24'], neighbors: [{ name: 'a', address: '10.0.0.1', asn: 2 }], outputFile: '/a', birdSocket: '/b' }), [{ vip: '10.96.0.1', communities: [{ asn: 65536, value: 1 }] }])).toThrow(BirdSyntaxError);
    const c = announcerConfigFromObject({ localAsn: 1, cidrs: ['10.96.0.0/24'], neighbors: [{ name: 'a', address: '10.0.0.1', asn: 2 }], outputFile: '/a', birdSocket: '/b' });
    expect(renderBirdConfig(c, [{ vip: '10.96.0.1/32 blackhole; route 0.0.0.0/0', communities: [] }])).not.toContain('0.0.0.0');
  });
});
