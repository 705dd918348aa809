// Two replicas at once against one API server, while 1,000 random creates, deletes and type
// changes happen, and the leader is stopped half way (a third replica joins later). Their
// watches lag 25 ms behind the store, so they must not trust their caches alone:
// - after every single change in the store, no address is in the status of two Services;
// - every write (Service status, Event) came from the replica that held the Lease when the
//   write reached the API server (each replica talks through its own tagging proxy);
// - at the end the allocator has nothing left to do, and the statuses are what a fresh plan
//   over the final state says.

import { afterEach, beforeEach, expect, it } from '@jest/globals';
import type { V1Service } from '@kubernetes/client-node';
import type { TestApiServer } from '@balanced/testkit';

import { allocate } from '../src/allocate.js';
import { PoolCatalog } from '../src/pool-catalog.js';
import { describeService } from '../src/service-input.js';
import { duplicates, leaseHolder, putPool, putService, startApiServer, startReplica, statusIps, type Replica } from './harness.js';
import { waitFor } from './poll.js';
import type { RequestLog } from './tagging-proxy.js';

let server: TestApiServer;
const replicas: Replica[] = [];

beforeEach(async () => {
  server = await startApiServer();
});
afterEach(async () => {
  for (const r of replicas.splice(0)) await r.stop();
  await server.stop();
});

/** mulberry32: a seeded PRNG, so a failure can be replayed with VIP_TEST_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OPS = 1000;
const LEASE = { leaseDurationSeconds: 5, renewDeadlineSeconds: 3, retryPeriodSeconds: 0.1 } as const;
/** Every replica's informers see changes this late: planning from the cache alone would hand out addresses twice. */
const WATCH_DELAY_MS = 50;

it(`two replicas, ${OPS} random creates/deletes, leader stopped half way: no address twice, only the leader writes`, async () => {
  const seed = Number(process.env['VIP_TEST_SEED'] ?? Date.now() % 1_000_000);
  const random = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const context = `seed ${seed} (replay with VIP_TEST_SEED=${seed})`;

  putPool(server, 'default', { cidrs: ['10.96.0.0/27'] });
  putPool(server, 'edge', { cidrs: ['10.97.0.0/29'], serviceSelector: { matchLabels: { tier: 'edge' } }, avoidBuggyIPs: true });
  putPool(server, 'reserved', { cidrs: ['10.98.0.0/29'], autoAssign: false });

  // Watch every change as it is stored.
  const violations: string[] = [];
  let changes = 0;
  server.store.subscribe((event) => {
    if (event.resource.plural !== 'services') return;
    changes++;
    const dups = duplicates(server);
    if (dups.length > 0 && violations.length < 5) violations.push(`after rv ${event.resourceVersion}: ${JSON.stringify(dups)}`);
  });

  const log: RequestLog = { entries: [], seq: 0 };
  const start = async (identity: string): Promise<Replica> => {
    const r = await startReplica(server, identity, log, LEASE, { watchDelayMs: WATCH_DELAY_MS });
    replicas.push(r);
    return r;
  };
  const a = await start('alloc-a');
  const b = await start('alloc-b');
  await waitFor(() => [a, b].some((r) => r.running.elector.isLeader()) && a.running.synced() && b.running.synced(), 'a leader');
  const first = a.running.elector.isLeader() ? a : b;

  const names = Array.from({ length: 90 }, (_, i) => `svc-${i}`);
  const requestable = [...Array.from({ length: 32 }, (_, i) => `10.96.0.${i}`), ...Array.from({ length: 8 }, (_, i) => `10.98.0.${i}`)];
  const live = new Set<string>();
  let stopping: Promise<void> | undefined;
  const counts = { create: 0, delete: 0, retype: 0 };
  for (let op = 0; op < OPS; op++) {
    if (op === OPS / 2) stopping = first.stop(); // graceful: finish, release the Lease
    if (op === (OPS * 3) / 4) await start('alloc-c');
    const r = random();
    const free = names.filter((n) => !live.has(n));
    if ((r < 0.55 && free.length > 0) || live.size === 0) {
      const name = pick(free);
      const kind = random();
      putService(server, name, {
        labels: random() < 0.2 ? { tier: 'edge' } : {},
        ...(kind < 0.05 ? { loadBalancerClass: 'example.com/other' } : {}),
        ...(kind >= 0.05 && kind < 0.15 ? { annotations: { 'balanced.dev/ip-request': `${pick(requestable)},${pick(requestable)}` } } : {}),
        ...(kind >= 0.15 && kind < 0.2 ? { annotations: { 'balanced.dev/ip-pool': 'reserved' } } : {}),
        ...(kind >= 0.2 && kind < 0.25 ? { loadBalancerIP: pick(requestable) } : {}),
      });
      live.add(name);
      counts.create++;
    } else if (r < 0.93) {
      const name = pick([...live]);
      server.store.delete('services', name);
      live.delete(name);
      counts.delete++;
    } else {
      const name = pick([...live]);
      const current = server.store.get('services', name)!;
      server.store.put('services', { ...current, spec: { ...(current['spec'] as object), type: 'ClusterIP', loadBalancerClass: undefined } });
      counts.retype++;
    }
    // Let the replicas work between changes, sometimes a little, sometimes not at all.
    const pause = random();
    if (pause < 0.3) await new Promise((resolve) => setImmediate(resolve));
    else if (pause < 0.8) await new Promise((resolve) => setTimeout(resolve, 1));
    else await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await stopping;

  // Settled: a plan over what the store holds now has nothing left to write.
  const catalog = new PoolCatalog();
  const remaining = (): number => {
    const pools = catalog.update(server.store.list('vippools')).pools;
    const inputs = server.store.list('services').map((s) => describeService(s as unknown as V1Service, { defaultClass: false }));
    return allocate({ services: inputs, pools }).changes.length;
  };
  await waitFor(() => remaining() === 0, () => `the allocator to settle (${remaining()} changes left; ${context})`, 20_000);

  expect({ context, violations }).toEqual({ context, violations: [] });
  expect(duplicates(server)).toEqual([]);

  const writes = log.entries.filter((e) => e.path.endsWith('/status') || (e.method === 'POST' && e.path.endsWith('/events')) || (e.method === 'PATCH' && e.path.includes('/events/')));
  const notByHolder = writes.filter((e) => e.who !== e.note);
  expect({ context, notByHolder: notByHolder.slice(0, 5) }).toEqual({ context, notByHolder: [] });
  // The first leader wrote, stopped, and the other one took over: their writes do not interleave.
  const second = first === a ? b : a;
  const statusWrites = writes.filter((e) => e.path.endsWith('/status'));
  const byFirst = statusWrites.filter((e) => e.who === first.identity);
  const bySecond = statusWrites.filter((e) => e.who === second.identity);
  expect(byFirst.length).toBeGreaterThan(0);
  expect(bySecond.length).toBeGreaterThan(0);
  expect(Math.max(...byFirst.map((e) => e.seq))).toBeLessThan(Math.min(...bySecond.map((e) => e.seq)));
  expect(statusWrites.filter((e) => e.who === 'alloc-c')).toEqual([]);
  expect(leaseHolder(server)).toBe(second.identity);

  const assigned = Object.values(statusIps(server)).filter((ips) => ips.length > 0).length;
  expect(assigned).toBeGreaterThan(10);
  expect(changes).toBeGreaterThan(OPS);
  if (process.env['VIP_TEST_VERBOSE']) {
    process.stderr.write(
      `two-allocators: ${context}; ${counts.create} creates, ${counts.delete} deletes, ${counts.retype} type changes; ` +
        `${statusWrites.length} status writes (${statusWrites.filter((e) => e.status === 409).length} conflicts), ${changes} Service changes checked, ${assigned} Services hold an address at the end\n`,
    );
  }
}, 60_000);
