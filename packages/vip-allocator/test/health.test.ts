// Issue 13 item 6, the allocator's side: /readyz tells the truth about the informers and the
// loop. The allocator runs as its ServiceAccount against the test API server enforcing the RBAC
// of deploy/vip-allocator.yaml; the test then takes `vippools` out of its ClusterRole (the API
// server answers the re-watch with 403), so /readyz turns false once the (shortened) grace has
// passed, and true again once the rule is back. /healthz stays ok throughout: the loop makes
// progress, and a refused kind is a readiness matter, not a reason to restart the process.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { TestApiServer, findRepoRoot } from '@balanced/testkit';
import { pino } from 'pino';
import { parseAllDocuments } from 'yaml';

import { startAllocator, type RunningAllocator } from '../src/app.js';
import { FAST_LEASE, VIPPOOL_CRD, putPool } from './harness.js';
import { waitFor } from './poll.js';

const NS = 'balanced-system';
const SA = 'balanced-vip-allocator';

let api: TestApiServer;
let running: RunningAllocator | undefined;
const logs: string[] = [];

beforeEach(async () => {
  api = await TestApiServer.start({ rbac: true, customResources: [VIPPOOL_CRD], namespaces: ['default', 'kube-system', NS] });
  const docs = parseAllDocuments(readFileSync(join(findRepoRoot(), 'deploy', 'vip-allocator.yaml'), 'utf8')).map((d) => d.toJS() as unknown);
  api.load(docs);
  putPool(api, 'gold', { cidrs: ['10.96.200.0/28'] });
  logs.length = 0;
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
  await api.stop();
});

async function start(): Promise<RunningAllocator> {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8').trimEnd());
      done();
    },
  });
  running = await startAllocator(
    {
      kubeConfig: api.serviceAccountKubeConfig(NS, SA),
      leaseNamespace: NS,
      leaseName: SA,
      identity: 'replica-a',
      defaultClass: false,
      metricsHost: '127.0.0.1',
      metricsPort: 0,
      resyncSeconds: 3600,
      ...FAST_LEASE,
      restartDelayMs: { min: 20, max: 100 },
      errorGraceMs: { refused: 300, other: 60_000 },
    },
    pino({ level: 'debug' }, sink),
  );
  return running;
}

async function probe(r: RunningAllocator, path: '/readyz' | '/healthz'): Promise<{ status: number; text: string }> {
  const res = await fetch(`${r.health.url}${path}`);
  return { status: res.status, text: await res.text() };
}

async function waitForProbe(r: RunningAllocator, path: '/readyz' | '/healthz', status: number, what: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const last = await probe(r, path);
    if (last.status === status) return last.text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${path} answered ${last.status} ${last.text}\n${logs.slice(-15).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The allocator's ClusterRole with or without its `vippools` rule. */
function setVipPoolsAllowed(allowed: boolean): void {
  const role = api.store.get('clusterroles', SA) as unknown as { rules: Array<{ resources: string[] }> } & Record<string, unknown>;
  const original = parseAllDocuments(readFileSync(join(findRepoRoot(), 'deploy', 'vip-allocator.yaml'), 'utf8'))
    .map((d) => d.toJS() as { kind?: string; rules?: Array<{ resources: string[] }> })
    .find((d) => d.kind === 'ClusterRole');
  const rules = (original?.rules ?? []).filter((r) => allowed || !r.resources.includes('vippools'));
  api.store.put('clusterroles', { ...role, rules });
}

it('a watched kind refused (403) past the grace: /readyz turns false and says why; back when allowed again; /healthz stays ok', async () => {
  const r = await start();
  expect(await waitForProbe(r, '/readyz', 200, 'ready at start')).toMatch(/^ok/);
  await waitFor(() => api.openWatches >= 2, 'both watches open');

  setVipPoolsAllowed(false);
  api.cutWatches(); // the informers re-watch (or relist): vippools is refused from now on
  const text = await waitForProbe(r, '/readyz', 503, 'not ready once vippools has been refused past the grace');
  expect(text).toMatch(/vippools failing for \d+ s: HTTP 403/);
  expect(logs.some((l) => /cluster cache: vippools (failed|still failing) \(HTTP 403/.test(l))).toBe(true); // the allocator's own logger
  expect((await probe(r, '/healthz')).status).toBe(200);
  const metrics = await (await fetch(`${r.health.url}/metrics`)).text();
  expect(metrics).toMatch(/^balanced_informer_errors_total\{kind="vippools",code="403"\} [1-9]\d*$/m);

  setVipPoolsAllowed(true);
  expect(await waitForProbe(r, '/readyz', 200, 'ready again once vippools is allowed')).toMatch(/^ok/);
  expect((await probe(r, '/healthz')).status).toBe(200);
});

it('not ready until both kinds have listed: a ServiceAccount that may not list vippools never becomes ready', async () => {
  setVipPoolsAllowed(false);
  const r = await start();
  const text = await waitForProbe(r, '/readyz', 503, 'not ready');
  expect(text).toMatch(/vippools not listed yet/);
  expect((await probe(r, '/healthz')).status).toBe(200);
});
