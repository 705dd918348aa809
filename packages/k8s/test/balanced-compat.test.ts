import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { cidrOwnership } from '@balanced/net';
import type { V1Pod } from '@kubernetes/client-node';
import { parseServiceConfig } from '../src/annotations.js';
import {
  balanceDPoolReference,
  legacyTunnelIgnore,
  mapBalanceDScheduler,
  parseForDirectors,
  resolvePoolReference,
} from '../src/balanced-compat.js';
import { buildDesired } from '../src/desired-state.js';
import { ownsAll, service, slice } from './fixtures.js';

const SCHED = 'balanced.demonware.net/ipvs-scheduler';
const POOL = 'balanced.demonware.net/ip-pool';

describe("BalanceD's scheduler hrw", () => {
  it('runs as mh with a warning naming the key and the fix', () => {
    const parsed = parseServiceConfig(service('web', { annotations: { [SCHED]: 'hrw' } }));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.config.scheduler).toBe('mh');
    expect(parsed.config.schedulerFlags).toEqual(['mh-fallback']);
    expect(parsed.warnings).toHaveLength(1);
    expect(parsed.warnings[0]).toContain(`${SCHED}: "hrw"`);
    expect(parsed.warnings[0]).toContain(`set ${SCHED}: mh`);
  });

  it('agrees with balanced.dev/scheduler: mh (no conflict), and HRW in capitals maps too', () => {
    const parsed = parseServiceConfig(service('web', { annotations: { [SCHED]: 'HRW', 'balanced.dev/scheduler': 'mh' } }));
    expect(parsed.ok && parsed.config.scheduler).toBe('mh');
  });

  it('becomes a warning of the director (an Event), not a refusal', () => {
    const state = buildDesired({
      services: [service('web', { ips: ['10.96.100.10'], annotations: { [SCHED]: 'hrw' } })],
      endpointSlices: [slice('web-1', 'web', [{ ip: '10.244.0.2' }])],
      ownsVip: ownsAll,
      defaultClass: false,
    });
    expect(state.refusals).toEqual([]);
    expect(state.services.map((s) => s.config.scheduler)).toEqual(['mh']);
    expect(state.warnings.map((w) => w.reason)).toEqual(['AnnotationWarning']);
  });

  it('leaves every other value alone (other schedulers and typos stay errors)', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const m = mapBalanceDScheduler(text, SCHED);
        if (text.toLowerCase() === 'hrw') expect(m.text).toBe('mh');
        else expect(m).toEqual({ text, warning: undefined });
      }),
    );
    expect(parseServiceConfig(service('web', { annotations: { [SCHED]: 'hrx' } })).ok).toBe(false);
  });
});

describe("BalanceD's ip-pool values", () => {
  it('empty means the default pool', () => {
    const parsed = parseServiceConfig(service('web', { annotations: { [POOL]: '' } }));
    expect(parsed.ok && parsed.config.ipPool).toBeUndefined();
    expect(balanceDPoolReference('  ')).toEqual({ kind: 'default' });
  });

  it('a CIDR is kept (canonical) for the allocator to resolve; a label is a pool name', () => {
    const cidr = parseServiceConfig(service('web', { annotations: { [POOL]: '192.168.1.0/24' } }));
    expect(cidr.ok && cidr.config.ipPool).toBe('192.168.1.0/24');
    const v6 = parseServiceConfig(service('web', { annotations: { [POOL]: 'FD00:0::/64' } }));
    expect(v6.ok && v6.config.ipPool).toBe('fd00::/64');
    const name = parseServiceConfig(service('web', { annotations: { [POOL]: 'home-network' } }));
    expect(name.ok && name.config.ipPool).toBe('home-network');
  });

  it('a CIDR with host bits set is refused (one rule for every CIDR, @balanced/net) with the network it probably meant', () => {
    const parsed = parseServiceConfig(service('web', { annotations: { [POOL]: '192.168.1.7/24' } }));
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.errors.map((e) => [e.reason, e.message])).toEqual([['InvalidIpPool', expect.stringMatching(/host bits are set; did you mean "192\.168\.1\.0\/24"/)]]);
    expect(balanceDPoolReference('192.168.1.7/24')).toEqual({ kind: 'invalid', message: expect.stringMatching(/host bits/) });
  });

  it('our own key still takes names only', () => {
    expect(parseServiceConfig(service('web', { annotations: { 'balanced.dev/ip-pool': '192.168.1.0/24' } })).ok).toBe(false);
  });

  it('resolvePoolReference: a CIDR means the pool holding all of it (first by name), a name itself', () => {
    const pools = [
      { name: 'b-wide', cidrs: ['192.168.0.0/16'] },
      { name: 'a-home', cidrs: ['192.168.1.0/24'] },
      { name: 'v6', cidrs: ['fd00::/64'] },
    ];
    const contains = (p: { cidrs: string[] }, ip: string): boolean => cidrOwnership(p.cidrs)(ip);
    const resolve = (ref: string): string | undefined => resolvePoolReference(ref, pools, (p) => p.name, contains);
    expect(resolve('192.168.1.0/24')).toBe('a-home');
    expect(resolve('192.168.2.0/24')).toBe('b-wide');
    expect(resolve('192.168.0.0/15')).toBeUndefined();
    expect(resolve('fd00::/120')).toBe('v6');
    expect(resolve('home-network')).toBe('home-network');
  });
});

describe('allocation-only annotation errors never make directors refuse a Service', () => {
  const bad = { [POOL]: 'Not A Pool!', 'balanced.dev/ip-request': '10.0.0.300' };

  it('parseForDirectors drops them (the allocator reports them) and keeps the rest', () => {
    expect(parseServiceConfig(service('web', { annotations: bad })).ok).toBe(false);
    const parsed = parseForDirectors(service('web', { annotations: { ...bad, 'balanced.dev/scheduler': 'rr' } }));
    expect(parsed.ok && parsed.config.scheduler).toBe('rr');
  });

  it('other errors still refuse, reported without the allocation ones', () => {
    const parsed = parseForDirectors(service('web', { annotations: { ...bad, 'balanced.dev/scheduler': 'nope' } }));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors.map((e) => e.reason)).toEqual(['InvalidScheduler']);
  });

  it('the director programs the Service', () => {
    const state = buildDesired({
      services: [service('web', { ips: ['10.96.100.10'], annotations: bad })],
      endpointSlices: [slice('web-1', 'web', [{ ip: '10.244.0.2' }])],
      ownsVip: ownsAll,
      defaultClass: false,
    });
    expect(state.refusals).toEqual([]);
    expect(state.services).toHaveLength(1);
  });
});

describe("BalanceD's legacy pod opt-out key", () => {
  const pod = (annotations?: Record<string, string>): V1Pod => ({ metadata: { name: 'p', ...(annotations ? { annotations } : {}) } });
  it('is honoured when present, whatever its value', () => {
    expect(legacyTunnelIgnore(pod({ 'ipvs-tunnel-controller.demonware.net/ignore': '' }))).toBe(true);
    expect(legacyTunnelIgnore(pod({ 'ipvs-tunnel-controller.demonware.net/ignore': 'false' }))).toBe(true);
    expect(legacyTunnelIgnore(pod({ 'other/ignore': 'true' }))).toBe(false);
    expect(legacyTunnelIgnore(pod())).toBe(false);
  });
});
