import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { TestApiServer, testKubeConfig } from '@balanced/testkit';

import type { InvolvedObject } from '../src/desired-state.js';
import { EventRecorder, type EventObject } from '../src/events.js';

let server: TestApiServer;
let clock: Date;
let recorder: EventRecorder;

beforeEach(async () => {
  server = await TestApiServer.start();
  clock = new Date('2025-01-02T03:04:05Z');
  recorder = new EventRecorder(server.kubeConfig(), { component: 'balanced-ipvs-controller', host: 'director-1', now: () => clock });
});
afterEach(async () => {
  await server.stop();
});

const web: EventObject = { kind: 'Service', namespace: 'shop', name: 'web', uid: 'uid-web', apiVersion: 'v1' };
const events = (namespace?: string): Array<Record<string, unknown>> =>
  server.store.list('events', namespace === undefined ? {} : { namespace }) as unknown as Array<Record<string, unknown>>;

describe('EventRecorder', () => {
  it('creates a core/v1 Event in the object’s namespace', async () => {
    await recorder.record(web, 'Warning', 'PortMismatch', 'port 80 has no endpoint port named http');
    const [event, ...rest] = events();
    expect(rest).toEqual([]);
    expect(event).toMatchObject({
      metadata: { namespace: 'shop' },
      involvedObject: { kind: 'Service', namespace: 'shop', name: 'web', uid: 'uid-web', apiVersion: 'v1' },
      type: 'Warning',
      reason: 'PortMismatch',
      message: 'port 80 has no endpoint port named http',
      count: 1,
      source: { component: 'balanced-ipvs-controller', host: 'director-1' },
      reportingComponent: 'balanced-ipvs-controller',
      reportingInstance: 'director-1',
    });
    expect(String((event?.['metadata'] as { name: string }).name)).toMatch(/^web\.[0-9a-f]+$/);
    expect(new Date(String(event?.['firstTimestamp'])).getTime()).toBe(clock.getTime());
    expect(recorder.stats()).toEqual({ sent: 1, updated: 0, failed: 0 });
  });

  it('the same object+reason+message again bumps count and lastTimestamp with a merge patch', async () => {
    await recorder.record(web, 'Warning', 'PortMismatch', 'no port http');
    clock = new Date('2025-01-02T03:09:05Z');
    await recorder.record(web, 'Warning', 'PortMismatch', 'no port http');

    const all = events('shop');
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ reason: 'PortMismatch', message: 'no port http', count: 2 });
    expect(new Date(String(all[0]?.['lastTimestamp'])).getTime()).toBe(clock.getTime());
    expect(new Date(String(all[0]?.['firstTimestamp'])).getTime()).toBe(new Date('2025-01-02T03:04:05Z').getTime());
    const patch = server.requests.find((r) => r.method === 'PATCH');
    expect(patch?.contentType).toBe('application/merge-patch+json');
    expect(recorder.stats()).toEqual({ sent: 1, updated: 1, failed: 0 });
  });

  it('a different message, reason, type or object is a different Event', async () => {
    await recorder.record(web, 'Warning', 'PortMismatch', 'no port http');
    await recorder.record(web, 'Warning', 'PortMismatch', 'no port https');
    await recorder.record(web, 'Warning', 'InvalidScheduler', 'no port http');
    await recorder.record(web, 'Normal', 'PortMismatch', 'no port http');
    await recorder.record({ ...web, name: 'api', uid: 'uid-api' }, 'Warning', 'PortMismatch', 'no port http');
    const summary = events('shop')
      .map((e) => `${(e['involvedObject'] as { name: string }).name} ${String(e['type'])} ${String(e['reason'])} ${String(e['message'])} ×${String(e['count'])}`)
      .sort();
    expect(summary).toEqual([
      'api Warning PortMismatch no port http ×1',
      'web Normal PortMismatch no port http ×1',
      'web Warning InvalidScheduler no port http ×1',
      'web Warning PortMismatch no port http ×1',
      'web Warning PortMismatch no port https ×1',
    ]);
  });

  it('concurrent identical records end as one Event with the full count', async () => {
    await Promise.all([1, 2, 3, 4].map(() => recorder.record(web, 'Warning', 'VipNotOwned', '10.9.9.9 is outside every pool')));
    const all = events('shop');
    expect(all).toHaveLength(1);
    expect(all[0]?.['count']).toBe(4);
    expect(recorder.stats()).toEqual({ sent: 1, updated: 3, failed: 0 });
  });

  it('cluster-scoped objects: the Event goes to default, involvedObject has no namespace', async () => {
    await recorder.record({ kind: 'Node', name: 'node-a' }, 'Normal', 'VipsProgrammed', '3 VIPs');
    const [event] = events('default');
    expect(event?.['involvedObject']).toEqual({ kind: 'Node', name: 'node-a' });
  });

  it('takes the desired-state builder’s InvolvedObject as is', async () => {
    const refusal: InvolvedObject = { kind: 'EndpointSlice', namespace: 'shop', name: 'web-abc', uid: 'u1' };
    await recorder.record(refusal, 'Warning', 'NoReadyEndpoints', 'none ready');
    expect(events('shop')[0]?.['involvedObject']).toEqual({ kind: 'EndpointSlice', namespace: 'shop', name: 'web-abc', uid: 'u1' });
  });

  it('an Event deleted on the server (expired) is created anew on the next record', async () => {
    await recorder.record(web, 'Warning', 'PortMismatch', 'no port http');
    const name = (events('shop')[0]?.['metadata'] as { name: string }).name;
    server.store.delete('events', name, 'shop');
    clock = new Date('2025-01-02T04:00:00Z');
    await recorder.record(web, 'Warning', 'PortMismatch', 'no port http');
    const all = events('shop');
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ count: 1 });
    expect(recorder.stats()).toEqual({ sent: 2, updated: 0, failed: 0 });
  });

  it('never throws: API errors are counted, and recording works again once the server is back', async () => {
    await server.stop();
    await expect(recorder.record(web, 'Warning', 'PortMismatch', 'no port http')).resolves.toBeUndefined();
    const stats = recorder.stats();
    expect(stats).toMatchObject({ sent: 0, updated: 0, failed: 1 });
    expect(stats.lastError).toBeDefined();

    await server.restart();
    await recorder.record(web, 'Warning', 'PortMismatch', 'no port http');
    expect(events('shop')).toHaveLength(1);
    expect(recorder.stats()).toMatchObject({ sent: 1, failed: 1 });
  });

  it('an HTTP error is counted with the status code and the server’s answer', async () => {
    const wrongPrefix = new EventRecorder(testKubeConfig(`${server.url}/not-the-api`), { component: 'c' });
    await wrongPrefix.record(web, 'Warning', 'X', 'y');
    const stats = wrongPrefix.stats();
    expect(stats).toMatchObject({ sent: 0, updated: 0, failed: 1 });
    expect(stats.lastError).toMatch(/^HTTP 404: /);
  });
});
