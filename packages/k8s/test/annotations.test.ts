import { describe, expect, it, test } from '@jest/globals';
import fc from 'fast-check';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { ServiceFlags } from '@balanced/ipvs';
import { annotationField, isOurs, parsePodConfig, parseServiceConfig, type ConfigError, type ServiceConfig } from '../src/annotations.js';

function svc(annotations: Record<string, unknown>): V1Service {
  return { metadata: { name: 'web', namespace: 'shop', annotations: annotations as Record<string, string> }, spec: { type: 'LoadBalancer' } };
}

function ok(annotations: Record<string, unknown>): { config: ServiceConfig; warnings: string[] } {
  const r = parseServiceConfig(svc(annotations));
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.errors)}`);
  return r;
}

function errors(annotations: Record<string, unknown>): ConfigError[] {
  const r = parseServiceConfig(svc(annotations));
  if (r.ok) throw new Error(`expected errors, got ${JSON.stringify(r.config)}`);
  return r.errors;
}

const F = (key: string): string => annotationField(key);

describe('parseServiceConfig: defaults', () => {
  it('an unannotated Service gets mh + mh-fallback, IPIP, 30 s', () => {
    const { config, warnings } = ok({});
    expect(config).toEqual({
      scheduler: 'mh',
      schedulerFlags: ['mh-fallback'],
      flags: ServiceFlags.MH_FALLBACK,
      forwarding: 'tunnel',
      guePort: undefined,
      drainSeconds: 30,
      drainSecondsSource: 'default',
      ipPool: undefined,
      ipRequest: [],
      bgpCommunities: [],
    });
    expect(warnings).toEqual([]);
  });

  it('tolerates a missing metadata, annotations of the wrong type, and no Service at all', () => {
    for (const s of [{}, { metadata: {} }, { metadata: { annotations: 'x' } }, { metadata: { annotations: [] } }, null, 7]) {
      const r = parseServiceConfig(s as unknown as V1Service);
      expect(r.ok).toBe(true);
    }
  });

  it('caller defaults apply; mh-fallback is only a default of mh', () => {
    const r = parseServiceConfig(svc({}), { scheduler: 'wrr', forwarding: 'direct', drainSeconds: 5 });
    expect(r.ok && r.config).toMatchObject({ scheduler: 'wrr', schedulerFlags: [], flags: 0, forwarding: 'direct', drainSeconds: 5 });
  });
});

describe('parseServiceConfig: a config without annotations of ours is shared', () => {
  const config = (r: ReturnType<typeof parseServiceConfig>): ServiceConfig => {
    if (!r.ok) throw new Error('refused');
    return r.config;
  };
  it('is one frozen object per defaults, whatever other annotations the Service has', () => {
    const a = config(parseServiceConfig(svc({})));
    expect(config(parseServiceConfig(svc({ 'example.com/other': 'x' })))).toBe(a);
    expect(Object.isFrozen(a) && Object.isFrozen(a.schedulerFlags)).toBe(true);
    expect(config(parseServiceConfig(svc({}), { drainSeconds: 5 }))).not.toBe(a);
    expect(config(parseServiceConfig(svc({}), { drainSeconds: 5 })).drainSeconds).toBe(5);
  });
  it('a Service with an annotation of ours gets its own, even when it equals the default', () => {
    const a = config(parseServiceConfig(svc({})));
    const b = config(parseServiceConfig(svc({ 'balanced.dev/scheduler': 'mh' })));
    expect(b).toEqual(a);
    expect(b).not.toBe(a);
  });
});

describe('parseServiceConfig: valid values', () => {
  test.each<[string, Record<string, string>, Partial<ServiceConfig>]>([
    ['scheduler rr drops the mh default flags', { 'balanced.dev/scheduler': 'rr' }, { scheduler: 'rr', schedulerFlags: [], flags: 0 }],
    ['scheduler is case- and space-insensitive', { 'balanced.dev/scheduler': ' WLC ' }, { scheduler: 'wlc' }],
    ...(['mh', 'rr', 'wrr', 'lc', 'wlc', 'sh', 'dh'] as const).map((s): [string, Record<string, string>, Partial<ServiceConfig>] => [
      `scheduler ${s}`,
      { 'balanced.dev/scheduler': s },
      { scheduler: s },
    ]),
    [
      'flags in any order come out sorted',
      { 'balanced.dev/scheduler-flags': 'mh-fallback, mh-port' },
      { schedulerFlags: ['mh-port', 'mh-fallback'], flags: ServiceFlags.MH_FALLBACK | ServiceFlags.MH_PORT },
    ],
    ['forwarding direct', { 'balanced.dev/forwarding': 'direct' }, { forwarding: 'direct', guePort: undefined }],
    ['forwarding gue with a port', { 'balanced.dev/forwarding': 'gue', 'balanced.dev/gue-port': '5555' }, { forwarding: 'gue', guePort: 5555 }],
    ['drain-seconds 0', { 'balanced.dev/drain-seconds': '0' }, { drainSeconds: 0, drainSecondsSource: 'annotation' }],
    ['drain-seconds 120', { 'balanced.dev/drain-seconds': '120' }, { drainSeconds: 120, drainSecondsSource: 'annotation' }],
    ['ip-pool', { 'balanced.dev/ip-pool': 'public-v4' }, { ipPool: 'public-v4' }],
    [
      'ip-request normalised, order kept',
      { 'balanced.dev/ip-request': '10.0.0.2, FD00::0:1,10.0.0.1' },
      { ipRequest: ['10.0.0.2', 'fd00::1', '10.0.0.1'] },
    ],
    [
      'bgp-communities',
      { 'balanced.dev/bgp-communities': '65000:100, 0:0,65535:65535' },
      {
        bgpCommunities: [
          { asn: 65000, value: 100 },
          { asn: 0, value: 0 },
          { asn: 65535, value: 65535 },
        ],
      },
    ],
    ['BalanceD scheduler alias alone', { 'balanced.demonware.net/ipvs-scheduler': 'rr' }, { scheduler: 'rr' }],
    ['BalanceD ip-pool alias alone', { 'balanced.demonware.net/ip-pool': 'legacy' }, { ipPool: 'legacy' }],
    ['BalanceD ip-request alias alone', { 'balanced.demonware.net/ip-request': '10.1.1.1' }, { ipRequest: ['10.1.1.1'] }],
    [
      'alias and ours agreeing (after normalisation) is fine',
      { 'balanced.dev/scheduler': 'MH', 'balanced.demonware.net/ipvs-scheduler': 'mh' },
      { scheduler: 'mh' },
    ],
    [
      'ip-request alias equal after normalisation',
      { 'balanced.dev/ip-request': 'fd00::1', 'balanced.demonware.net/ip-request': 'fd00:0::1' },
      { ipRequest: ['fd00::1'] },
    ],
  ])('%s', (_name, annotations, expected) => {
    const { config, warnings } = ok(annotations);
    expect(config).toMatchObject(expected);
    expect(warnings).toEqual([]);
  });
});

describe('parseServiceConfig: warnings (accepted)', () => {
  it('flags without mh-fallback: accepted, warns that drains drop packets', () => {
    const { config, warnings } = ok({ 'balanced.dev/scheduler-flags': 'mh-port' });
    expect(config.flags).toBe(ServiceFlags.MH_PORT);
    expect(warnings).toEqual([
      'balanced.dev/scheduler-flags does not include mh-fallback: while a destination drains (weight 0) the packets of ' +
        'clients hashed to it are dropped instead of moving to their next choice; add mh-fallback',
    ]);
  });

  it('an empty flags annotation means no flags (and warns)', () => {
    const { config, warnings } = ok({ 'balanced.dev/scheduler-flags': '' });
    expect(config.schedulerFlags).toEqual([]);
    expect(config.flags).toBe(0);
    expect(warnings).toHaveLength(1);
  });

  it('duplicate flags and duplicate requested IPs are folded, with a warning', () => {
    expect(ok({ 'balanced.dev/scheduler-flags': 'mh-fallback,mh-fallback' }).warnings).toEqual([
      'balanced.dev/scheduler-flags: duplicate flags in "mh-fallback,mh-fallback" were ignored',
    ]);
    const r = ok({ 'balanced.dev/ip-request': '10.0.0.1,10.0.0.1' });
    expect(r.config.ipRequest).toEqual(['10.0.0.1']);
    expect(r.warnings).toEqual(['balanced.dev/ip-request: 10.0.0.1 is listed more than once; the repeat was ignored']);
  });

  it('gue-port without gue forwarding is ignored with a warning', () => {
    const r = ok({ 'balanced.dev/gue-port': '5555' });
    expect(r.config.guePort).toBeUndefined();
    expect(r.warnings).toEqual(['balanced.dev/gue-port is ignored: it applies only to balanced.dev/forwarding: gue (forwarding is tunnel)']);
  });

  it('unknown balanced.dev/ keys (typos) and the pod-only tunnel-ignore warn', () => {
    const r = ok({ 'balanced.dev/schedular': 'rr', 'balanced.dev/tunnel-ignore': 'true', 'other.io/x': 'y' });
    expect(r.config.scheduler).toBe('mh');
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings[0]).toMatch(/^balanced\.dev\/schedular is not a balanced annotation and was ignored; known keys: balanced\.dev\/scheduler, /);
    expect(r.warnings[1]).toBe('balanced.dev/tunnel-ignore is a Pod annotation and has no effect on a Service');
  });
});

describe('parseServiceConfig: invalid values name the field, the value and the fix', () => {
  test.each<[string, Record<string, unknown>, ConfigError]>([
    [
      'unknown scheduler',
      { 'balanced.dev/scheduler': 'maglev' },
      {
        field: F('balanced.dev/scheduler'),
        value: 'maglev',
        reason: 'InvalidScheduler',
        message: 'balanced.dev/scheduler: unknown scheduler "maglev"; use one of mh, rr, wrr, lc, wlc, sh, dh (default mh)',
      },
    ],
    [
      'a kernel scheduler outside the schema',
      { 'balanced.dev/scheduler': 'lblc' },
      {
        field: F('balanced.dev/scheduler'),
        value: 'lblc',
        reason: 'InvalidScheduler',
        message: 'balanced.dev/scheduler: unknown scheduler "lblc"; use one of mh, rr, wrr, lc, wlc, sh, dh (default mh)',
      },
    ],
    [
      'bad BalanceD scheduler names the alias field',
      { 'balanced.demonware.net/ipvs-scheduler': 'xx' },
      {
        field: F('balanced.demonware.net/ipvs-scheduler'),
        value: 'xx',
        reason: 'InvalidScheduler',
        message: 'balanced.demonware.net/ipvs-scheduler: unknown scheduler "xx"; use one of mh, rr, wrr, lc, wlc, sh, dh (default mh)',
      },
    ],
    [
      'non-string annotation value',
      { 'balanced.dev/scheduler': 5 },
      {
        field: F('balanced.dev/scheduler'),
        value: '5',
        reason: 'InvalidScheduler',
        message: 'balanced.dev/scheduler: must be a string, got 5',
      },
    ],
    [
      'unknown flag',
      { 'balanced.dev/scheduler-flags': 'mh-fallback,mh-prot' },
      {
        field: F('balanced.dev/scheduler-flags'),
        value: 'mh-fallback,mh-prot',
        reason: 'InvalidSchedulerFlags',
        message: 'balanced.dev/scheduler-flags: unknown flag "mh-prot"; use a comma list of mh-port, mh-fallback (default mh-fallback)',
      },
    ],
    [
      'flags with a scheduler other than mh',
      { 'balanced.dev/scheduler': 'rr', 'balanced.dev/scheduler-flags': 'mh-port' },
      {
        field: F('balanced.dev/scheduler-flags'),
        value: 'mh-port',
        reason: 'InvalidSchedulerFlags',
        message:
          'balanced.dev/scheduler-flags: flags apply only to the mh scheduler, but the scheduler is rr; ' +
          'remove balanced.dev/scheduler-flags or set balanced.dev/scheduler: mh',
      },
    ],
    [
      'unknown forwarding',
      { 'balanced.dev/forwarding': 'nat' },
      {
        field: F('balanced.dev/forwarding'),
        value: 'nat',
        reason: 'InvalidForwarding',
        message: 'balanced.dev/forwarding: unknown forwarding "nat"; use one of tunnel, gue, direct (default tunnel)',
      },
    ],
    [
      'gue without a port',
      { 'balanced.dev/forwarding': 'gue' },
      {
        field: F('balanced.dev/gue-port'),
        value: '',
        reason: 'InvalidGuePort',
        message:
          "balanced.dev/gue-port: balanced.dev/forwarding: gue needs the backends' GUE UDP port; set balanced.dev/gue-port to an integer 1..65535",
      },
    ],
    ...['0', '65536', 'abc', '1.5', '-1', ''].map((v): [string, Record<string, unknown>, ConfigError] => [
      `gue-port ${JSON.stringify(v)}`,
      { 'balanced.dev/forwarding': 'gue', 'balanced.dev/gue-port': v },
      {
        field: F('balanced.dev/gue-port'),
        value: v,
        reason: 'InvalidGuePort',
        message: `balanced.dev/gue-port: "${v}" is not a UDP port; set an integer 1..65535`,
      },
    ]),
    ...['-1', '1.5', '30s', 'abc', '', '99999999999999999999', '2147483648'].map((v): [string, Record<string, unknown>, ConfigError] => [
      `drain-seconds ${JSON.stringify(v)}`,
      { 'balanced.dev/drain-seconds': v },
      {
        field: F('balanced.dev/drain-seconds'),
        value: v,
        reason: 'InvalidDrainSeconds',
        message: `balanced.dev/drain-seconds: "${v}" is not a whole number of seconds; set a non-negative integer up to 2147483647, e.g. "30"`,
      },
    ]),
    ...['Public_Pool', '-pool', 'pool-', ''].map((v): [string, Record<string, unknown>, ConfigError] => [
      `ip-pool ${JSON.stringify(v)}`,
      { 'balanced.dev/ip-pool': v },
      {
        field: F('balanced.dev/ip-pool'),
        value: v,
        reason: 'InvalidIpPool',
        message: `balanced.dev/ip-pool: "${v}" is not a VipPool name; use a DNS subdomain name (lowercase letters, digits, '-' and '.', at most 253 characters)`,
      },
    ]),
    [
      'ip-request with bad entries lists them all',
      { 'balanced.dev/ip-request': '10.0.0.1, 10.0.0.300, 10.1, fd00::1/128' },
      {
        field: F('balanced.dev/ip-request'),
        value: '10.0.0.1, 10.0.0.300, 10.1, fd00::1/128',
        reason: 'InvalidIpRequest',
        message:
          'balanced.dev/ip-request: "10.0.0.300", "10.1", "fd00::1/128" are not IP addresses; ' +
          'use a comma list of IPv4/IPv6 addresses in preference order, e.g. "10.0.0.10, fd00::10"',
      },
    ],
    [
      'ip-request with one bad entry',
      { 'balanced.demonware.net/ip-request': 'nope' },
      {
        field: F('balanced.demonware.net/ip-request'),
        value: 'nope',
        reason: 'InvalidIpRequest',
        message:
          'balanced.demonware.net/ip-request: "nope" is not an IP address; ' +
          'use a comma list of IPv4/IPv6 addresses in preference order, e.g. "10.0.0.10, fd00::10"',
      },
    ],
    [
      'bgp-communities out of range / malformed',
      { 'balanced.dev/bgp-communities': '65000:100,65536:1,1:70000,no-export,1:2:3' },
      {
        field: F('balanced.dev/bgp-communities'),
        value: '65000:100,65536:1,1:70000,no-export,1:2:3',
        reason: 'InvalidBgpCommunities',
        message:
          'balanced.dev/bgp-communities: "65536:1", "1:70000", "no-export", "1:2:3" are not communities; ' +
          'use a comma list of asn:value with both parts integers 0..65535, e.g. "65000:100"',
      },
    ],
    [
      'scheduler conflicts with its BalanceD alias',
      { 'balanced.dev/scheduler': 'mh', 'balanced.demonware.net/ipvs-scheduler': 'rr' },
      {
        field: F('balanced.dev/scheduler'),
        value: 'mh',
        reason: 'ConflictingAnnotations',
        message:
          'balanced.dev/scheduler: "mh" disagrees with the BalanceD alias balanced.demonware.net/ipvs-scheduler ("rr"); ' +
          'they must agree: remove balanced.demonware.net/ipvs-scheduler (balanced.dev/scheduler is the one balanced reads) or make both equal',
      },
    ],
    [
      'ip-pool conflicts with its BalanceD alias',
      { 'balanced.dev/ip-pool': 'a', 'balanced.demonware.net/ip-pool': 'b' },
      {
        field: F('balanced.dev/ip-pool'),
        value: 'a',
        reason: 'ConflictingAnnotations',
        message:
          'balanced.dev/ip-pool: "a" disagrees with the BalanceD alias balanced.demonware.net/ip-pool ("b"); ' +
          'they must agree: remove balanced.demonware.net/ip-pool (balanced.dev/ip-pool is the one balanced reads) or make both equal',
      },
    ],
    [
      'ip-request conflicts with its BalanceD alias (order matters)',
      { 'balanced.dev/ip-request': '10.0.0.1,10.0.0.2', 'balanced.demonware.net/ip-request': '10.0.0.2,10.0.0.1' },
      {
        field: F('balanced.dev/ip-request'),
        value: '10.0.0.1,10.0.0.2',
        reason: 'ConflictingAnnotations',
        message:
          'balanced.dev/ip-request: "10.0.0.1,10.0.0.2" disagrees with the BalanceD alias balanced.demonware.net/ip-request ("10.0.0.2,10.0.0.1"); ' +
          'they must agree: remove balanced.demonware.net/ip-request (balanced.dev/ip-request is the one balanced reads) or make both equal',
      },
    ],
  ])('%s', (_name, annotations, expected) => {
    expect(errors(annotations)).toEqual([expected]);
  });

  it('reports every problem at once, in schema order', () => {
    const es = errors({
      'balanced.dev/scheduler': 'x',
      'balanced.dev/forwarding': 'y',
      'balanced.dev/drain-seconds': 'z',
      'balanced.dev/bgp-communities': 'w',
    });
    expect(es.map((e) => e.reason)).toEqual(['InvalidScheduler', 'InvalidForwarding', 'InvalidDrainSeconds', 'InvalidBgpCommunities']);
  });

  it('an invalid alias and a valid key: the alias error is reported, no conflict invented', () => {
    const es = errors({ 'balanced.dev/scheduler': 'mh', 'balanced.demonware.net/ipvs-scheduler': 'bogus' });
    expect(es.map((e) => [e.field, e.reason])).toEqual([[F('balanced.demonware.net/ipvs-scheduler'), 'InvalidScheduler']]);
  });

  it('never throws, whatever the annotations hold', () => {
    const keys = fc.constantFrom(
      'balanced.dev/scheduler',
      'balanced.dev/scheduler-flags',
      'balanced.dev/forwarding',
      'balanced.dev/gue-port',
      'balanced.dev/drain-seconds',
      'balanced.dev/ip-pool',
      'balanced.dev/ip-request',
      'balanced.dev/bgp-communities',
      'balanced.demonware.net/ipvs-scheduler',
      'balanced.demonware.net/ip-pool',
      'balanced.demonware.net/ip-request',
      'balanced.dev/other',
      '__proto__',
    );
    fc.assert(
      fc.property(fc.dictionary(keys, fc.oneof(fc.string(), fc.anything())), (annotations) => {
        const r = parseServiceConfig(svc(annotations));
        if (!r.ok) {
          expect(r.errors.length).toBeGreaterThan(0);
          for (const e of r.errors) {
            expect(e.reason).toMatch(/^[A-Z][A-Za-z]+$/);
            expect(e.field).toMatch(/^metadata\.annotations\["/);
          }
        }
      }),
    );
  });
});

describe('isOurs', () => {
  const s = (spec: unknown): V1Service => ({ spec } as V1Service);
  test.each<[string, unknown, boolean, boolean]>([
    ['our class', { type: 'LoadBalancer', loadBalancerClass: 'balanced.dev/ipvs' }, false, true],
    ['our class, default on', { type: 'LoadBalancer', loadBalancerClass: 'balanced.dev/ipvs' }, true, true],
    ['no class, default off', { type: 'LoadBalancer' }, false, false],
    ['no class, default on', { type: 'LoadBalancer' }, true, true],
    ['other class, default on', { type: 'LoadBalancer', loadBalancerClass: 'metallb.io/x' }, true, false],
    ['ClusterIP with our class', { type: 'ClusterIP', loadBalancerClass: 'balanced.dev/ipvs' }, true, false],
    ['no spec', undefined, true, false],
  ])('%s', (_name, spec, defaultClass, expected) => {
    expect(isOurs(s(spec), { defaultClass })).toBe(expected);
  });
});

describe('parsePodConfig', () => {
  const pod = (annotations: Record<string, string>): V1Pod => ({ metadata: { annotations } });
  it('reads tunnel-ignore and its BalanceD alias', () => {
    expect(parsePodConfig(pod({}))).toEqual({ ok: true, warnings: [], config: { tunnelIgnore: false } });
    expect(parsePodConfig(pod({ 'balanced.dev/tunnel-ignore': 'TRUE' }))).toMatchObject({ ok: true, config: { tunnelIgnore: true } });
    expect(parsePodConfig(pod({ 'balanced.demonware.net/tunnel-ignore': 'true' }))).toMatchObject({ ok: true, config: { tunnelIgnore: true } });
  });
  it('rejects a non-boolean and a conflict', () => {
    expect(parsePodConfig(pod({ 'balanced.dev/tunnel-ignore': 'yes' }))).toEqual({
      ok: false,
      errors: [
        {
          field: F('balanced.dev/tunnel-ignore'),
          value: 'yes',
          reason: 'InvalidTunnelIgnore',
          message: 'balanced.dev/tunnel-ignore: "yes" is not a boolean; set "true" or "false"',
        },
      ],
    });
    const r = parsePodConfig(pod({ 'balanced.dev/tunnel-ignore': 'false', 'balanced.demonware.net/tunnel-ignore': 'true' }));
    expect(!r.ok && r.errors.map((e) => e.reason)).toEqual(['ConflictingAnnotations']);
  });
});
