// The VipPool watch against the test API server (real client-node ListWatch over HTTP).

import { afterEach, beforeEach, expect, it } from '@jest/globals';
import type { TestApiServer } from '@balanced/testkit';

import { watchVipPools, type PoolWatch } from '@balanced/k8s';
import { putPool, startApiServer } from './harness.js';
import { waitFor } from './poll.js';

let server: TestApiServer;
let watch: PoolWatch | undefined;

beforeEach(async () => {
  server = await startApiServer();
});
afterEach(async () => {
  await watch?.stop();
  await server.stop();
});

const names = (): string[] => watch!.objects().map((o) => (o as { metadata: { name: string } }).metadata.name).sort();

it('lists, follows changes, and recovers from an API server restart and a compacted history', async () => {
  putPool(server, 'a', { cidrs: ['10.0.0.0/30'] });
  watch = watchVipPools(server.kubeConfig(), { restartDelayMs: { min: 20, max: 100 } });
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
  await waitFor(() => names().join() === 'b,c', () => `b,c after the restart (have ${names().join()}, last error ${watch?.lastError()})`);
  expect(changes).toBeGreaterThanOrEqual(4);
});

it('stop() before the first list rejects start() and leaves nothing open', async () => {
  await server.stop();
  server = await startApiServer(false); // no CRD: the list fails and is retried
  watch = watchVipPools(server.kubeConfig(), { restartDelayMs: { min: 20, max: 40 } });
  const started = watch.start();
  await waitFor(() => watch!.lastError() !== undefined, 'the first failure');
  expect(watch.lastError()).toBe('HTTP 404: the server could not find the requested resource');
  await watch.stop();
  await expect(started).rejects.toThrow('pool watch stopped');
  expect(server.openWatches).toBe(0);
});
