// The shared keep rule (last-good.ts): a Service refused for its annotations is rebuilt from the
// recorded copy of its last accepted annotations, else kept from memory, else refused.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';

import { buildServiceDesired, type ServiceCandidate } from '../src/desired-state.js';
import { LAST_ACCEPTED_ANNOTATION, acceptedAnnotationsValue, asLastAccepted, buildKeepingLastGood, lastAcceptedPatch } from '../src/last-good.js';

const svc = (annotations: Record<string, string>): V1Service => ({
  metadata: { name: 'web', namespace: 'default', uid: 'u1', annotations, creationTimestamp: new Date('2025-01-01T00:00:00Z') },
  spec: { type: 'LoadBalancer', loadBalancerClass: 'balanced.dev/ipvs', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  status: { loadBalancer: { ingress: [{ ip: '10.96.0.10' }] } },
});
const slices = (ips: readonly string[]): V1EndpointSlice[] => [
  {
    metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  },
];
const input = (service: V1Service, ips: readonly string[] = ['10.0.0.1']) => ({ service, endpointSlices: slices(ips), ownsVip: (ip: string) => ip.startsWith('10.96.'), defaultClass: false });

describe('the recorded copy', () => {
  it('holds only balanced keys (ours and BalanceD’s), sorted, and only while they all parse', () => {
    const s = svc({ 'balanced.dev/scheduler': 'rr', 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'balanced.demonware.net/ip-pool': 'gold', 'balanced.dev/drain-seconds': '5' });
    expect(acceptedAnnotationsValue(s)).toBe('{"balanced.demonware.net/ip-pool":"gold","balanced.dev/drain-seconds":"5","balanced.dev/scheduler":"rr"}');
    expect(acceptedAnnotationsValue(svc({ 'balanced.dev/scheduler': 'rrr' }))).toBeUndefined();
    expect(lastAcceptedPatch(s)).toEqual({ metadata: { annotations: { [LAST_ACCEPTED_ANNOTATION]: acceptedAnnotationsValue(s) } } });
    const recorded = svc({ ...s.metadata?.annotations, [LAST_ACCEPTED_ANNOTATION]: acceptedAnnotationsValue(s) ?? '' });
    expect(lastAcceptedPatch(recorded)).toBeUndefined(); // up to date: no write, no loop
    expect(lastAcceptedPatch(svc({ 'balanced.dev/scheduler': 'rrr', [LAST_ACCEPTED_ANNOTATION]: '{}' }))).toBeUndefined(); // invalid: keep the copy
    expect(acceptedAnnotationsValue(svc({}))).toBe('{}'); // no annotations is a valid (default) state too
  });

  it('asLastAccepted swaps the balanced annotations for the copy and keeps the rest; an unreadable copy counts as none', () => {
    const s = svc({ 'balanced.dev/scheduler': 'rrr', 'balanced.dev/forwarding': 'direct', team: 'x', [LAST_ACCEPTED_ANNOTATION]: '{"balanced.dev/scheduler":"rr","other":"ignored"}' });
    expect(asLastAccepted(s)?.metadata?.annotations).toEqual({ team: 'x', 'balanced.dev/scheduler': 'rr' });
    expect(s.metadata?.annotations?.['balanced.dev/scheduler']).toBe('rrr'); // the cached object is not touched
    for (const bad of ['not json', '[]', '"x"', 'null', '42']) expect(asLastAccepted(svc({ [LAST_ACCEPTED_ANNOTATION]: bad }))).toBeUndefined();
    expect(asLastAccepted(svc({}))).toBeUndefined();
  });
});

describe('buildKeepingLastGood', () => {
  const names = (candidates: readonly ServiceCandidate[]): unknown => candidates.map((c) => ({ key: c.service.key, scheduler: c.service.spec.scheduler, dests: c.service.destinations.map((d) => d.address) }));

  it('valid annotations: built as they are (the copy is ignored), nothing kept', () => {
    const r = buildKeepingLastGood(input(svc({ 'balanced.dev/scheduler': 'wrr', [LAST_ACCEPTED_ANNOTATION]: '{"balanced.dev/scheduler":"rr"}' })), []);
    expect(r.kept).toBe(false);
    expect(names(r.candidates)).toMatchObject([{ scheduler: 'wrr' }]);
  });

  it('invalid annotations: the copy (with today’s endpoints) before memory, memory before nothing; the refusal stands', () => {
    const memory = buildServiceDesired(input(svc({ 'balanced.dev/scheduler': 'sh' }), ['10.0.0.9'])).candidates;
    const withCopy = buildKeepingLastGood(input(svc({ 'balanced.dev/scheduler': 'rrr', [LAST_ACCEPTED_ANNOTATION]: '{"balanced.dev/scheduler":"rr"}' }), ['10.0.0.1', '10.0.0.2']), memory);
    expect(withCopy).toMatchObject({ kept: true, keptFrom: 'recorded' });
    expect(names(withCopy.candidates)).toEqual([{ key: expect.anything(), scheduler: 'rr', dests: ['10.0.0.1', '10.0.0.2'] }]);
    expect(withCopy.refusals.map((r) => r.reason)).toEqual(['InvalidScheduler']);

    const fromMemory = buildKeepingLastGood(input(svc({ 'balanced.dev/scheduler': 'rrr' })), memory);
    expect(fromMemory).toMatchObject({ kept: true, keptFrom: 'memory' });
    expect(fromMemory.candidates).toBe(memory);

    const none = buildKeepingLastGood(input(svc({ 'balanced.dev/scheduler': 'rrr' })), []);
    expect(none).toMatchObject({ kept: false, candidates: [] });
    expect(none.refusals.length).toBeGreaterThan(0);
  });

  it('property: a Service with any invalid annotations and the copy of valid ones builds exactly what the valid Service built', () => {
    const value = (valid: readonly string[], invalid: readonly string[]) => fc.option(fc.constantFrom(...valid, ...invalid), { nil: undefined });
    const annotations = fc
      .record({
        'balanced.dev/scheduler': value(['mh', 'rr', 'wrr', 'sh'], ['bogus', 'MH ', '']),
        'balanced.dev/drain-seconds': value(['0', '30', '600'], ['-1', 'soon', '1e3']),
        'balanced.dev/forwarding': value(['tunnel', 'direct'], ['ipip', 'nat']),
        'balanced.dev/bgp-communities': value(['65000:1', '65000:1,65001:2'], ['65000', 'x:y']),
      })
      .map((r) => Object.fromEntries(Object.entries(r).filter((e): e is [string, string] => e[1] !== undefined)));
    const ips = fc.subarray(['10.0.0.1', '10.0.0.2', '10.0.0.3'], { minLength: 1 });
    fc.assert(
      fc.property(annotations, annotations, ips, (good, now, endpoints) => {
        const copy = acceptedAnnotationsValue(svc(good));
        fc.pre(copy !== undefined);
        const expected = buildServiceDesired(input(svc(good), endpoints));
        const r = buildKeepingLastGood(input(svc({ ...now, [LAST_ACCEPTED_ANNOTATION]: copy ?? '' }), endpoints), []);
        if (acceptedAnnotationsValue(svc(now)) !== undefined) {
          expect(r.kept).toBe(false); // valid now: its own annotations count
          expect(r.candidates).toEqual(buildServiceDesired(input(svc(now), endpoints)).candidates);
        } else if (expected.candidates.length > 0) {
          expect(r.kept).toBe(true);
          expect(r.candidates).toEqual(expected.candidates);
        }
      }),
      { numRuns: 300 },
    );
  });
});
