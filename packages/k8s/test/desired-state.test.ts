import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { ServiceFlags, serviceKeyString } from '@balanced/ipvs';
import { buildDesired, canonicalCompare, type DesiredInput, type DesiredService, type DesiredState } from '../src/desired-state.js';
import { ownsAll, pod, service, slice } from './fixtures.js';

function build(partial: Partial<DesiredInput>): DesiredState {
  return buildDesired({ services: [], endpointSlices: [], ownsVip: ownsAll, defaultClass: false, ...partial });
}

function only(state: DesiredState): DesiredService {
  expect(state.services).toHaveLength(1);
  return state.services[0] as DesiredService;
}

const weights = (s: DesiredService): Record<string, number> => Object.fromEntries(s.destinations.map((d) => [d.address, d.weight]));
const keys = (state: DesiredState): string[] => state.services.map((s) => serviceKeyString(s.key));

describe('buildDesired: the example Services (example/services.yaml)', () => {
  const docs = parseAllDocuments(readFileSync(new URL('../../../example/services.yaml', import.meta.url), 'utf8')).map(
    (d) => d.toJS() as { kind: string },
  );
  const state = build({
    services: docs.filter((d) => d.kind === 'Service') as V1Service[],
    endpointSlices: docs.filter((d) => d.kind === 'EndpointSlice') as V1EndpointSlice[],
  });

  it('yields one IPVS service per VIP × port, sorted by key', () => {
    expect(keys(state)).toEqual([
      'tcp/10.96.100.10:443',
      'tcp/10.96.100.10:80',
      'tcp/10.96.100.20:9000',
      'tcp/10.96.100.53:53',
      'udp/10.96.100.53:53',
    ]);
    expect(state.refusals).toEqual([]);
    expect(state.warnings).toEqual([]);
  });

  it('web: mh + mh-fallback over IPIP; the terminating pod is drained but keeps its last weight', () => {
    const web = state.services[1] as DesiredService;
    expect(web).toEqual({
      source: { namespace: 'shop', name: 'web' },
      key: { protocol: 'tcp', address: '10.96.100.10', port: 80 },
      portName: 'http',
      spec: { key: { protocol: 'tcp', address: '10.96.100.10', port: 80 }, scheduler: 'mh', flags: ServiceFlags.MH_FALLBACK },
      destinations: [
        { address: '10.244.1.11', port: 80, forwarding: 'tunnel', weight: 1, lastWeight: 1, tunnel: { type: 'ipip' } },
        { address: '10.244.1.12', port: 80, forwarding: 'tunnel', weight: 1, lastWeight: 1, tunnel: { type: 'ipip' } },
        { address: '10.244.2.13', port: 80, forwarding: 'tunnel', weight: 1, lastWeight: 1, tunnel: { type: 'ipip' } },
        { address: '10.244.2.14', port: 80, forwarding: 'tunnel', weight: 0, lastWeight: 1, tunnel: { type: 'ipip' } },
      ],
      drainSeconds: 30,
      config: web.config,
    });
  });

  it('dns: mh-port and mh-fallback on both protocols', () => {
    for (const s of state.services.filter((s) => s.source.name === 'dns')) {
      expect(s.spec.flags).toBe(ServiceFlags.MH_FALLBACK | ServiceFlags.MH_PORT);
      expect(s.destinations.map((d) => d.address)).toEqual(['10.244.1.21', '10.244.3.22']);
    }
  });
});

describe('buildDesired: endpoint conditions', () => {
  it('ready → 1; ready unset → 1; not ready → 0; serving+terminating → 0; terminating without serving → 0', () => {
    const s = only(
      build({
        services: [service('web')],
        endpointSlices: [
          slice('web-1', 'web', [
            { ip: '10.0.1.1', ready: true, serving: true, terminating: false },
            { ip: '10.0.1.2' },
            { ip: '10.0.1.3', ready: false, serving: false, terminating: false },
            { ip: '10.0.1.4', ready: false, serving: true, terminating: true },
            { ip: '10.0.1.5', ready: false, serving: false, terminating: true },
            { ip: '10.0.1.6', ready: true, serving: true, terminating: true }, // publishNotReadyAddresses
          ]),
        ],
      }),
    );
    expect(weights(s)).toEqual({ '10.0.1.1': 1, '10.0.1.2': 1, '10.0.1.3': 0, '10.0.1.4': 0, '10.0.1.5': 0, '10.0.1.6': 0 });
    expect(s.destinations.every((d) => d.lastWeight === 1)).toBe(true);
  });

  it('a Service with no ready endpoints is kept, every destination drained', () => {
    const s = only(
      build({
        services: [service('web')],
        endpointSlices: [slice('web-1', 'web', [{ ip: '10.0.1.2', ready: false }, { ip: '10.0.1.1', terminating: true, serving: true, ready: false }])],
      }),
    );
    expect(s.destinations.map((d) => [d.address, d.weight, d.lastWeight])).toEqual([
      ['10.0.1.1', 0, 1],
      ['10.0.1.2', 0, 1],
    ]);
  });

  it('a Service with no EndpointSlice at all is kept with no destinations', () => {
    expect(only(build({ services: [service('web')] })).destinations).toEqual([]);
  });

  it('an address in two slices is merged: ready wins, whichever slice comes first', () => {
    const a = slice('web-a', 'web', [{ ip: '10.0.1.1', ready: false, terminating: true, pod: 'old' }]);
    const b = slice('web-b', 'web', [{ ip: '10.0.1.1', ready: true, pod: 'new' }, { ip: '10.0.1.2' }]);
    for (const endpointSlices of [
      [a, b],
      [b, a],
    ]) {
      const s = only(build({ services: [service('web')], endpointSlices }));
      // (weight 1: the ready endpoint, pod 'new', won over the terminating one)
      expect(s.destinations.map((d) => [d.address, d.weight])).toEqual([
        ['10.0.1.1', 1],
        ['10.0.1.2', 1],
      ]);
    }
  });

  it('only the first address of an endpoint is used (the API says they are fungible)', () => {
    const sl = slice('web-1', 'web', [{ ip: '10.0.1.1' }]);
    (sl.endpoints?.[0]?.addresses as string[]).push('10.0.1.9');
    expect(only(build({ services: [service('web')], endpointSlices: [sl] })).destinations.map((d) => d.address)).toEqual(['10.0.1.1']);
  });
});

describe('buildDesired: ports', () => {
  it('picks the slice port by the Service port name', () => {
    const state = build({
      services: [
        service('web', {
          ports: [
            { name: 'http', port: 80 },
            { name: 'https', port: 443 },
          ],
        }),
      ],
      endpointSlices: [
        slice('web-1', 'web', [{ ip: '10.0.1.1' }], {
          ports: [
            { name: 'metrics', port: 9090 },
            { name: 'https', port: 443 },
            { name: 'http', port: 80 },
          ],
        }),
      ],
    });
    expect(state.services.map((s) => [s.portName, s.key.port, s.destinations.map((d) => d.port)])).toEqual([
      ['https', 443, [443]],
      ['http', 80, [80]],
    ]);
  });

  it('an unnamed single port matches the slice\'s unnamed ("") port', () => {
    const s = only(
      build({ services: [service('web', { ports: [{ port: 80 }] })], endpointSlices: [slice('w', 'web', [{ ip: '10.0.1.1' }], { ports: [{ name: '', port: 80 }] })] }),
    );
    expect(s.portName).toBe('');
    expect(s.destinations).toHaveLength(1);
  });

  it('a port that resolves to a different number is refused; the other port is still programmed', () => {
    const state = build({
      services: [
        service('web', {
          ports: [
            { name: 'http', port: 80 },
            { name: 'https', port: 443 },
          ],
        }),
      ],
      endpointSlices: [
        slice('web-1', 'web', [{ ip: '10.0.1.1' }], {
          ports: [
            { name: 'http', port: 8080 },
            { name: 'https', port: 443 },
          ],
        }),
      ],
    });
    expect(keys(state)).toEqual(['tcp/10.96.0.10:443']);
    expect(state.refusals).toEqual([
      {
        object: { kind: 'Service', namespace: 'shop', name: 'web' },
        reason: 'PortMismatch',
        message:
          'service port "http" (TCP 80) reaches its pods on port 8080 (EndpointSlice web-1): IPIP/direct-return forwarding ' +
          'cannot rewrite ports, so the pods must listen on 80; set targetPort to 80 (and the container port to match). The port was not programmed',
      },
    ]);
  });

  it('UDP and SCTP ports; the slice port must match the protocol too', () => {
    const state = build({
      services: [
        service('dns', {
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP' },
            { name: 'sig', port: 3868, protocol: 'SCTP' },
          ],
        }),
      ],
      endpointSlices: [
        slice('dns-1', 'dns', [{ ip: '10.0.1.1' }], {
          ports: [
            { name: 'dns', port: 53, protocol: 'TCP' },
            { name: 'sig', port: 3868, protocol: 'SCTP' },
          ],
        }),
      ],
    });
    expect(state.services.map((s) => [serviceKeyString(s.key), s.destinations.length])).toEqual([
      ['sctp/10.96.0.10:3868', 1],
      ['udp/10.96.0.10:53', 0],
    ]);
  });

  it('invalid Service ports are refused one by one', () => {
    const state = build({
      services: [
        service('web', {
          ports: [
            { name: 'a', port: 0 },
            { name: 'b', port: 80, protocol: 'ICMP' },
            { name: 'c', port: 81 },
            { name: 'd', port: 81 },
          ],
        }),
      ],
    });
    expect(keys(state)).toEqual(['tcp/10.96.0.10:81']);
    expect(state.refusals.map((r) => [r.reason, r.field])).toEqual([
      ['InvalidServicePort', 'spec.ports[0]'],
      ['InvalidServicePort', 'spec.ports[1]'],
      ['InvalidServicePort', 'spec.ports[3]'],
    ]);
  });
});

describe('buildDesired: slices are joined by label, namespace and family', () => {
  it('several slices, other namespaces, other services and FQDN slices', () => {
    const s = only(
      build({
        services: [service('web')],
        endpointSlices: [
          slice('web-1', 'web', [{ ip: '10.0.1.2' }]),
          slice('web-2', 'web', [{ ip: '10.0.1.1' }]),
          slice('web-x', 'web', [{ ip: '10.0.9.9' }], { ns: 'other' }),
          slice('api-1', 'api', [{ ip: '10.0.8.8' }]),
          slice('web-f', 'web', [{ ip: 'web.example.com' }], { addressType: 'FQDN' }),
        ],
      }),
    );
    expect(s.destinations.map((d) => d.address)).toEqual(['10.0.1.1', '10.0.1.2']);
  });

  it('dual-stack: each VIP gets the endpoints of its own family', () => {
    const state = build({
      services: [service('web', { ips: ['fd00::10', '10.96.0.10'] })],
      endpointSlices: [
        slice('web-4', 'web', [{ ip: '10.0.1.1' }, { ip: '10.0.1.2', ready: false }]),
        slice('web-6', 'web', [{ ip: 'FD00:0:0::B' }, { ip: 'fd00::a' }], { addressType: 'IPv6' }),
      ],
    });
    expect(state.services.map((s) => [serviceKeyString(s.key), s.destinations.map((d) => `${d.address}=${d.weight}`)])).toEqual([
      ['tcp/10.96.0.10:80', ['10.0.1.1=1', '10.0.1.2=0']],
      ['tcp/[fd00::10]:80', ['fd00::a=1', 'fd00::b=1']],
    ]);
  });

  it('an endpoint address of the wrong family or garbage is skipped with a refusal on the slice', () => {
    const state = build({ services: [service('web')], endpointSlices: [slice('web-1', 'web', [{ ip: 'fd00::1' }, { ip: '10.0.1.1' }, { ip: 'nope' }])] });
    expect(only(state).destinations.map((d) => d.address)).toEqual(['10.0.1.1']);
    expect(state.refusals.map((r) => [r.object.kind, r.object.name, r.reason])).toEqual([
      ['EndpointSlice', 'web-1', 'InvalidEndpointAddress'],
      ['EndpointSlice', 'web-1', 'InvalidEndpointAddress'],
    ]);
  });

  it('slices of Services that are not ours never produce refusals', () => {
    const state = build({ services: [service('web', { cls: 'other.io/lb' })], endpointSlices: [slice('web-1', 'web', [{ ip: 'nope' }])] });
    expect(state).toEqual({ services: [], refusals: [], warnings: [] });
  });
});

describe('buildDesired: ownership, VIPs and configuration', () => {
  it('skips Services that are not ours (class, type, default class off) without a word', () => {
    const state = build({
      services: [service('a', { cls: 'metallb.io/x' }), service('b', { type: 'NodePort' }), service('c', { cls: null })],
    });
    expect(state).toEqual({ services: [], refusals: [], warnings: [] });
    expect(keys(build({ services: [service('c', { cls: null })], defaultClass: true }))).toEqual(['tcp/10.96.0.10:80']);
  });

  it('a VIP this director does not own is refused; the owned one is programmed', () => {
    const state = buildDesired({
      services: [service('web', { ips: ['10.96.0.10', '192.0.2.1'] })],
      endpointSlices: [],
      ownsVip: (ip) => ip.startsWith('10.96.'),
      defaultClass: false,
    });
    expect(keys(state)).toEqual(['tcp/10.96.0.10:80']);
    expect(state.refusals).toEqual([
      {
        object: { kind: 'Service', namespace: 'shop', name: 'web' },
        reason: 'VipNotOwned',
        message: 'VIP 192.0.2.1 is outside the pools/CIDRs this director manages; it was not programmed',
      },
    ]);
  });

  it('only status IPs count: no ingress yet → nothing and no refusal; bad and duplicate ingress IPs', () => {
    const waiting = service('web', { ips: [] });
    (waiting.spec as { loadBalancerIP?: string }).loadBalancerIP = '10.96.0.99';
    expect(build({ services: [waiting] })).toEqual({ services: [], refusals: [], warnings: [] });
    const state = build({ services: [service('web', { ips: ['10.96.0.10', '10.96.0.010', '10.96.0.10', ''] })] });
    expect(keys(state)).toEqual(['tcp/10.96.0.10:80']);
    expect(state.refusals.map((r) => r.reason)).toEqual(['InvalidIngressIp']);
  });

  it('invalid annotations: the Service yields nothing, one refusal per error with its field', () => {
    const state = build({
      services: [service('web', { annotations: { 'balanced.dev/scheduler': 'maglev', 'balanced.dev/drain-seconds': 'soon' } }), service('api', { ips: ['10.96.0.11'] })],
      endpointSlices: [slice('web-1', 'web', [{ ip: '10.0.1.1' }])],
    });
    expect(state.services.map((s) => s.source.name)).toEqual(['api']);
    expect(state.refusals.map((r) => [r.object.name, r.reason, r.field])).toEqual([
      ['web', 'InvalidDrainSeconds', 'metadata.annotations["balanced.dev/drain-seconds"]'],
      ['web', 'InvalidScheduler', 'metadata.annotations["balanced.dev/scheduler"]'],
    ]);
    expect(state.refusals[1]?.message).toBe('balanced.dev/scheduler: unknown scheduler "maglev"; use one of mh, rr, wrr, lc, wlc, sh, dh (default mh)');
  });

  it('annotation warnings are passed on, the Service is programmed', () => {
    const state = build({ services: [service('web', { annotations: { 'balanced.dev/scheduler-flags': 'mh-port' } })] });
    expect(only(state).spec.flags).toBe(ServiceFlags.MH_PORT);
    expect(state.warnings.map((w) => [w.object.name, w.reason])).toEqual([['web', 'AnnotationWarning']]);
  });

  it('forwarding gue and direct shape the destinations', () => {
    const sl = [slice('web-1', 'web', [{ ip: '10.0.1.1' }])];
    const gue = only(build({ services: [service('web', { annotations: { 'balanced.dev/forwarding': 'gue', 'balanced.dev/gue-port': '6080' } })], endpointSlices: sl }));
    expect(gue.destinations[0]).toMatchObject({ forwarding: 'tunnel', tunnel: { type: 'gue', port: 6080 } });
    const direct = only(build({ services: [service('web', { annotations: { 'balanced.dev/forwarding': 'direct' } })], endpointSlices: sl }));
    expect(direct.destinations[0]).toEqual({ address: '10.0.1.1', port: 80, forwarding: 'direct', weight: 1, lastWeight: 1 });
    const rr = only(build({ services: [service('web', { annotations: { 'balanced.dev/scheduler': 'rr' } })], endpointSlices: sl }));
    expect(rr.spec).toMatchObject({ scheduler: 'rr', flags: 0 });
  });

  it('drain period: annotation, else the largest pod grace period, else the default', () => {
    const sl = [slice('web-1', 'web', [{ ip: '10.0.1.1', pod: 'p1/u1' }, { ip: '10.0.1.2', pod: 'p2' }, { ip: '10.0.1.3', pod: 'p3/u3' }])];
    const pods = [pod('p1', 45, { uid: 'u1' }), pod('p2', 90), pod('p3', 600, { uid: 'stale' }), pod('p9', 999)];
    expect(only(build({ services: [service('web')], endpointSlices: sl, pods })).drainSeconds).toBe(90);
    expect(only(build({ services: [service('web')], endpointSlices: sl })).drainSeconds).toBe(30);
    expect(only(build({ services: [service('web')], endpointSlices: sl, defaults: { drainSeconds: 12 } })).drainSeconds).toBe(12);
    const annotated = service('web', { annotations: { 'balanced.dev/drain-seconds': '5' } });
    expect(only(build({ services: [annotated], endpointSlices: sl, pods })).drainSeconds).toBe(5);
  });

  it('two Services on one VIP:port: the older keeps it, the other is refused (in any input order)', () => {
    const older = service('old', { created: '2024-01-01T00:00:00Z', ports: [{ name: 'http', port: 80 }] });
    const newer = service('aaa', { created: '2025-01-01T00:00:00Z', ports: [{ name: 'http', port: 80 }, { name: 'alt', port: 8080 }] });
    for (const services of [
      [older, newer],
      [newer, older],
    ]) {
      const state = build({ services });
      expect(state.services.map((s) => `${s.source.name} ${serviceKeyString(s.key)}`)).toEqual(['old tcp/10.96.0.10:80', 'aaa tcp/10.96.0.10:8080']);
      expect(state.refusals).toEqual([
        {
          object: { kind: 'Service', namespace: 'shop', name: 'aaa' },
          reason: 'VipPortConflict',
          message: 'tcp/10.96.0.10:80 is already served for the older Service shop/old; choose another VIP or port',
        },
      ]);
    }
  });
});

describe('canonicalCompare', () => {
  it('orders by address bytes (not text), IPv4 before IPv6, then port', () => {
    const list = [
      { address: 'fd00::1', port: 80 },
      { address: '10.0.0.10', port: 80 },
      { address: '10.0.0.9', port: 443 },
      { address: '10.0.0.9', port: 80 },
      { address: '::ffff:1', port: 80 },
      { address: '9.255.255.255', port: 80 },
    ];
    expect([...list].sort(canonicalCompare).map((d) => `${d.address}:${d.port}`)).toEqual([
      '9.255.255.255:80',
      '10.0.0.9:80',
      '10.0.0.9:443',
      '10.0.0.10:80',
      '::ffff:1:80',
      'fd00::1:80',
    ]);
  });
  it('equal keys compare 0; text that is not an address sorts last', () => {
    expect(canonicalCompare({ address: '10.0.0.1', port: 1 }, { address: '10.0.0.1', port: 1 })).toBe(0);
    expect(canonicalCompare({ address: 'x', port: 1 }, { address: '255.255.255.255', port: 1 })).toBeGreaterThan(0);
  });
});
