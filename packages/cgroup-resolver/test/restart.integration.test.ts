import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  addLocalAddresses,
  createNetns,
  createTestCgroup,
  createTestPinRoot,
  deleteNetns,
  ensureBpffs,
  removeTestCgroup,
  removeTestPinRoot,
  startIdentityServers,
  startResolverClient,
  TestApiServer,
  type IdentityServers,
  type ResolverClient,
} from '@balanced/testkit';
import { ResolverMaps } from '../src/maps/resolver-maps.js';
import type { MapsDump } from '../src/model.js';
import { BACKENDS, eventually, node, NODE, NODE_IP, resolvedBackends, service, slice, TARGET_PORT } from './support/resolver-e2e.js';

// The real binary (dist/main.js), killed with SIGKILL while a client connects without pause,
// then started again: resolution never stops (programs and maps are pinned), nothing is
// flushed, and the second agent writes nothing when nothing changed.
const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');

let server: TestApiServer;
let netns: string;
let cgroup: string;
let pinRoot: string;
let dir: string;
let servers: IdentityServers;
let client: ResolverClient;
const agents: Agent[] = [];

interface Agent {
  readonly child: ChildProcess;
  readonly url: string;
  readonly lines: string[];
  readonly exited: Promise<number | string | null>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function startAgent(extra: readonly string[] = []): Promise<Agent> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, '--kubeconfig', join(dir, 'kubeconfig'), '--node-name', NODE, '--cgroup', cgroup, '--pin-root', pinRoot, '--metrics-port', String(port), '--log-level', 'debug', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr!.on('data', (d: Buffer) => lines.push(d.toString('utf8')));
  const exited = new Promise<number | string | null>((r) => child.once('exit', (code, signal) => r(code ?? signal)));
  const agent = { child, url: `http://127.0.0.1:${port}`, lines, exited };
  agents.push(agent);
  await eventually(
    'the agent to be ready',
    async () => (await fetch(`${agent.url}/readyz`).then((r) => r.status, () => 0)) || (child.exitCode !== null ? -1 : 0),
    (s) => s === 200 || s === -1,
    30_000,
    50,
  ).then((s) => {
    if (s !== 200) throw new Error(`agent exited: ${lines.join('\n')}`);
  });
  return agent;
}

async function metric(agent: Agent, name: string): Promise<number> {
  const text = await (await fetch(`${agent.url}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
}

function dump(): MapsDump {
  const maps = ResolverMaps.open(pinRoot);
  try {
    return maps.dump();
  } finally {
    maps.close();
  }
}

beforeAll(async () => {
  await ensureBpffs();
  server = await TestApiServer.start({ bookmarkIntervalMs: 500 });
  netns = await createNetns();
  cgroup = await createTestCgroup('bdk');
  pinRoot = await createTestPinRoot('bdk');
  await addLocalAddresses(netns, [BACKENDS.a1.address, BACKENDS.a2.address, BACKENDS.a3.address, NODE_IP]);
  servers = await startIdentityServers({ netns, listeners: (['a1', 'a2', 'a3'] as const).map((name) => ({ name, address: BACKENDS[name].address, port: TARGET_PORT })) });
  client = await startResolverClient({ netns, cgroup });
  dir = mkdtempSync(join(tmpdir(), 'bdk-'));
  writeFileSync(join(dir, 'kubeconfig'), server.kubeconfigYaml(), { mode: 0o600 });
  server.store.put('nodes', node(NODE, NODE_IP));
  server.store.put('services', service({ name: 'web', clusterIPs: ['10.96.0.10'] }));
  server.store.put('endpointslices', slice('web', ['a1', 'a2']));
});

afterAll(async () => {
  for (const a of agents) if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
  await Promise.all(agents.map((a) => a.exited));
  await client?.stop();
  await servers?.stop();
  if (pinRoot) await removeTestPinRoot(pinRoot);
  if (cgroup) await removeTestCgroup(cgroup);
  if (netns) await deleteNetns(netns);
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('balanced-cgroup-resolver restarts', () => {
  test('SIGKILL during a connect loop, then a new agent: zero failed connects, nothing flushed, no map write when nothing changed', async () => {
    const first = await startAgent();
    await eventually('web resolved', () => resolvedBackends(pinRoot, '10.96.0.10', 80), (r) => r?.join() === 'a1,a2');
    expect(await metric(first, 'balanced_resolver_map_writes_total')).toBeGreaterThan(0);
    // Once its first pass has ended: one full GC, then the deployed heap growth limit.
    const settled = await eventually('heap bounded', () => first.lines.find((l) => l.includes('first pass ended: heap collected')), (l) => l !== undefined);
    expect(JSON.parse(settled as string)).toMatchObject({ heapGrowingPercent: 30, gcMs: expect.any(Number), rssMb: expect.any(Number) });
    const before = dump();

    const loop = await client.startLoop({ address: '10.96.0.10', port: 80 });
    await new Promise((r) => setTimeout(r, 300));
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    await new Promise((r) => setTimeout(r, 700)); // no agent at all: the pinned programs resolve on
    expect(dump()).toEqual(before);

    const second = await startAgent();
    expect(second.lines.join('\n')).toContain('adopted pinned programs and maps');
    expect(await metric(second, 'balanced_resolver_passes_total')).toBeGreaterThan(0);
    expect({ writes: await metric(second, 'balanced_resolver_map_writes_total'), log: second.lines.filter((l) => l.includes('programmed maps')) }).toEqual({ writes: 0, log: [] });
    expect(dump()).toEqual(before);

    // …and it programs changes as the first one did.
    server.store.put('endpointslices', slice('web', ['a1', 'a2', 'a3']));
    await eventually('web scaled', () => resolvedBackends(pinRoot, '10.96.0.10', 80), (r) => r?.join() === 'a1,a2,a3');
    await new Promise((r) => setTimeout(r, 200));
    const result = await loop.stop();
    const failures = result.timeline.filter((a) => !a.ok);
    expect(result.timeline.length).toBeGreaterThan(100);
    expect(failures).toEqual([]);
    expect(new Set(result.timeline.map((a) => (a.ok ? a.backend : '')))).toEqual(new Set(['a1', 'a2', 'a3']));

    // SIGTERM: the agent stops, the programs stay and keep resolving.
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    const after = await client.tcp({ address: '10.96.0.10', port: 80, count: 30 });
    expect(after.failures).toEqual({});
  });

  test('a frontend deleted behind the agent: its next re-read says what differs, counts it, and puts the frontend back', async () => {
    const agent = await startAgent(['--resync-seconds', '1']);
    await eventually('web resolved', () => resolvedBackends(pinRoot, '10.96.0.10', 80), (r) => r?.join() === 'a1,a2,a3');
    expect(await metric(agent, 'balanced_resolver_maps_drift_total')).toBe(0);
    const frontend = dump().frontends.find((f) => f.address === '10.96.0.10' && f.port === 80 && f.kind === 'service');
    expect(frontend).toBeDefined();
    // Another writer: the frontend goes.
    const maps = ResolverMaps.open(pinRoot);
    try {
      expect(maps.apply({ ops: [{ op: 'frontend-delete', frontend: frontend! }], removed: [], serviceIds: new Map() }).failed).toEqual([]);
    } finally {
      maps.close();
    }
    await eventually('web repaired', () => resolvedBackends(pinRoot, '10.96.0.10', 80), (r) => r?.join() === 'a1,a2,a3', 10_000);
    expect(await metric(agent, 'balanced_resolver_maps_drift_total')).toBe(1);
    const warned = agent.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg?: string; difference?: string }).filter((l) => l.msg?.startsWith('the pinned maps differ'));
    expect(warned.map((l) => l.difference)).toEqual([expect.stringMatching(/^the maps hold \d+ frontends, .*; the agent's view \d+, /)]);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });
});
