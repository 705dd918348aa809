// The status pass and its loop (src/policy-status/pass.ts, writer.ts, recent-writes.ts) over a
// scripted API: isolated failures, leadership checks, read-your-writes, debounce and retry.

import { describe, expect, test } from '@jest/globals';
import { addressFrontend, lrp, manualTimers, type Json } from '@balanced/testkit';
import { Registry } from 'prom-client';

import {
  PolicyStatusMetrics,
  PolicyStatusWriter,
  RecentWrites,
  runStatusPass,
  type PolicyStatusApi,
  type PolicyStatusPorts,
  type ProgrammedState,
  type StatusTarget,
  type StatusWriteResult,
} from '../src/policy-status/index.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');

interface Call {
  readonly target: StatusTarget;
  readonly status: Readonly<Record<string, unknown>>;
}

/** Answers writes as scripted per policy name (default: ok, the object with the patch applied and a new resourceVersion). */
function scriptedApi(objects: () => readonly Json[], script: Record<string, StatusWriteResult['kind']> = {}): PolicyStatusApi & { calls: Call[] } {
  const calls: Call[] = [];
  let rv = 1000;
  return {
    calls,
    patchStatus(target, status) {
      calls.push({ target, status });
      const kind = script[target.name] ?? 'ok';
      if (kind === 'conflict' || kind === 'notfound') return Promise.resolve({ kind });
      if (kind === 'error') return Promise.resolve({ kind, error: new Error(`HTTP 422: ${target.name} is invalid`) });
      const current = objects().find((o) => (o['metadata'] as Json)['name'] === target.name);
      const applied = Object.fromEntries(Object.entries(status).filter(([, v]) => v !== null));
      return Promise.resolve({ kind: 'ok', object: { ...current, metadata: { ...(current?.['metadata'] as Json), resourceVersion: String(++rv) }, status: applied } });
    },
  };
}

function ports(programmed: () => ProgrammedState = () => ({ status: 'True', reason: 'Programmed', message: 'in the maps' })): PolicyStatusPorts {
  return { programmed, backendsPerNode: () => undefined };
}

function policy(name: string, i: number): Json {
  return lrp(name, { frontend: addressFrontend(`10.1.0.${i}`), backend: { endpointSelector: { matchLabels: { app: name } }, toPorts: [{ port: 8080, protocol: 'TCP' }] } }, { creationTimestamp: '2025-12-01T00:00:00Z', generation: 1, resourceVersion: String(100 + i) });
}

async function writes(registry: Registry): Promise<Record<string, number>> {
  const [metric] = (await registry.getMetricsAsJSON()).filter((m) => m.name === 'balanced_resolver_policy_status_writes_total');
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels['result']), v.value]));
}

describe('runStatusPass', () => {
  test('one policy’s failed write does not stop the others; 404 and 409 are not errors; each result is counted', async () => {
    const objects = [policy('a', 1), policy('b', 2), policy('c', 3), policy('d', 4)];
    const api = scriptedApi(() => objects, { b: 'error', c: 'conflict', d: 'notfound' });
    const registry = new Registry();
    const report = await runStatusPass({ objects, ports: ports(), api, isLeader: () => true, now: NOW, metrics: new PolicyStatusMetrics(registry) });
    expect(api.calls.map((c) => c.target.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(report).toMatchObject({ leader: true, policies: 4, unchanged: 0, written: ['LocalRedirectPolicy/a'], conflicts: ['LocalRedirectPolicy/c'], notFound: ['LocalRedirectPolicy/d'], abandoned: false });
    expect(report.errors.map((e) => [e.policy, e.error.message])).toEqual([['LocalRedirectPolicy/b', 'HTTP 422: b is invalid']]);
    expect(await writes(registry)).toEqual({ ok: 1, conflict: 1, notfound: 1, error: 1 });
  });

  test('each write carries the resourceVersion the status was computed from', async () => {
    const objects = [policy('a', 1)];
    const api = scriptedApi(() => objects);
    await runStatusPass({ objects, ports: ports(), api, isLeader: () => true, now: NOW });
    expect(api.calls[0]?.target).toEqual({ kind: 'LocalRedirectPolicy', name: 'a', resourceVersion: '101' });
  });

  test('not the leader: nothing is computed or written', async () => {
    const objects = [policy('a', 1)];
    const api = scriptedApi(() => objects);
    let asked = 0;
    const report = await runStatusPass({ objects, ports: ports(() => (asked++, { status: 'True', reason: 'Programmed', message: '' })), api, isLeader: () => false, now: NOW });
    expect(report).toMatchObject({ leader: false, policies: 0, written: [] });
    expect(api.calls).toEqual([]);
    expect(asked).toBe(0);
  });

  test('leadership lost during the pass: the remaining writes are dropped', async () => {
    const objects = [policy('a', 1), policy('b', 2), policy('c', 3)];
    const api = scriptedApi(() => objects);
    let checks = 0;
    const report = await runStatusPass({ objects, ports: ports(), api, isLeader: () => ++checks <= 2, now: NOW });
    expect(api.calls.map((c) => c.target.name)).toEqual(['a']);
    expect(report.abandoned).toBe(true);
  });

  test('a stale cache after our write: no second write; a real change is written over our version, not the stale one', async () => {
    const cached = [policy('a', 1)];
    const api = scriptedApi(() => cached);
    const recent = new RecentWrites();
    let state: ProgrammedState = { status: 'True', reason: 'Programmed', message: 'in the maps' };
    const input = { objects: cached, ports: ports(() => state), api, isLeader: () => true, recent };
    expect((await runStatusPass({ ...input, now: NOW })).written).toHaveLength(1);
    // The cache still shows resourceVersion 101 without a status.
    expect((await runStatusPass({ ...input, now: NOW + 1000 })).written).toHaveLength(0);
    state = { status: 'False', reason: 'MapsFull', message: 'full' };
    await runStatusPass({ ...input, now: NOW + 2000 });
    await runStatusPass({ ...input, now: NOW + 3000 });
    expect(api.calls.map((c) => c.target.resourceVersion)).toEqual(['101', '1001']);
    // Once the cache shows a newer version, it is used again.
    const caughtUp = [{ ...policy('a', 1), metadata: { ...(policy('a', 1)['metadata'] as Json), resourceVersion: '2000' } }];
    await runStatusPass({ ...input, objects: caughtUp, now: NOW + 4000 });
    expect(api.calls.at(-1)?.target.resourceVersion).toBe('2000');
  });
});

describe('PolicyStatusWriter', () => {
  function writer(objects: Json[], api: PolicyStatusApi, extra: { isLeader?: () => boolean; synced?: () => boolean } = {}) {
    const clock = manualTimers();
    const passes: number[] = [];
    const w = new PolicyStatusWriter({
      objects: () => objects,
      synced: extra.synced ?? (() => true),
      ports: ports(),
      api,
      isLeader: extra.isLeader ?? (() => true),
      timers: clock.timers,
      now: () => NOW + clock.now(),
      debounceMs: 100,
      resyncMs: 3_600_000,
      backoffMs: { min: 1000, max: 8000 },
      onPass: (r) => passes.push(r.written.length),
    });
    return { w, clock, passes };
  }

  test('a burst of changes is one pass after the debounce', async () => {
    const objects = [policy('a', 1)];
    const api = scriptedApi(() => objects);
    const { w, clock, passes } = writer(objects, api);
    w.start();
    await clock.advance(0);
    expect(passes).toEqual([1]);
    for (let i = 0; i < 5; i++) w.markDirty();
    await clock.advance(99);
    expect(passes).toHaveLength(1);
    await clock.advance(1);
    expect(passes).toEqual([1, 0]);
    await w.stop();
  });

  test('a pass with a failed write is retried with backoff; conflicts alone are not retried', async () => {
    const objects = [policy('a', 1), policy('b', 2)];
    const script: Record<string, StatusWriteResult['kind']> = { a: 'error', b: 'conflict' };
    const api = scriptedApi(() => objects, script);
    const { w, clock } = writer(objects, api);
    w.start();
    await clock.advance(0);
    expect(api.calls.map((c) => c.target.name)).toEqual(['a', 'b']);
    await clock.advance(1000);
    expect(api.calls.map((c) => c.target.name)).toEqual(['a', 'b', 'a', 'b']);
    script['a'] = 'ok';
    await clock.advance(2000);
    expect(api.calls).toHaveLength(6);
    await clock.advance(60_000);
    expect(api.calls).toHaveLength(6);
    await w.stop();
  });

  test('no pass writes before the policy caches have listed, nor on an agent that does not lead', async () => {
    const objects = [policy('a', 1)];
    const api = scriptedApi(() => objects);
    let synced = false;
    let leading = false;
    const { w, clock } = writer(objects, api, { synced: () => synced, isLeader: () => leading });
    w.start();
    await clock.advance(0);
    synced = true;
    w.markDirty();
    await clock.advance(100);
    expect(api.calls).toEqual([]);
    leading = true;
    w.leadershipStarted();
    await clock.advance(100);
    expect(api.calls).toHaveLength(1);
    await w.stop();
  });
});
