// The watch protocol through client-node's Watch: replay, synthetic ADDED, 410 Expired,
// bookmarks, timeoutSeconds, and selector transitions.

import { afterEach, beforeEach, expect, test } from '@jest/globals';
import type { KubeConfig } from '@kubernetes/client-node';

import { TestApiServer } from '../../src/apiserver/index.js';
import type { OpenWatch } from './support.js';
import { openWatch, service, waitFor } from './support.js';

const SERVICES = '/api/v1/namespaces/default/services';
let server: TestApiServer;
let kc: KubeConfig;
const watches: OpenWatch[] = [];

beforeEach(async () => {
  server = await TestApiServer.start({ bookmarkIntervalMs: 50 });
  kc = server.kubeConfig();
});
afterEach(async () => {
  for (const w of watches.splice(0)) w.abort();
  await server.stop();
});

async function watch(path: string, query: Record<string, string | number | boolean | undefined>): Promise<OpenWatch> {
  const w = await openWatch(kc, path, query);
  watches.push(w);
  return w;
}

test('without a resourceVersion: synthetic ADDED for existing objects, then live events', async () => {
  server.store.put('services', service('existing'));
  const w = await watch(SERVICES, {});
  await waitFor(() => w.events.length === 1, 'synthetic ADDED');
  server.store.put('services', service('new'));
  server.store.put('services', { ...service('new'), spec: { ports: [{ port: 81 }] } });
  server.store.delete('services', 'new');
  await waitFor(() => w.events.length === 4, 'live events');
  expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED existing', 'ADDED new', 'MODIFIED new', 'DELETED new']);
  // The DELETED object carries the deletion's resourceVersion.
  expect(w.events[3]?.resourceVersion).toBe(server.store.resourceVersion);
  expect(w.events[0]?.object['kind']).toBe('Service');
});

test('from a resourceVersion: replays retained changes after it, in order', async () => {
  const a = server.store.put('services', service('a'));
  server.store.put('services', service('b'));
  server.store.put('nodes', { metadata: { name: 'n' } }); // another kind: not replayed
  server.store.delete('services', 'a');
  const w = await watch(SERVICES, { resourceVersion: a.metadata.resourceVersion });
  await waitFor(() => w.events.length === 2, 'replay');
  expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED b', 'DELETED a']);
});

test('from a compacted resourceVersion: one ERROR event with 410 Expired, then the stream ends', async () => {
  const a = server.store.put('services', service('a'));
  server.store.put('services', service('b'));
  server.compact();
  const w = await watch(SERVICES, { resourceVersion: a.metadata.resourceVersion });
  expect(await w.ended).toBeNull();
  expect(w.events).toHaveLength(1);
  expect(w.events[0]?.type).toBe('ERROR');
  expect(w.events[0]?.object).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 });
});

test('a bounded history expires old resourceVersions by itself', async () => {
  await server.stop();
  server = await TestApiServer.start({ historySize: 1, namespaces: [] });
  kc = server.kubeConfig();
  const first = server.store.put('services', service('a'));
  server.store.put('services', service('b'));
  server.store.put('services', service('c'));
  const expired = await watch(SERVICES, { resourceVersion: first.metadata.resourceVersion });
  await expired.ended;
  expect(expired.events[0]?.object).toMatchObject({ code: 410 });
  const fine = await watch(SERVICES, { resourceVersion: String(Number(first.metadata.resourceVersion) + 1) });
  await waitFor(() => fine.events.length === 1, 'retained event');
  expect(fine.events[0]?.name).toBe('c');
});

test('bookmarks carry the current resourceVersion when allowed, and only then', async () => {
  const plain = await watch(SERVICES, { resourceVersion: server.store.resourceVersion });
  const w = await watch(SERVICES, { resourceVersion: server.store.resourceVersion, allowWatchBookmarks: true });
  server.store.put('nodes', { metadata: { name: 'elsewhere' } });
  await waitFor(() => w.events.some((e) => e.type === 'BOOKMARK' && e.resourceVersion === server.store.resourceVersion), 'bookmark');
  expect(w.events.find((e) => e.type === 'BOOKMARK')?.object).toMatchObject({ kind: 'Service', apiVersion: 'v1' });
  expect(plain.events).toEqual([]);
});

test('timeoutSeconds ends the stream cleanly', async () => {
  const started = Date.now();
  const w = await watch(SERVICES, { timeoutSeconds: 1 });
  expect(await w.ended).toBeNull();
  expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  expect(server.openWatches).toBe(0);
});

test('selectors on watch: entering the selection is ADDED, leaving it is DELETED', async () => {
  const w = await watch(SERVICES, { labelSelector: 'balanced=yes', resourceVersion: server.store.resourceVersion });
  server.store.put('services', service('s', { balanced: 'no' }));
  server.store.put('services', service('s', { balanced: 'yes' }));
  server.store.put('services', { ...service('s', { balanced: 'yes' }), spec: { ports: [{ port: 1 }] } });
  server.store.put('services', service('s', { balanced: 'no' }));
  await waitFor(() => w.events.length === 3, 'three events');
  expect(w.events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
});

test('field selector on pods by spec.nodeName, across namespaces', async () => {
  const w = await watch('/api/v1/pods', { fieldSelector: 'spec.nodeName=node-1', resourceVersion: '0' });
  server.store.put('pods', { metadata: { name: 'p1', namespace: 'default' }, spec: { nodeName: 'node-1' } });
  server.store.put('pods', { metadata: { name: 'p2', namespace: 'kube-system' }, spec: { nodeName: 'node-2' } });
  server.store.put('pods', { metadata: { name: 'p3', namespace: 'kube-system' }, spec: { nodeName: 'node-1' } });
  await waitFor(() => w.events.length === 2, 'two pods');
  expect(w.events.map((e) => e.name)).toEqual(['p1', 'p3']);
});

test('a watch on one object path (legacy /watch/ prefix) sees only that object', async () => {
  const w = await watch('/api/v1/watch/namespaces/default/services/one', { resourceVersion: server.store.resourceVersion });
  server.store.put('services', service('other'));
  server.store.put('services', service('one'));
  await waitFor(() => w.events.length === 1, 'one event');
  expect(w.events[0]?.name).toBe('one');
});

test('a list at an exact, compacted resourceVersion is HTTP 410 Expired', async () => {
  const old = server.store.put('services', service('a')).metadata.resourceVersion;
  const url = `${server.url}${SERVICES}?resourceVersion=${old}&resourceVersionMatch=Exact`;
  expect((await fetch(url)).status).toBe(200);
  server.store.put('services', service('b'));
  server.compact();
  const res = await fetch(url);
  expect(res.status).toBe(410);
  expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
  // NotOlderThan (and no match) serve the current state, as the real server does.
  expect((await fetch(`${server.url}${SERVICES}?resourceVersion=${old}&resourceVersionMatch=NotOlderThan`)).status).toBe(200);
});
