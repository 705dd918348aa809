import { afterEach, describe, expect, it } from '@jest/globals';
import { Counter, Registry } from 'prom-client';

import { startHealthServer, type HealthServer, type ReadyResult } from '../src/health.js';

let server: HealthServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(ready: () => ReadyResult, live?: () => boolean): Promise<{ server: HealthServer; registry: Registry }> {
  const registry = new Registry();
  const syncs = new Counter({ name: 'balanced_test_syncs_total', help: 'Test syncs.', labelNames: ['result'], registers: [registry] });
  syncs.inc({ result: 'ok' }, 3);
  server = await startHealthServer({ port: 0, host: '127.0.0.1', ready, ...(live ? { live } : {}), registry });
  return { server, registry };
}

async function get(path: string, init?: RequestInit): Promise<{ status: number; text: string; type: string | null }> {
  if (server === undefined) throw new Error('no server');
  const res = await fetch(`${server.url}${path}`, init);
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

describe('startHealthServer', () => {
  it('listens on a free port and reports its url', async () => {
    const { server } = await start(() => true);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url.endsWith(':0')).toBe(false);
  });

  it('/healthz: 200 ok by default, 500 when live() says no or throws', async () => {
    let live: boolean | Error = true;
    await start(
      () => true,
      () => {
        if (live instanceof Error) throw live;
        return live;
      },
    );
    expect(await get('/healthz')).toMatchObject({ status: 200, text: 'ok\n' });
    live = false;
    expect(await get('/healthz')).toMatchObject({ status: 500, text: 'not live\n' });
    live = new Error('event loop wedged');
    expect(await get('/healthz')).toMatchObject({ status: 500, text: 'not live: event loop wedged\n' });
  });

  it('/readyz: 200 when ready, 503 with the detail when not; a throwing probe is not ready', async () => {
    let ready: ReadyResult | Error = false;
    await start(() => {
      if (ready instanceof Error) throw ready;
      return ready;
    });
    expect(await get('/readyz')).toMatchObject({ status: 503, text: 'not ready\n', type: 'text/plain; charset=utf-8' });
    ready = { ok: false, detail: 'caches not synced: pods' };
    expect(await get('/readyz')).toMatchObject({ status: 503, text: 'not ready: caches not synced: pods\n' });
    ready = new Error('boom');
    expect(await get('/readyz')).toMatchObject({ status: 503, text: 'not ready: boom\n' });
    ready = true;
    expect(await get('/readyz')).toMatchObject({ status: 200, text: 'ok\n' });
    ready = { ok: true, detail: '12 services' };
    expect(await get('/readyz?verbose')).toMatchObject({ status: 200, text: 'ok: 12 services\n' });
  });

  it('/metrics: the registry in Prometheus text format with its content type', async () => {
    const { registry } = await start(() => true);
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toBe(registry.contentType);
    expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('# HELP balanced_test_syncs_total Test syncs.');
    expect(res.text).toContain('# TYPE balanced_test_syncs_total counter');
    expect(res.text).toContain('balanced_test_syncs_total{result="ok"} 3');
  });

  it('404 for other paths, 405 for other methods, HEAD without a body', async () => {
    await start(() => true);
    expect(await get('/')).toMatchObject({ status: 404 });
    expect(await get('/healthz/extra')).toMatchObject({ status: 404 });
    const post = await get('/healthz', { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    const head = await get('/readyz', { method: 'HEAD' });
    expect(head).toMatchObject({ status: 200, text: '' });
  });

  it('close() frees the port even with a keep-alive connection open', async () => {
    const { server: s } = await start(() => true);
    await get('/healthz');
    await s.close();
    server = undefined;
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  });
});

describe('startHealthServer checks (caches, loops)', () => {
  it("ANDs every check's readiness and liveness with the component's own, details in order, and registers their metrics", async () => {
    const registry = new Registry();
    const informerErrors = new Counter({ name: 'balanced_informer_errors_total', help: 'x', labelNames: ['kind', 'code'], registers: [] });
    informerErrors.inc({ kind: 'nodes', code: '403' });
    let cacheReady = { ok: true, detail: 'informers synced: nodes' };
    let loopLive = { ok: true };
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      registry,
      ready: () => ({ ok: true, detail: 'kernel programmed' }),
      checks: [{ readiness: () => cacheReady, metrics: () => [informerErrors] }, { liveness: () => loopLive }],
    });
    expect(await get('/readyz')).toMatchObject({ status: 200, text: 'ok: kernel programmed; informers synced: nodes\n' });
    cacheReady = { ok: false, detail: 'nodes failing for 31 s: HTTP 403: Forbidden' };
    expect(await get('/readyz')).toMatchObject({ status: 503, text: 'not ready: kernel programmed; nodes failing for 31 s: HTTP 403: Forbidden\n' });
    expect(await get('/healthz')).toMatchObject({ status: 200 });
    loopLive = { ok: false, detail: 'a pass has been running for 121 s (limit 120 s)' } as typeof loopLive;
    expect(await get('/healthz')).toMatchObject({ status: 500, text: 'not live: a pass has been running for 121 s (limit 120 s)\n' });
    expect((await get('/metrics')).text).toContain('balanced_informer_errors_total{kind="nodes",code="403"} 1');
  });
});
