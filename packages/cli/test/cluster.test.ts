// `--kubeconfig`: the CLI reads a real API server (testkit's, through client-node and the
// controllers' own cluster cache) and plans exactly what it plans from the same objects as
// manifest files, policies included; a cluster without the optional CRDs is read without
// them at once; a server that does not answer is a failure (exit 1), not a hang.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApiServer } from '@balanced/testkit';
import { readManifests } from '../src/manifests.js';
import { CLUSTER, POLICIES, json, runBalanced } from './run-cli.js';

const VIPPOOL_CRD = { group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools', kind: 'VipPool', namespaced: false } as const;
const POLICY_CRDS = [
  { group: 'balanced.dev', version: 'v1alpha1', plural: 'localredirectpolicies', kind: 'LocalRedirectPolicy', namespaced: false },
  { group: 'balanced.dev', version: 'v1alpha1', plural: 'balancingpolicies', kind: 'BalancingPolicy', namespaced: false },
] as const;

let server: TestApiServer;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  server = await TestApiServer.start({ customResources: [VIPPOOL_CRD, ...POLICY_CRDS], namespaces: ['default', 'shop', 'kube-system'] });
  const { objects } = await readManifests([CLUSTER, POLICIES]);
  for (const s of objects.services) server.store.put('services', s);
  for (const s of objects.endpointSlices) server.store.put('endpointslices', s);
  for (const p of objects.pods) server.store.put('pods', p);
  for (const n of objects.nodes) server.store.put('nodes', n);
  for (const p of objects.vipPools) server.store.put('vippools', p as object);
  for (const p of objects.localRedirectPolicies) server.store.put('localredirectpolicies', p as object);
  for (const p of objects.balancingPolicies) server.store.put('balancingpolicies', p as object);
  dir = await mkdtemp(join(tmpdir(), 'balanced-cli-'));
  kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, server.kubeconfigYaml());
});

afterAll(async () => {
  await server?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

interface PlanJson {
  director: unknown;
  resolver: unknown;
  allocator: { changes: { key: string; assigned: unknown; ips: string[] }[]; failures: unknown[]; usage: unknown[] };
}

describe('plan --kubeconfig', () => {
  it('plans from the cluster exactly what it plans from the same objects as files', async () => {
    const [fromCluster, fromFiles] = await Promise.all([
      runBalanced(['plan', '--kubeconfig', kubeconfig, '--empty', '--node', 'node-a', '--json']),
      runBalanced(['plan', '-f', CLUSTER, '-f', POLICIES, '--empty', '--node', 'node-a', '--json']),
    ]);
    expect(fromCluster.code).toBe(0);
    expect(fromCluster.stderr).toBe('');
    const a = json<PlanJson>(fromCluster);
    const b = json<PlanJson>(fromFiles);
    expect(a.director).toEqual(b.director);
    expect(a.resolver).toEqual(b.resolver);
    expect(a.allocator.changes.map((c) => [c.key, c.assigned, c.ips])).toEqual(b.allocator.changes.map((c) => [c.key, c.assigned, c.ips]));
    expect(a.allocator.usage).toEqual(b.allocator.usage);
    expect((a.director as { ops: unknown[] }).ops).toHaveLength(6);
    // The policies came from the cluster too.
    expect((a.resolver as { frontendKinds: unknown }).frontendKinds).toEqual({ redirect: 2, balancing: 3, service: 5 });
  }, 60_000);

  it('names pods and Services from the cluster in explain --resolver', async () => {
    const r = await runBalanced(['explain', '--resolver', '--kubeconfig', kubeconfig, '--empty', '--pod', 'shop/client', '10.96.200.1:80', '--json']);
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ node: 'node-a', result: 'resolved', frontends: [{ service: 'shop/web:http/TCP IPv4' }] });
  }, 60_000);

  it('explains a policy frontend from the cluster: the redirect for a pod on a node with a ready local pod', async () => {
    const r = await runBalanced(['explain', '--resolver', '--kubeconfig', kubeconfig, '--empty', '--protocol', 'udp', '--pod', 'shop/client', '10.96.0.53:53', '--json']);
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ node: 'node-a', result: 'resolved', frontends: [{ kind: 'redirect', policy: { kind: 'LocalRedirectPolicy', name: 'node-local-dns' }, outcome: 'resolves' }, { kind: 'service', outcome: 'not reached' }] });
  }, 60_000);

  it('reads a cluster without the policy CRDs at once (no wait for the timeout), without policies and with a warning', async () => {
    const bare = await TestApiServer.start({ customResources: [VIPPOOL_CRD], namespaces: ['default', 'shop'] });
    try {
      const { objects } = await readManifests([CLUSTER]);
      for (const s of objects.services) bare.store.put('services', s);
      const bareConfig = join(dir, 'bare');
      await writeFile(bareConfig, bare.kubeconfigYaml());
      const started = Date.now();
      const r = await runBalanced(['plan', '--kubeconfig', bareConfig, '--empty', '--component', 'resolver', '--timeout', '30', '--json']);
      const seconds = (Date.now() - started) / 1000;
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/warning: LocalRedirectPolicies not read \(.*404/);
      expect(r.stderr).toMatch(/warning: BalancingPolicies not read \(.*404/);
      expect(r.stderr).not.toMatch(/VipPools not read/);
      expect(json<{ resolver: { frontendKinds: unknown } }>(r).resolver.frontendKinds).toEqual({ redirect: 0, balancing: 0, service: 3 });
      // Well under the 30 s timeout: a 404 (CRD not installed) is not waited out.
      expect(seconds).toBeLessThan(20);
    } finally {
      await bare.stop();
    }
  }, 60_000);

  it('fails with exit 1 when the API server does not answer', async () => {
    const dead = await TestApiServer.start();
    const deadConfig = join(dir, 'dead');
    await writeFile(deadConfig, dead.kubeconfigYaml());
    await dead.stop();
    const r = await runBalanced(['plan', '--kubeconfig', deadConfig, '--empty', '--timeout', '1', '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^balanced: cluster at http:\/\/127\.0\.0\.1:\d+ did not answer within 1000 ms/);
  }, 60_000);
});
