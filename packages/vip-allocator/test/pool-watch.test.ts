// VipPools through the cluster cache against the test API server (real client-node ListWatch over HTTP).

import { afterEach, beforeEach, expect, it } from '@jest/globals';
import type { TestApiServer } from '@balanced/testkit';

import { createClusterCache, type CacheLog, type ClusterCache } from '@balanced/k8s';
import { putPool, startApiServer } from './harness.js';
import { waitFor } from './poll.js';

let server: TestApiServer;
let watch: ClusterCache | undefined;
const quiet: CacheLog = { warn: () => undefined, info: () => undefined };

beforeEach(async () => {
  server = await startApiServer();
});
afterEach(async () => {
  await watch?.stop();
  await server.stop();
});

const names = (): string[] => watch!.vipPools().map((o) => (o as { metadata: { name: string } }).metadata.name).sort();

it('lists, follows changes, and recovers from an API server restart and a compacted history', async () => {
  putPool(server, 'a', { cidrs: ['10.0.0.0/30'] });
  watch = createClusterCache(server.kubeConfig(), { kinds: ['vippools'], restartDelayMs: { min: 20, max: 100 }, log: quiet });
  let changes = 0;
  watch.onChange(() => changes++);
  await watch.start();
  expect(watch.synced()).toBe(true);
  expect(names()).toEqual(['a']);
  putPool(server, 'b', { cidrs: ['10.0.1.0/30'] });
  await waitFor(() => names().join() === 'a,b', 'b to appear');

  await server.restart({ downtimeMs: 50 }); // connections cut, refused for a while
  putPool(server, 'c', { cidrs: ['10.0.2.0/30'] });
  server.store.delete('vippools', 'a');
  server.compact(); // the resumed watch gets 410 and relists
  await waitFor(() => names().join() === 'b,c', () => `b,c after the restart (have ${names().join()}, last error ${watch?.lastError('vippools')?.message})`);
  expect(changes).toBeGreaterThanOrEqual(4);
});

it('stop() before the first list rejects start() and leaves nothing open', async () => {
  await server.stop();
  server = await startApiServer(false); // no CRD: the list fails and is retried
  watch = createClusterCache(server.kubeConfig(), { kinds: ['vippools'], restartDelayMs: { min: 20, max: 40 }, log: quiet });
  const started = watch.start();
  await waitFor(() => watch!.lastError('vippools') !== undefined, 'the first failure');
  expect(watch.lastError('vippools')?.message).toBe('HTTP 404: the server could not find the requested resource');
  await watch.stop();
  await expect(started).rejects.toThrow('cluster cache stopped');
  expect(server.openWatches).toBe(0);
});
