// ResolverIndex with policies: what each kind of event makes it read again (the property in
// desired-index.test.ts holds its output to the whole builder's; here: that it does little).
import { describe, expect, it } from '@jest/globals';
import { bp, lrp } from '@balanced/testkit';
import { ResolverIndex, type DesiredSnapshot, type PodCgroups, type ResolverKind } from '../src/desired/index.js';
import type { DesiredState } from '../src/model.js';
import { kubeDns, pod, policyNode } from './policy-fixtures.js';

class Cache {
  readonly objects = new Map<ResolverKind, unknown[]>();
  list = (kind: ResolverKind): unknown[] => this.objects.get(kind) ?? [];
  services = () => this.list('services');
  endpointSlices = () => this.list('endpointslices');
  nodes = () => this.list('nodes');
  pods = () => this.list('pods');
  localRedirectPolicies = () => this.list('localredirectpolicies');
  balancingPolicies = () => this.list('balancingpolicies');
}

const changed = (snap: DesiredSnapshot): string[] => [...(snap.changed as ReadonlyMap<string, unknown>).keys()].sort();
const redirectBackends = (state: DesiredState): string[] => [...state.services.values()].filter((s) => s.key.includes('LocalRedirectPolicy')).flatMap((s) => s.backends.map((b) => `${s.key} ${b.address}`));

function setUp(podCgroups?: PodCgroups) {
  const cache = new Cache();
  cache.objects.set('services', [kubeDns({ clusterIPs: ['10.96.0.10'] })]);
  cache.objects.set('nodes', [policyNode('n1', { dns: 'on' })]);
  cache.objects.set('pods', [pod('a'), pod('other', { labels: { app: 'web' } })]);
  cache.objects.set('localredirectpolicies', [lrp('node-local-dns', { config: { nodeLabelSelector: { matchLabels: { dns: 'on' } } } })]);
  cache.objects.set('balancingpolicies', [bp('legacy')]);
  const index = new ResolverIndex({ cluster: cache, nodeName: 'n1', podCgroups: podCgroups ?? ((uid) => (uid === 'uid-a' ? [7n] : undefined)) });
  const first = index.snapshot();
  expect(first.changed).toBe('all');
  return { cache, index, first };
}

const LRP_KEYS = ['policy LocalRedirectPolicy/node-local-dns:53/TCP IPv4', 'policy LocalRedirectPolicy/node-local-dns:53/UDP IPv4'];

describe('ResolverIndex: policies', () => {
  it('a pod no policy selects needs no pass and changes nothing', () => {
    const { index } = setUp();
    expect(index.observe('pods', { type: 'update', object: pod('other', { labels: { app: 'web' }, ready: false }) })).toBe(false);
    expect(index.observe('pods', { type: 'add', object: pod('elsewhere', { node: 'n2' }) })).toBe(false); // a LocalRedirectPolicy selects this node's pods only
    expect(changed(index.snapshot())).toEqual([]);
  });

  it('a selected pod turning unready rebuilds only the policies that select it', () => {
    const { index, first } = setUp();
    expect(redirectBackends(first.state)).toEqual(LRP_KEYS.map((k) => `${k} 10.0.1.1`));
    expect(index.observe('pods', { type: 'update', object: pod('a', { ready: false }) })).toBe(true);
    const snap = index.snapshot();
    expect(changed(snap)).toEqual(LRP_KEYS);
    expect(redirectBackends(snap.state)).toEqual([]);
  });

  it('a Service event rebuilds the policies whose serviceMatcher names it', () => {
    const { index } = setUp();
    index.observe('services', { type: 'update', object: kubeDns({ clusterIPs: ['10.96.0.11'], clusterIP: '10.96.0.11' }) });
    const snap = index.snapshot();
    expect(changed(snap)).toEqual(expect.arrayContaining(LRP_KEYS));
    expect(snap.state.frontends.filter((f) => f.kind === 'redirect').map((f) => f.address)).toEqual(['10.96.0.11', '10.96.0.11']);
  });

  it("this node's labels decide where a policy applies, read again when they change (another node's labels change nothing)", () => {
    const { index } = setUp();
    index.observe('nodes', { type: 'update', object: policyNode('n2', { dns: 'off' }) });
    expect(changed(index.snapshot())).toEqual([]);
    index.observe('nodes', { type: 'update', object: policyNode('n1', { dns: 'off' }) });
    const off = index.snapshot();
    expect(changed(off)).toEqual(LRP_KEYS);
    expect(off.state.frontends.filter((f) => f.kind === 'redirect')).toEqual([]);
    index.observe('nodes', { type: 'update', object: policyNode('n1', { dns: 'on' }) });
    expect(changed(index.snapshot())).toEqual(LRP_KEYS);
  });

  it('a cgroup found later makes its pod a backend once observeCgroups() says so', () => {
    const known = new Set<string>();
    const { index, first } = setUp((uid) => (known.has(uid) ? [7n] : undefined));
    expect(redirectBackends(first.state)).toEqual([]);
    known.add('uid-a');
    expect(changed(index.snapshot())).toEqual([]); // not told: not read again
    index.observeCgroups();
    const snap = index.snapshot();
    expect(changed(snap)).toEqual(LRP_KEYS);
    expect(snap.state.services.get(LRP_KEYS[0]!)?.skipCgroups).toEqual([7n]);
  });

  it('a policy event settles conflicts again: the younger policy takes over when the older goes', () => {
    const { cache, index } = setUp();
    const older = lrp('node-local-dns', {}, { creationTimestamp: '2024-01-01T00:00:00Z' });
    const younger = lrp('dns-cache', {}, { creationTimestamp: '2024-06-01T00:00:00Z' });
    cache.objects.set('localredirectpolicies', [older, younger]);
    index.observe('localredirectpolicies', { type: 'update', object: older });
    index.observe('localredirectpolicies', { type: 'add', object: younger });
    const both = index.snapshot();
    expect(both.state.refusals.map((r) => `${r.object.name} ${r.reason}`)).toEqual(['dns-cache PolicyConflict']);
    index.observe('localredirectpolicies', { type: 'delete', object: older });
    const after = index.snapshot();
    expect(after.state.refusals).toEqual([]);
    expect(new Set(after.state.frontends.filter((f) => f.kind === 'redirect').map((f) => f.service.split(':')[0]))).toEqual(new Set(['policy LocalRedirectPolicy/dns-cache']));
  });

  it('a relist handing out equal objects changes nothing', () => {
    const { cache, index } = setUp();
    for (const kind of ['pods', 'localredirectpolicies', 'balancingpolicies', 'nodes'] as const) {
      cache.objects.set(kind, cache.list(kind).map((o) => structuredClone(o)));
      expect(index.observe(kind)).toBe(true);
    }
    expect(changed(index.snapshot())).toEqual([]);
  });
});
