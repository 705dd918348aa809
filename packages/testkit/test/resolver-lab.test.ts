import { describe, expect, it } from '@jest/globals';
import {
  assertBelow,
  churnViolations,
  cgroupNetnsArgv,
  formatEndpoint,
  isBpfMounted,
  localAddressArgs,
  parseCgroupProcs,
  parseEndpoint,
  percentile,
  shares,
  summarizeLatencies,
  summarizeTimeline,
  validateListeners,
  type AppliedSet,
  type LoopAttempt,
} from '../src/index.js';

describe('resolver lab: pure helpers', () => {
  it('parses cgroup.procs', () => {
    expect(parseCgroupProcs('12\n345\n\n')).toEqual([12, 345]);
    expect(parseCgroupProcs('')).toEqual([]);
  });

  it('only accepts folders strictly below a root', () => {
    expect(assertBelow('/sys/fs/cgroup/unified', '/sys/fs/cgroup/unified/t-1', 'x')).toBe('/sys/fs/cgroup/unified/t-1');
    expect(() => assertBelow('/sys/fs/cgroup/unified', '/sys/fs/cgroup/unified', 'x')).toThrow(/not a folder below/);
    expect(() => assertBelow('/sys/fs/cgroup/unified', '/sys/fs/cgroup/unified/', 'x')).toThrow(/not a folder below/);
    expect(() => assertBelow('/sys/fs/cgroup/unified', '/sys/fs/cgroup/unified/../cpu', 'x')).toThrow(/not a folder below/);
    expect(() => assertBelow('/sys/fs/bpf', '/sys/fs/bpfx/a', 'x')).toThrow(/not a folder below/);
  });

  it('finds a bpf mount in /proc/mounts', () => {
    const mounts = 'sysfs /sys sysfs rw 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n';
    expect(isBpfMounted(mounts)).toBe(false);
    expect(isBpfMounted(`${mounts}bpf /sys/fs/bpf bpf rw,relatime 0 0\n`)).toBe(true);
    expect(isBpfMounted('none /sys/fs/bpf tmpfs rw 0 0\n')).toBe(false);
  });

  it('joins the cgroup before entering the netns, paths as positional parameters', () => {
    const argv = cgroupNetnsArgv('/sys/fs/cgroup/unified/t 1', 'ns-a', ['node', '-e', 'x; y']);
    expect(argv[0]).toBe('sh');
    expect(argv[2]).toMatch(/cgroup\.procs" && exec nsenter --net="\/run\/netns\/\$ns" -- "\$@"$/);
    expect(argv.slice(3)).toEqual(['sh', '/sys/fs/cgroup/unified/t 1', 'ns-a', 'node', '-e', 'x; y']);
    expect(() => cgroupNetnsArgv('/c', '../x', ['true'])).toThrow(/bad netns/);
    expect(() => cgroupNetnsArgv('/c', 'n', [])).toThrow(/empty/);
  });

  it('adds v4 addresses as /32 and v6 as /128 nodad', () => {
    expect(localAddressArgs('10.200.0.11')).toEqual(['addr', 'add', '10.200.0.11/32', 'dev', 'lo']);
    expect(localAddressArgs('fd00:200::11')).toEqual(['addr', 'add', 'fd00:200::11/128', 'dev', 'lo', 'nodad']);
  });

  it('validates identity listeners', () => {
    expect(validateListeners([{ name: 'b1', address: '10.0.0.1', port: 80 }])).toEqual([{ name: 'b1', address: '10.0.0.1', port: 80, protocol: 'both' }]);
    expect(() => validateListeners([])).toThrow(/no listeners/);
    expect(() => validateListeners([{ name: 'a\nb', address: '10.0.0.1', port: 80 }])).toThrow(/bad name/);
    expect(() => validateListeners([{ name: 'a', address: '10.0.0.1', port: 0 }])).toThrow(/bad port/);
    expect(() =>
      validateListeners([
        { name: 'a', address: '10.0.0.1', port: 80, protocol: 'udp' },
        { name: 'b', address: '10.0.0.1', port: 80 },
      ]),
    ).toThrow(/udp 10.0.0.1 80 given twice/);
    expect(
      validateListeners([
        { name: 'a', address: '10.0.0.1', port: 80, protocol: 'udp' },
        { name: 'b', address: '10.0.0.1', port: 80, protocol: 'tcp' },
      ]),
    ).toHaveLength(2);
  });

  it('parses and formats endpoints', () => {
    expect(parseEndpoint('10.96.0.10:80')).toEqual({ address: '10.96.0.10', port: 80 });
    expect(parseEndpoint('[fd00::a]:53')).toEqual({ address: 'fd00::a', port: 53 });
    expect(formatEndpoint({ address: 'fd00::a', port: 53 })).toBe('[fd00::a]:53');
    expect(formatEndpoint(parseEndpoint('10.0.0.1:1'))).toBe('10.0.0.1:1');
    expect(() => parseEndpoint('fd00::a:53')).toThrow(/bad endpoint/);
    expect(() => parseEndpoint('10.0.0.1:99999')).toThrow(/bad port/);
  });

  it('computes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    const s = summarizeLatencies([1, 2, 3, 4]);
    expect(s).toMatchObject({ count: 4, p50: 2, p99: 4, max: 4, mean: 2.5 });
  });

  it('checks a churn timeline against the sets an attempt could have met, from its start to its end and one after', () => {
    const applied: AppliedSet[] = [[1000, ['a1']], [1010, ['a4', 'b2']], [1020, ['a1', 'a4', 'b2']], [1030, ['a1']], [1040, []], [1050, ['b1']]];
    const at = (t: number, ms: number, rest: { ok: true; backend: string } | { ok: false; error: string }): LoopAttempt => ({ t, ms, ...rest });
    // Within the rules.
    expect(churnViolations([
      at(5, 1, { ok: true, backend: 'a1' }), // a1 live at start
      at(12, 1, { ok: true, backend: 'a1' }), // the next set (seen late) has a1
      at(12, 20, { ok: false, error: 'ECONNABORTED' }), // straddles [a1,a4,b2] → [a1]: a4, b2 removed (the CI case)
      at(35, 2, { ok: false, error: 'ECONNREFUSED' }), // next set is empty
      at(45, 1, { ok: false, error: 'ECONNREFUSED' }), // empty at start
    ], 1000, applied)).toEqual([]);
    // Broken.
    expect(churnViolations([
      at(12, 1, { ok: true, backend: 'b1' }),
      at(12, 1, { ok: false, error: 'ECONNABORTED' }), // [a4,b2] → [a1,a4,b2] removes nothing
      at(12, 1, { ok: false, error: 'ETIMEDOUT' }),
      at(55, 1, { ok: false, error: 'ECONNREFUSED' }),
    ], 1000, applied)).toEqual([
      '12.00 ms: reached b1, in none of [a4,b2] → [a1,a4,b2]',
      '12.00 ms: ECONNABORTED while [a4,b2] → [a1,a4,b2] were live',
      '12.00 ms: ETIMEDOUT while [a4,b2] → [a1,a4,b2] were live',
      '55.00 ms: ECONNREFUSED while [b1] were live',
    ]);
    expect(() => churnViolations([], 0, [])).toThrow(/no applied set/);
  });

  it('summarises a churn timeline', () => {
    const timeline: LoopAttempt[] = [
      { t: 0, ms: 0.5, ok: true, backend: 'b1' },
      { t: 1, ms: 0.5, ok: true, backend: 'b1' },
      { t: 2, ms: 0.5, ok: false, error: 'ECONNREFUSED' },
      { t: 3, ms: 0.5, ok: false, error: 'ECONNREFUSED' },
      { t: 9, ms: 0.5, ok: false, error: 'timeout' },
      { t: 10, ms: 0.5, ok: true, backend: 'b2' },
      { t: 11, ms: 0.5, ok: false, error: 'ECONNRESET' },
      { t: 12, ms: 0.5, ok: true, backend: 'b2' },
    ];
    const s = summarizeTimeline(timeline);
    expect(s).toMatchObject({ attempts: 8, ok: 4, failed: 4, backends: { b1: 2, b2: 2 }, maxGapMs: 6 });
    expect(s.failures).toEqual({ ECONNREFUSED: 2, timeout: 1, ECONNRESET: 1 });
    expect(s.switches).toEqual([{ t: 10, from: 'b1', to: 'b2' }]);
    expect(s.longestOutage).toEqual({ from: 2, to: 9, attempts: 3 });
    expect(summarizeTimeline([]).longestOutage).toBeUndefined();
  });

  it('computes shares', () => {
    expect(shares({ b2: 1, b1: 3 })).toEqual({ b1: 0.75, b2: 0.25 });
    expect(shares({})).toEqual({});
  });
});
