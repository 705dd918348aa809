import { describe, expect, test } from '@jest/globals';
import { AnnouncerConfigError, announcerConfigFromObject, parseAnnouncerConfig } from '../src/index.js';
import { DEFAULT_BFD } from '../src/config.js';
import { expandEnvironment } from '../src/environment.js';

const base = {
  localAsn: 65001,
  cidrs: ['10.96.100.0/24'],
  neighbors: [{ name: 'tor1', address: '10.0.1.1', asn: 65000 }],
  outputFile: '/run/balanced/bird/vips.conf',
  birdSocket: '/run/bird/bird.ctl',
};

function problems(raw: unknown): string[] {
  try {
    announcerConfigFromObject(raw);
  } catch (e) {
    if (e instanceof AnnouncerConfigError) return e.problems.map((p) => p.field);
    throw e;
  }
  return [];
}

describe('parseAnnouncerConfig', () => {
  test('a minimal file: defaults filled in, CIDRs canonical (repeats dropped)', () => {
    const c = parseAnnouncerConfig(
      [
        'localAsn: 65001',
        'cidrs: [10.96.100.0/24, 10.96.100.0/24, "FD96:0::/64"]',
        'neighbors:',
        '  - { name: tor1, address: 10.0.1.1, asn: 65000 }',
        'outputFile: /run/balanced/bird/vips.conf',
        'birdSocket: /run/bird/bird.ctl',
      ].join('\n'),
    );
    expect(c.cidrs.map((x) => x.text)).toEqual(['10.96.100.0/24', 'fd96::/64']);
    expect(c.bfd).toEqual(DEFAULT_BFD);
    expect(c.gracefulRestart).toBe(false);
    expect(c.routerId).toBeUndefined();
    expect(c.birdConfig).toBeUndefined();
    expect(c.neighbors).toEqual([{ name: 'tor1', address: expect.objectContaining({ text: '10.0.1.1' }), asn: 65000, bfd: false }]);
  });

  test('cidrs are optional (the VIP ranges come from the VipPools), and an IPv6 session needs no IPv6 CIDR in the file', () => {
    const { cidrs: _cidrs, ...withoutCidrs } = base;
    expect(announcerConfigFromObject(withoutCidrs).cidrs).toEqual([]);
    expect(announcerConfigFromObject({ ...base, cidrs: [] }).cidrs).toEqual([]);
    const v6 = announcerConfigFromObject({ ...withoutCidrs, neighbors: [{ name: 'v6', address: 'fd00::1', asn: 65000 }] });
    expect(v6.neighbors.map((n) => n.address.text)).toEqual(['fd00::1']);
  });

  test('every neighbor option is read', () => {
    const c = announcerConfigFromObject({
      ...base,
      routerId: '10.0.1.2',
      neighbors: [
        { name: 'tor_1', address: '10.0.1.1', asn: 4200000000, sourceAddress: '10.0.1.2', port: 1179, bfd: true, password: 'x y!', multihop: 2, holdTime: 9, keepaliveTime: 3, connectRetryTime: 1, connectDelayTime: 1, errorWaitTime: { min: 1, max: 5 } },
        { name: 'tor2', address: '10.0.2.1', asn: 65000, multihop: true, holdTime: 0 },
      ],
    });
    expect(c.neighbors[0]).toMatchObject({ name: 'tor_1', asn: 4200000000, port: 1179, bfd: true, password: 'x y!', multihop: 2, holdTime: 9, keepaliveTime: 3, connectRetryTime: 1, connectDelayTime: 1, errorWaitTime: { min: 1, max: 5 } });
    expect(c.neighbors[0]?.sourceAddress?.text).toBe('10.0.1.2');
    expect(c.neighbors[1]).toMatchObject({ multihop: 64, holdTime: 0 });
    expect(c.routerId?.text).toBe('10.0.1.2');
  });

  test.each([
    ['an unknown top-level key', { ...base, localASN: 1 }, ['localASN']],
    ['an unknown neighbor key', { ...base, neighbors: [{ ...base.neighbors[0], passwd: 'x' }] }, ['neighbors[0].passwd']],
    ['cidrs that are not a list', { ...base, cidrs: '10.96.100.0/24' }, ['cidrs']],
    ['a bad CIDR', { ...base, cidrs: ['10.96.100.0/33', 'nonsense'] }, ['cidrs[0]', 'cidrs[1]']],
    ['a CIDR with host bits set (refused, as every CIDR: @balanced/net)', { ...base, cidrs: ['10.96.100.7/24'] }, ['cidrs[0]']],
    ['ASN 0 and too large', { ...base, localAsn: 0, neighbors: [{ ...base.neighbors[0], asn: 4294967296 }] }, ['localAsn', 'neighbors[0].asn']],
    ['a name BIRD cannot hold', { ...base, neighbors: [{ ...base.neighbors[0], name: 'tor-1' }] }, ['neighbors[0].name']],
    ['a name that would inject', { ...base, neighbors: [{ ...base.neighbors[0], name: 'x { }; protocol kernel' }] }, ['neighbors[0].name']],
    ['a password with a quote', { ...base, neighbors: [{ ...base.neighbors[0], password: 'a"; export all; "' }] }, ['neighbors[0].password']],
    ['a password with a backslash', { ...base, neighbors: [{ ...base.neighbors[0], password: 'a\\' }] }, ['neighbors[0].password']],
    ['a password with a newline', { ...base, neighbors: [{ ...base.neighbors[0], password: 'a\nb' }] }, ['neighbors[0].password']],
    ['two neighbors with one name', { ...base, neighbors: [base.neighbors[0], { ...base.neighbors[0], address: '10.0.2.1' }] }, ['neighbors[1].name']],
    ['a source address of the other family', { ...base, neighbors: [{ ...base.neighbors[0], sourceAddress: 'fd00::2' }] }, ['neighbors[0].sourceAddress']],
    ['multihop BFD without a source address', { ...base, neighbors: [{ ...base.neighbors[0], multihop: 2, bfd: true }] }, ['neighbors[0].sourceAddress']],
    ['a hold time BGP forbids', { ...base, neighbors: [{ ...base.neighbors[0], holdTime: 2 }] }, ['neighbors[0].holdTime']],
    ['an IPv6 router id', { ...base, routerId: 'fd00::1' }, ['routerId']],
    ['an error wait time backwards', { ...base, neighbors: [{ ...base.neighbors[0], errorWaitTime: { min: 10, max: 5 } }] }, ['neighbors[0].errorWaitTime']],
    ['an error wait time that is not a mapping', { ...base, neighbors: [{ ...base.neighbors[0], errorWaitTime: 5 }] }, ['neighbors[0].errorWaitTime']],
    ['relative and traversing paths', { ...base, outputFile: 'vips.conf', birdSocket: '/run/../etc/x' }, ['outputFile', 'birdSocket']],
    ['a path with a quote', { ...base, birdConfig: '/etc/bird/"x".conf' }, ['birdConfig']],
    ['the output file is the main config', { ...base, birdConfig: base.outputFile }, ['outputFile']],
    ['a BFD interface pattern that would inject', { ...base, bfd: { interface: '*" { }; protocol kernel { "' } }, ['bfd.interface']],
    ['BFD timers out of range', { ...base, bfd: { minRxMs: 0, multiplier: 256 } }, ['bfd.minRxMs', 'bfd.multiplier']],
  ])('refuses %s, naming the field', (_what, raw, fields) => {
    expect(problems(raw)).toEqual(fields);
  });

  test('not YAML, or not a mapping', () => {
    expect(() => parseAnnouncerConfig('a: [')).toThrow(/not valid YAML/);
    expect(() => parseAnnouncerConfig('- 1')).toThrow(/must be a mapping/);
  });

  test('the error message lists every problem with what to do', () => {
    expect(() => announcerConfigFromObject({ ...base, localAsn: 'x' })).toThrow('invalid vip-announcer config: localAsn: must be an integer 1..4294967295, got "x"');
  });

  test('${NAME} in string values expands from the environment (per-node values in a DaemonSet); the result is validated like the rest', () => {
    const text = [
      'localAsn: 65001',
      '# routerId: ${UNSET_IN_A_COMMENT}',
      'routerId: ${NODE_IP}',
      'cidrs: [10.96.100.0/24]',
      'neighbors: [{ name: tor, address: "${TOR_IP}", asn: 65000, sourceAddress: "${NODE_IP}" }]',
      'outputFile: /run/balanced/bird/vips.conf',
      'birdSocket: /run/bird/bird.ctl',
    ].join('\n');
    const c = parseAnnouncerConfig(text, { NODE_IP: '10.0.1.2', TOR_IP: '10.0.1.1' });
    expect([c.routerId?.text, c.neighbors[0]?.address.text, c.neighbors[0]?.sourceAddress?.text]).toEqual(['10.0.1.2', '10.0.1.1', '10.0.1.2']);
    expect(() => parseAnnouncerConfig(text, { NODE_IP: '10.0.1.2' })).toThrow('neighbors[0].address: ${TOR_IP}: environment variable TOR_IP is not set');
    expect(() => parseAnnouncerConfig(text, { NODE_IP: '10.0.1.2"; }', TOR_IP: '10.0.1.1' })).toThrow(AnnouncerConfigError);
    // without an environment, references stay as they are (and fail validation where they matter)
    expect(() => parseAnnouncerConfig(text)).toThrow(/routerId: must be an IP address, got "\$\{NODE_IP\}"/);
  });

  test('expandEnvironment: $${ is a literal ${, bad names are errors, non-strings untouched', () => {
    expect(expandEnvironment({ a: ['x $${X} ${X}', 7, true], b: { c: '${X}' } }, { X: 'y' })).toEqual({ a: ['x ${X} y', 7, true], b: { c: 'y' } });
    expect(() => expandEnvironment({ a: '${lower}' }, { lower: 'x' })).toThrow('a: ${lower}: an environment variable name is upper case letters, digits and _');
    expect(() => expandEnvironment('${}', {})).toThrow(/upper case/);
  });
});
