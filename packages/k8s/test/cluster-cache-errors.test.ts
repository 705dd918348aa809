// Informer failures are not silent: the cluster cache counts them (balanced_informer_errors_total),
// logs them rate-limited, and its readiness turns false once a kind has kept failing beyond its
// grace period. A small proxy in front of the test API server refuses one kind (RBAC-like 403).

import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { TestApiServer, testKubeConfig } from '@balanced/testkit';

import { createClusterCache, type ClusterCache } from '../src/cluster-cache.js';
import { startHealthServer, type HealthServer } from '../src/health.js';
import { waitFor } from './poll.js';

let api: TestApiServer;
let proxy: Server;
let proxyUrl: string;
/** Paths refused with 403 while set. */
let forbidden: RegExp | undefined;
let cache: ClusterCache | undefined;
let health: HealthServer | undefined;
let clock = 0;
const logged: { level: 'warn' | 'info'; fields: Record<string, unknown>; message: string }[] = [];
const log = {
  warn: (fields: object, message: string): void => void logged.push({ level: 'warn', fields: fields as Record<string, unknown>, message }),
  info: (fields: object, message: string): void => void logged.push({ level: 'info', fields: fields as Record<string, unknown>, message }),
};

beforeEach(async () => {
  api = await TestApiServer.start();
  const upstream = new URL(api.url);
  proxy = createServer((req, res) => {
    if (forbidden?.test(req.url ?? '') === true) {
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: `nodes is forbidden: User "system:serviceaccount:balanced:test" cannot list resource "nodes"` }));
      return;
    }
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      res.flushHeaders(); // a watch answers its headers at once, as the API server does
      up.pipe(res);
      up.on('aborted', () => res.destroy());
      up.on('error', () => res.destroy());
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  forbidden = undefined;
  clock = 0;
  logged.length = 0;
});
afterEach(async () => {
  await health?.close();
  health = undefined;
  await cache?.stop();
  cache = undefined;
  await api.stop();
  proxy.closeAllConnections();
  await new Promise((resolve) => proxy.close(resolve));
});

function start(): ClusterCache {
  cache = createClusterCache(testKubeConfig(proxyUrl), {
    kinds: ['services', 'nodes'],
    restartDelayMs: { min: 10, max: 20 },
    relistIntervalMs: 0,
    timers: { now: () => clock },
    errorGraceMs: { refused: 30_000, other: 120_000 },
    errorLogIntervalMs: 60_000,
    log,
  });
  return cache;
}

async function errorsMetric(registry: Registry): Promise<string> {
  return (await registry.getSingleMetricAsString('balanced_informer_errors_total')).split('\n').filter((l) => l.startsWith('balanced_informer_errors_total{')).join('\n');
}

it('a forbidden kind: counted by kind and code, logged once (not per retry), not ready; then recovered', async () => {
  forbidden = /^\/api\/v1\/nodes/;
  const c = start();
  const registry = new Registry();
  health = await startHealthServer({ port: 0, host: '127.0.0.1', registry, ready: () => true, checks: [c] });
  c.start().catch(() => undefined);
  await waitFor(() => c.stats().errors >= 5, () => `five failed lists of nodes (have ${c.stats().errors}, ${JSON.stringify(c.stats())})`, 3000);

  expect(c.synced('services')).toBe(true);
  expect(c.synced()).toBe(false);
  expect(c.lastError('nodes')).toMatchObject({ code: '403', message: expect.stringMatching(/^HTTP 403: nodes is forbidden/), since: 0 });
  expect(c.lastError('services')).toBeUndefined();
  const counted = await errorsMetric(registry);
  expect(counted).toMatch(/^balanced_informer_errors_total\{kind="nodes",code="403"\} \d+$/);
  expect(Number(counted.split(' ')[1])).toBeGreaterThanOrEqual(5);
  expect(logged.filter((l) => l.level === 'warn')).toEqual([
    { level: 'warn', fields: expect.objectContaining({ kind: 'nodes', code: '403', failures: 1 }), message: expect.stringMatching(/^cluster cache: nodes failed \(HTTP 403: nodes is forbidden/) },
  ]);
  const readyz = await fetch(`${health.url}/readyz`);
  expect(readyz.status).toBe(503);
  expect(await readyz.text()).toMatch(/^not ready: nodes not listed yet \(HTTP 403: nodes is forbidden/);

  forbidden = undefined;
  await waitFor(() => c.synced(), 'nodes listed once allowed');
  await waitFor(() => c.lastError('nodes') === undefined, 'the streak over once the watch connects');
  expect(logged.at(-1)).toMatchObject({ level: 'info', fields: { kind: 'nodes' }, message: 'cluster cache: nodes recovered' });
  expect((await fetch(`${health.url}/readyz`)).status).toBe(200);
});

it('a kind that fails after syncing stays ready through the grace period, then not; logged again once a minute meanwhile', async () => {
  const c = start();
  await c.start();
  await waitFor(() => api.openWatches === 2, 'both watches open');
  expect(c.readiness().ok).toBe(true);

  forbidden = /^\/api\/v1\/nodes/;
  api.cutWatches(); // both reconnect; nodes is refused from now on
  await waitFor(() => (c.lastError('nodes')?.count ?? 0) >= 3, 'nodes failing');
  await waitFor(() => api.openWatches === 1, 'services watching again');
  expect(c.readiness()).toMatchObject({ ok: true, detail: expect.stringMatching(/^nodes failing for 0 s \(grace 30 s\): HTTP 403/) });
  clock = 30_000;
  expect(c.readiness().ok).toBe(true);
  clock = 30_001;
  expect(c.readiness()).toMatchObject({ ok: false, detail: expect.stringMatching(/^nodes failing for 30 s: HTTP 403/) });
  expect(c.services()).toEqual([]); // the cache still answers from what it holds
  const refusals = (): typeof logged => logged.filter((l) => l.level === 'warn' && l.fields['kind'] === 'nodes' && l.fields['code'] === '403');
  expect(refusals()).toHaveLength(1); // the cut itself was logged too: a new code is always logged
  clock = 60_000;
  const before = c.lastError('nodes')?.count ?? 0;
  await waitFor(() => (c.lastError('nodes')?.count ?? 0) > before, 'another failure');
  expect(refusals()).toHaveLength(2);
  expect(refusals()[1]?.message).toMatch(/^cluster cache: nodes still failing \(HTTP 403/);

  forbidden = undefined;
  await waitFor(() => c.lastError('nodes') === undefined, 'recovered');
  expect(c.readiness().ok).toBe(true);
});

it('an API server outage is an error too (socket code), with the longer grace', async () => {
  const c = start();
  await c.start();
  await api.stop();
  await waitFor(() => c.lastError('services') !== undefined && c.lastError('nodes') !== undefined, 'both kinds failing');
  expect(c.lastError('services')?.code).toMatch(/^(ECONNREFUSED|ECONNRESET|unknown)$/);
  clock = 120_000;
  expect(c.readiness().ok).toBe(true);
  clock = 120_001;
  expect(c.readiness().ok).toBe(false);
});
