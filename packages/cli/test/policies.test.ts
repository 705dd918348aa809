// LocalRedirectPolicy and BalancingPolicy in `balanced plan` and `balanced explain --resolver`,
// from manifest files (test/fixtures/policies.yaml over cluster.yaml), through the built binary:
// the resolver's own builder gives the policy frontends (kind redirect / balancing) and explain
// walks them in the hook's order: redirect, balancing, then the Service; a redirect without a
// ready local pod falls back, its own backend pod is never redirected to itself, a
// BalancingPolicy without backends refuses at once.
import { describe, expect, it } from '@jest/globals';
import { manifestPodUid, readManifests } from '../src/manifests.js';
import { CLUSTER, POLICIES, json, runBalanced } from './run-cli.js';

const FILES = ['-f', CLUSTER, '-f', POLICIES];

interface MapOpJson {
  op: string;
  id?: number;
  key?: string;
  frontend?: { address: string; port: number; protocol: string; kind: string; serviceId: number };
  backend?: { address: string; port: number; local: boolean };
  table?: { backendIds: number[]; skipCgroups: string[]; tableSize: number };
}

interface ResolverPlanJson {
  resolver: { node: string | null; frontendKinds: Record<string, number>; ops: MapOpJson[]; serviceIds: Record<string, number>; skipCgroups?: string; refusals: unknown[] };
}

interface ExplainJson {
  node: string | null;
  pod: string | null;
  result: string;
  reason: string;
  frontends: { kind: string; service: string | null; policy: { kind: string; name: string } | null; skipCgroups: number; outcome: string; backends: { backend: string; local: boolean }[] }[];
}

const planResolver = (...args: string[]) => runBalanced(['plan', ...FILES, '--empty', '--component', 'resolver', ...args]);
const explain = (...args: string[]) => runBalanced(['explain', '--resolver', ...FILES, '--empty', ...args, '--json']);

/** The frontends of a plan as `address:port/protocol kind -> service key`, sorted. */
function frontends(out: ResolverPlanJson): string[] {
  const keyOf = new Map(Object.entries(out.resolver.serviceIds).map(([k, id]) => [id, k]));
  return out.resolver.ops
    .flatMap((o) => (o.op === 'frontend-put' && o.frontend !== undefined ? [`${o.frontend.address}:${o.frontend.port}/${o.frontend.protocol} ${o.frontend.kind} -> ${keyOf.get(o.frontend.serviceId) ?? '?'}`] : []))
    .sort();
}

/** service key → backends as address:port (local marked with *), from the plan's ops. */
function backendSets(out: ResolverPlanJson): Map<string, string[]> {
  const backends = new Map(out.resolver.ops.flatMap((o) => (o.op === 'backend-put' && o.id !== undefined && o.backend !== undefined ? [[o.id, `${o.backend.address}:${o.backend.port}${o.backend.local ? '*' : ''}`] as const] : [])));
  return new Map(out.resolver.ops.flatMap((o) => (o.op === 'service-put' && o.key !== undefined && o.table !== undefined ? [[o.key, o.table.backendIds.map((id) => backends.get(id) ?? `?${id}`).sort()] as const] : [])));
}

const LRP_UDP = 'policy LocalRedirectPolicy/node-local-dns:53/UDP IPv4';
const LRP_TCP = 'policy LocalRedirectPolicy/node-local-dns:53/TCP IPv4';

describe('manifest files with policies', () => {
  it('reads LocalRedirectPolicies and BalancingPolicies, and gives a Pod without a uid a stand-in one', async () => {
    const { objects, skipped } = await readManifests([POLICIES]);
    expect(skipped).toEqual([]);
    expect(objects.localRedirectPolicies.map((p) => (p as { metadata: { name: string } }).metadata.name)).toEqual(['node-local-dns']);
    expect(objects.balancingPolicies.map((p) => (p as { metadata: { name: string } }).metadata.name)).toEqual(['web-canary', 'legacy-db', 'nobody-home']);
    const uid = (name: string) => objects.pods.find((p) => p.metadata?.name === name)?.metadata?.uid;
    expect(uid('node-local-dns-a')).toBe(manifestPodUid('kube-system', 'node-local-dns-a'));
    expect(uid('node-local-dns-b')).toBe('7d1c3a52-5b8e-4c1f-9a0d-3e6f2b4c8d10');
  });
});

describe('plan: policy frontends', () => {
  it('on a node: redirect and balancing frontends before the Services, each with its backend set', async () => {
    const [a, without] = await Promise.all([planResolver('--node', 'node-a', '--json'), runBalanced(['plan', '-f', CLUSTER, '--empty', '--component', 'resolver', '--node', 'node-a', '--json'])]);
    expect([a.code, without.code]).toEqual([0, 0]);
    const out = json<ResolverPlanJson>(a);
    expect(out.resolver.frontendKinds).toEqual({ redirect: 2, balancing: 3, service: 5 });
    expect(json<ResolverPlanJson>(without).resolver.frontendKinds).toEqual({ redirect: 0, balancing: 0, service: 3 });
    expect(frontends(out)).toEqual([
      '10.96.0.10:80/TCP balancing -> policy BalancingPolicy/web-canary:80/TCP IPv4',
      '10.96.0.10:80/TCP service -> shop/web:http/TCP IPv4',
      '10.96.0.11:80/TCP service -> shop/fresh:http/TCP IPv4',
      `10.96.0.53:53/TCP redirect -> ${LRP_TCP}`,
      '10.96.0.53:53/TCP service -> kube-system/kube-dns:dns-tcp/TCP IPv4',
      `10.96.0.53:53/UDP redirect -> ${LRP_UDP}`,
      '10.96.0.53:53/UDP service -> kube-system/kube-dns:dns/UDP IPv4',
      '10.96.200.1:80/TCP service -> shop/web:http/TCP IPv4',
      '10.96.50.5:5432/TCP balancing -> policy BalancingPolicy/legacy-db:5432/TCP IPv4',
      '10.96.50.6:80/TCP balancing -> policy BalancingPolicy/nobody-home:80/TCP IPv4',
    ]);
    const sets = backendSets(out);
    // The redirect: the ready node-local pod only; the canary: its pod on the other node; fixed addresses; nobody.
    expect(sets.get(LRP_UDP)).toEqual(['10.244.1.53:53*']);
    expect(sets.get('policy BalancingPolicy/web-canary:80/TCP IPv4')).toEqual(['10.244.2.80:80']);
    expect(sets.get('policy BalancingPolicy/legacy-db:5432/TCP IPv4')).toEqual(['192.0.2.10:5432', '192.0.2.11:5432']);
    expect(sets.get('policy BalancingPolicy/nobody-home:80/TCP IPv4')).toEqual([]);
    // The redirect's own backend pod is in its skip list (a stand-in id: the CLI reads no cgroup hierarchy).
    const lrp = out.resolver.ops.find((o) => o.op === 'service-put' && o.key === LRP_UDP);
    expect(lrp?.table?.skipCgroups).toHaveLength(1);
    expect(out.resolver.skipCgroups).toMatch(/stand-in/);
  }, 60_000);

  it('on a node without a ready local pod the redirect frontends stay, empty; outside the cluster only enableOutCluster policies apply', async () => {
    const [b, outside] = await Promise.all([planResolver('--node', 'node-b', '--json'), planResolver('--json')]);
    expect([b.code, outside.code]).toEqual([0, 0]);
    const onB = json<ResolverPlanJson>(b);
    expect(onB.resolver.frontendKinds).toEqual({ redirect: 2, balancing: 3, service: 5 });
    expect(backendSets(onB).get(LRP_UDP)).toEqual([]);
    expect(onB.resolver.skipCgroups).toBeUndefined();
    const out = json<ResolverPlanJson>(outside);
    expect(out.resolver.frontendKinds).toEqual({ redirect: 0, balancing: 1, service: 5 });
    expect(frontends(out).filter((f) => / balancing /.test(f))).toEqual(['10.96.50.5:5432/TCP balancing -> policy BalancingPolicy/legacy-db:5432/TCP IPv4']);
  }, 60_000);

  it('prints the policy frontends for people: kind, service id and the policy it belongs to', async () => {
    const r = await planResolver('--node', 'node-a');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^resolver \(empty maps; node node-a\): 9 backend sets, 10 frontends \(2 redirect, 3 balancing, 5 service\), 27 ops\n/);
    expect(r.stdout).toMatch(/frontend-put\s+10\.96\.0\.53:53\/UDP redirect\s+-> service \d+ \(policy LocalRedirectPolicy\/node-local-dns:53\/UDP IPv4\)/);
    expect(r.stdout).toMatch(/frontend-put\s+10\.96\.0\.10:80\/TCP balancing\s+-> service \d+ \(policy BalancingPolicy\/web-canary:80\/TCP IPv4\)/);
    expect(r.stdout).toMatch(/service-put\s+service \d+\s+policy LocalRedirectPolicy\/node-local-dns:53\/UDP IPv4: 1 backends, \d+ slots, skips 1 client cgroup,/);
    expect(r.stdout).toMatch(/skip lists .* stand-in ids/);
  }, 60_000);
});

describe('explain --resolver: which frontend kind and policy a connection hits', () => {
  it('a pod on a node with a ready local pod: the redirect', async () => {
    const r = await explain('--protocol', 'udp', '--pod', 'shop/client', '10.96.0.53:53');
    expect(r.code).toBe(0);
    const out = json<ExplainJson>(r);
    expect(out).toMatchObject({ node: 'node-a', result: 'resolved' });
    expect(out.frontends.map((f) => [f.kind, f.policy, f.outcome])).toEqual([
      ['redirect', { kind: 'LocalRedirectPolicy', name: 'node-local-dns' }, 'resolves'],
      ['service', null, 'not reached'],
    ]);
    expect(out.frontends[0]?.backends).toEqual([expect.objectContaining({ backend: '10.244.1.53:53', local: true })]);
    expect(out.reason).toMatch(/^redirect frontend -> policy LocalRedirectPolicy\/node-local-dns:53\/UDP IPv4: 1 backend/);
  }, 60_000);

  it('a pod on a node whose local pod is not ready: the redirect falls back to the Service', async () => {
    const r = await explain('--protocol', 'udp', '--pod', 'shop/web-3', '10.96.0.53:53');
    expect(r.code).toBe(0);
    const out = json<ExplainJson>(r);
    expect(out).toMatchObject({ node: 'node-b', result: 'resolved' });
    expect(out.frontends.map((f) => [f.kind, f.outcome, f.backends.map((b) => b.backend)])).toEqual([
      ['redirect', 'passes', []],
      ['service', 'resolves', ['10.244.2.53:53']],
    ]);
    expect(out.reason).toMatch(/redirect frontend has no backend and falls back/);
  }, 60_000);

  it("the redirect's own backend pod reaches the Service, never itself; the text says so", async () => {
    const [r, text] = await Promise.all([
      explain('--pod', 'kube-system/node-local-dns-a', '10.96.0.53:53'),
      runBalanced(['explain', '--resolver', ...FILES, '--empty', '--pod', 'kube-system/node-local-dns-a', '10.96.0.53:53']),
    ]);
    expect([r.code, text.code]).toEqual([0, 0]);
    const out = json<ExplainJson>(r);
    expect(out.frontends.map((f) => [f.kind, f.outcome, f.skipCgroups])).toEqual([
      ['redirect', 'skips client', 1],
      ['service', 'resolves', 0],
    ]);
    expect(out.frontends[1]?.backends.map((b) => b.backend)).toEqual(['10.244.2.53:53']);
    expect(text.stdout).toMatch(/redirect frontend: LocalRedirectPolicy node-local-dns \(service \d+\) \[skips client\] \(skips 1 client cgroup: its own backend pods\)/);
    expect(text.stdout).toMatch(/result: resolved: service frontend -> kube-system\/kube-dns:dns-tcp\/TCP IPv4: .*\(the redirect frontend skips this client, one of its own backends\)/);
  }, 60_000);

  it('a BalancingPolicy on a Service comes before it; one without backends refuses at once', async () => {
    const [canary, nobody] = await Promise.all([explain('--pod', 'shop/client', '10.96.0.10:80'), explain('--node', 'node-a', '10.96.50.6:80')]);
    expect([canary.code, nobody.code]).toEqual([0, 0]);
    expect(json<ExplainJson>(canary).frontends.map((f) => [f.kind, f.policy?.name ?? f.service, f.outcome])).toEqual([
      ['balancing', 'web-canary', 'resolves'],
      ['service', 'shop/web:http/TCP IPv4', 'not reached'],
    ]);
    const refused = json<ExplainJson>(nobody);
    expect(refused).toMatchObject({ result: 'refused', frontends: [{ kind: 'balancing', policy: { kind: 'BalancingPolicy', name: 'nobody-home' }, outcome: 'refuses', backends: [] }] });
    expect(refused.reason).toMatch(/ECONNREFUSED/);
  }, 60_000);
});
