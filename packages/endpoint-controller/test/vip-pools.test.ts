// Issue 14: the endpoint-controller reads its VIP ranges from the VipPools, no --vip-cidr.
// The real startEndpointController against the test API server, as its ServiceAccount under
// the RBAC of deploy/endpoint-controller.yaml; pod namespaces come from a fake resolver that
// finds none, so a pod it means to program shows up as a NetnsNotFound failure (a pod with no
// VIP of ours is only cleaned, and a missing namespace is nothing to clean).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { TestApiServer, findRepoRoot } from '@balanced/testkit';
import { pino } from 'pino';
import { parseAllDocuments } from 'yaml';
import { startEndpointController, type RunningEndpointController } from '../src/app.js';
import type { PodNetnsResolver } from '../src/netns/resolver.js';

const NS = 'balanced-system';
const SA = 'balanced-endpoint-controller';
const VIPPOOL_CRD = { group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools', kind: 'VipPool', namespaced: false } as const;

let api: TestApiServer;
let dir: string;
let running: RunningEndpointController | undefined;

beforeEach(async () => {
  api = await TestApiServer.start({ rbac: true, customResources: [VIPPOOL_CRD], namespaces: ['default', NS] });
  api.load(parseAllDocuments(readFileSync(join(findRepoRoot(), 'deploy', 'endpoint-controller.yaml'), 'utf8')).map((d) => d.toJS() as unknown));
  dir = mkdtempSync(join(tmpdir(), 'epc-pools-'));
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

const asked: string[] = [];
const noNamespace: PodNetnsResolver = {
  name: 'none',
  resolve: async (pod) => {
    asked.push(pod.name);
    return null;
  },
};

async function start(vipCidrs: string[] = []): Promise<RunningEndpointController> {
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, api.serviceAccountKubeconfigYaml(NS, SA));
  running = await startEndpointController(
    { kubeconfig, nodeName: 'node-a', vipCidrs, vipPools: true, defaultClass: false, criSockets: [], procScan: false, procRoot: '/proc', resyncSeconds: 3600, metricsHost: '127.0.0.1', metricsPort: 0, resolver: noNamespace, restartDelayMs: { min: 20, max: 100 } },
    pino({ level: 'silent' }),
  );
  return running;
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const readyz = async (r: RunningEndpointController): Promise<{ status: number; text: string }> => {
  const res = await fetch(`${r.health.url}/readyz`);
  return { status: res.status, text: await res.text() };
};
const programAttempts = async (r: RunningEndpointController): Promise<number> => {
  const m = /^balanced_endpoint_errors_total\{reason="NetnsNotFound"\} (\d+)$/m.exec(await (await fetch(`${r.health.url}/metrics`)).text());
  return Number(m?.[1] ?? 0);
};

function backendOfAVip(): void {
  api.store.put('pods', { metadata: { name: 'web-0', namespace: 'default', uid: 'u-web-0' }, spec: { nodeName: 'node-a', containers: [{ name: 'c' }] }, status: { phase: 'Running', podIP: '10.244.0.2' } });
  api.store.put('services', {
    metadata: { name: 'web', namespace: 'default' },
    spec: { type: 'LoadBalancer', loadBalancerClass: 'balanced.dev/ipvs', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    status: { loadBalancer: { ingress: [{ ip: '10.96.100.10' }] } },
  });
  api.store.put('endpointslices', {
    metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.244.0.2'], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: 'default', name: 'web-0', uid: 'u-web-0' } }],
  });
}

it('no --vip-cidr: not ready, saying why, until a VipPool gives a range; then it programs the VIPs inside it', async () => {
  backendOfAVip();
  const r = await start();
  const before = await until(() => readyz(r), (p) => p.text.includes('no VIP range'), 'not ready for want of a range');
  expect(before.status).toBe(503);
  expect(before.text).toMatch(/no VIP range: no valid VipPool \(balanced\.dev\/v1alpha1\) and no --vip-cidr; nothing would be programmed/);
  expect(await programAttempts(r)).toBe(0);

  api.store.put('vippools', { apiVersion: 'balanced.dev/v1alpha1', kind: 'VipPool', metadata: { name: 'default' }, spec: { cidrs: ['10.96.100.0/24'] } });
  const after = await until(() => readyz(r), (p) => p.status === 200, 'ready once the pool is read');
  expect(after.text).toMatch(/VIP ranges: 10\.96\.100\.0\/24/);
  expect(await until(() => programAttempts(r), (n) => n > 0, 'the pod programmed with the pool\'s VIP')).toBeGreaterThan(0);
  expect(asked).toContain('web-0');
});

it('--vip-cidr still owns its range (as an extra), with the VipPools read too', async () => {
  backendOfAVip();
  const r = await start(['10.96.100.0/24']);
  expect((await until(() => readyz(r), (p) => p.status === 200, 'ready with --vip-cidr alone')).text).toMatch(/VIP ranges: 10\.96\.100\.0\/24/);
  expect(await until(() => programAttempts(r), (n) => n > 0, 'the pod programmed')).toBeGreaterThan(0);
});
