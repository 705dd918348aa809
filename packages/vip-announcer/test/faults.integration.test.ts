// The announcer under faults (issue 13, items 6 and 7), with real BIRD 2: a director (BIRD in
// its own network namespace) peers with a router (real BIRD, `merge paths on`); the announcer
// reads the test API server through the real client-node. The router's kernel table is the judge.
//
// - The director's ipvs-controller stops being ready, in the three ways it can (its /readyz
//   answers 503, nothing listens any more, it accepts and never answers), with the deployed
//   probe settings (deploy/vip-announcer.yaml: every 1000 ms, 1000 ms timeout, 3 failures):
//   the route must leave the router. How long it took is measured (no timed assertion) and
//   written to bench/results/vip-announcer-director-unready.json.
// - Draining: every endpoint terminating but still serving keeps the VIP announced; it goes only
//   when nothing serves.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { TestApiServer, deleteNetns, faultScenario, secondsSince, startBird, writeBenchResults } from '@balanced/testkit';
import { BirdClient, startAnnouncer, type RunningAnnouncer } from '../src/index.js';
import { service, slice } from './k8s-objects.js';
import { missingPrerequisite } from './prerequisites.js';
import { BFD, SESSION, createLab, directorAnnouncerConfig, directorBirdConfig, loggerInto, routerNexthops, waitForNexthops, type DirectorNode, type RouterNode } from './two-directors-lab.js';

const skip = missingPrerequisite({ root: true });

const VIP = '10.96.100.10';
const MARKER_VIP = '10.96.100.11';
/** As deploy/vip-announcer.yaml runs it. */
const DEPLOYED_PROBE = { intervalMs: 1000, timeoutMs: 1000, failureThreshold: 3 } as const;
/** Generous: the deployed settings need ~3–6 s; anything near this is a failure, not a slow run. */
const CEILING_MS = 30_000;

type ReadyzMode = 'ready' | 'unready' | 'hung' | 'down';

/** A stand-in for the director's ipvs-controller /readyz, over raw TCP so it can also hang or vanish. */
interface DirectorReadyz {
  readonly url: string;
  set(mode: ReadyzMode): Promise<void>;
  close(): Promise<void>;
}

async function startDirectorReadyz(): Promise<DirectorReadyz> {
  let mode: ReadyzMode = 'ready';
  const sockets = new Set<Socket>();
  const listen = async (port: number): Promise<Server> => {
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.once('data', () => {
        if (mode === 'hung') return; // accepted, read, never answered
        const body = mode === 'ready' ? 'ok\n' : 'not ready: recent passes failed\n';
        socket.end(`HTTP/1.1 ${mode === 'ready' ? '200 OK' : '503 Service Unavailable'}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return server;
  };
  let server: Server | undefined = await listen(0);
  const port = (server.address() as { port: number }).port;
  const shut = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  return {
    url: `http://127.0.0.1:${port}/readyz`,
    async set(next) {
      mode = next;
      if (next === 'down') await shut(); // nothing listens: connection refused
      else if (server === undefined) server = await listen(port);
      if (next !== 'hung') for (const socket of sockets) socket.destroy(); // hung probes of before end
    },
    close: shut,
  };
}

describe.each(skip === undefined ? [['one director, one router, deployed probe settings']] : [])('%s', () => {
  const namespaces: string[] = [];
  const logs: string[] = [];
  const measured: Record<string, number> = {};
  let workDir: string;
  let api: TestApiServer;
  let router: RouterNode;
  let director: DirectorNode;
  let readyz: DirectorReadyz;
  let announcer: RunningAnnouncer;
  let birdVersion = 'BIRD 2';

  const webSlice = (conditions: { ready: boolean; serving: boolean; terminating: boolean }): V1EndpointSlice => {
    const s = slice({ service: 'web', endpoints: { '10.244.1.10': true, '10.244.2.10': true } });
    return { ...s, endpoints: (s.endpoints ?? []).map((e) => ({ ...e, conditions })) };
  };
  const markerSlice = (ready: boolean): V1EndpointSlice => slice({ service: 'marker', endpoints: { '10.244.1.20': ready } });

  async function explain(): Promise<string> {
    return [`--- announcer`, ...logs.slice(-20), `--- director BIRD log`, await director.bird.logTail(15), `--- router BIRD log`, await router.bird.logTail(15)].join('\n');
  }

  async function expectNexthops(vip: string, expected: readonly string[], since: number): Promise<number> {
    try {
      return await waitForNexthops(router, vip, expected, since, CEILING_MS);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${await explain()}`, { cause: e });
    }
  }

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'vipa-faults-'));
    api = await TestApiServer.start();
    api.store.put('services', service({ name: 'web', vips: [VIP] }));
    api.store.put('endpointslices', webSlice({ ready: true, serving: true, terminating: false }));
    api.store.put('services', service({ name: 'marker', vips: [MARKER_VIP] }));
    api.store.put('endpointslices', markerSlice(false));
    const lab = await createLab(workDir, namespaces);
    router = lab.router;
    director = lab.directors[0] as DirectorNode;
    await (lab.directors[1] as DirectorNode).bird.stop(); // one director is enough here
    readyz = await startDirectorReadyz();
    announcer = await startAnnouncer(
      {
        config: directorAnnouncerConfig(director, ['10.96.100.0/24']),
        kubeConfig: api.kubeConfig(),
        defaultClass: false,
        controllerReadyUrl: readyz.url,
        probeIntervalMs: DEPLOYED_PROBE.intervalMs,
        probeTimeoutMs: DEPLOYED_PROBE.timeoutMs,
        failureThreshold: DEPLOYED_PROBE.failureThreshold,
        resyncSeconds: 3600,
        watchPools: false,
        metricsPort: 0,
      },
      loggerInto(logs),
    );
  });

  afterAll(async () => {
    await announcer?.stop().catch(() => undefined);
    await readyz?.close();
    await director?.bird.stop().catch(() => undefined);
    await router?.bird.stop().catch(() => undefined);
    for (const n of namespaces) await deleteNetns(n);
    await api?.stop();
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
    if (Object.keys(measured).length > 0) {
      const kernel = readFileSync('/proc/version', 'utf8').split(' ')[2];
      await writeBenchResults('vip-announcer-director-unready', {
        bench: 'vip-announcer-director-unready',
        when: new Date().toISOString(),
        environment: `host kernel ${kernel ?? release()} (2 cores), network namespaces joined by veths, ${birdVersion}`,
        method:
          "ms from the moment the director's /readyz stand-in changed (503, closed, hung) until the router's kernel route to the VIP is gone " +
          '(ip -j route, polled every 10 ms); and from /readyz answering 200 again until the route is back',
        settings: { probe: DEPLOYED_PROBE, bfd: BFD, session: SESSION, announcerDebounceMs: 50 },
        results: measured,
      });
    }
  });

  test('announced while the director is ready', async () => {
    measured.firstAnnounceMs = await expectNexthops(VIP, [director.address], Date.now());
    const client = new BirdClient({ socketPath: router.bird.controlSocket });
    try {
      birdVersion = (await client.status()).version;
    } finally {
      client.close();
    }
  });

  for (const mode of ['unready', 'down', 'hung'] as const) {
    test(`the director's /readyz ${mode === 'unready' ? 'answers 503' : mode === 'down' ? 'stops listening (connection refused)' : 'accepts and never answers'}: the route leaves the router; it returns when /readyz is 200 again`, async () => {
      const saw = 'the VIP withheld as ControllerUnhealthy in the plan, the route gone from the router';
      const record = await faultScenario(`director not ready (/readyz ${mode === 'unready' ? '503' : mode === 'down' ? 'refused' : 'hung'}): announcer withdraws, re-announces`, saw);
      await expectNexthops(VIP, [director.address], Date.now());
      const t0 = Date.now();
      await readyz.set(mode);
      measured[`${mode}WithdrawMs`] = await expectNexthops(VIP, [], t0);
      expect(announcer.plan()?.withheld.find((w) => w.vip === VIP)?.reason).toBe('ControllerUnhealthy');
      const t1 = Date.now();
      await readyz.set('ready');
      measured[`${mode}RecoverAnnounceMs`] = await expectNexthops(VIP, [director.address], t1);
      await record({
        recoverySeconds: secondsSince(t1),
        lostServices: 0, // the withdrawal is the point; the route is back (awaited above)
        droppedConnections: null,
        operatorSaw: `${saw} ${(measured[`${mode}WithdrawMs`] ?? 0) / 1000} s after /readyz changed (deployed probe: 3 × 1 s)`,
      });
    });
  }

  test('every endpoint terminating but still serving (draining): the VIP stays announced; withdrawn once nothing serves', async () => {
    const saw = 'the VIP stays announced while an endpoint serves; withheld as NoReadyEndpoints once nothing serves';
    const record = await faultScenario('every endpoint terminating but still serving (draining)', saw);
    await expectNexthops(VIP, [director.address], Date.now());
    // The drain starts; then a marker Service becomes ready. Watch events arrive in order, so
    // once the marker is announced the announcer has planned with the draining slice.
    api.store.put('endpointslices', webSlice({ ready: false, serving: true, terminating: true }));
    api.store.put('endpointslices', markerSlice(true));
    await expectNexthops(MARKER_VIP, [director.address], Date.now());
    expect(await routerNexthops(router, VIP)).toEqual([director.address]);
    expect(announcer.plan()?.announced.map((a) => a.vip)).toEqual([VIP, MARKER_VIP]);

    const t0 = Date.now();
    api.store.put('endpointslices', webSlice({ ready: false, serving: false, terminating: true }));
    measured.nothingServingWithdrawMs = await expectNexthops(VIP, [], t0);
    expect(announcer.plan()?.withheld).toEqual([{ vip: VIP, reason: 'NoReadyEndpoints', services: ['default/web'] }]);
    await record({ recoverySeconds: null, lostServices: 0, droppedConnections: null, operatorSaw: `${saw} (${(measured.nothingServingWithdrawMs ?? 0) / 1000} s later)` });
  });

  test("the director's BIRD is killed (SIGKILL) and started again: the route leaves and comes back; the announcer's change made meanwhile is in force, and it drives the new BIRD", async () => {
    const saw = 'balanced_vip_announcer_bird_config_current 0 and bird_reloads_total{result="error"} while BIRD is gone (log: announcing failed; will retry), back to 1 on the retry after the restart';
    const record = await faultScenario('BIRD killed and restarted', saw);
    const metric = async (name: string): Promise<number> => {
      const line = (await announcer.metrics.registry.metrics()).split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
      return line === undefined ? 0 : Number(line.split(' ').pop());
    };
    const errors = () => announcer.metrics.registry.getSingleMetric('balanced_vip_announcer_bird_reloads_total')!.get().then((m) => m.values.find((v) => v.labels['result'] === 'error')?.value ?? 0);
    api.store.put('endpointslices', webSlice({ ready: true, serving: true, terminating: false }));
    await expectNexthops(VIP, [director.address], Date.now());
    await expectNexthops(MARKER_VIP, [director.address], Date.now());
    const errorsBefore = await errors();

    const t0 = Date.now();
    process.kill(director.bird.pid, 'SIGKILL');
    measured.birdKilledWithdrawMs = await expectNexthops(VIP, [], t0);
    // A change while BIRD is gone: the marker's endpoint is no longer ready. The announcer
    // cannot reach BIRD; the file it writes stays, for the BIRD that comes back.
    api.store.put('endpointslices', markerSlice(false));
    const deadline = Date.now() + CEILING_MS;
    while ((await errors()) === errorsBefore) {
      if (Date.now() > deadline) throw new Error(`the announcer never tried BIRD while it was gone\n${await explain()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await metric('balanced_vip_announcer_bird_config_current')).toBe(0);

    const t1 = Date.now();
    director.bird = await startBird({ netns: director.netns, name: `director${director.index}`, workDir, config: (log) => directorBirdConfig(director, log) });
    measured.birdRestartedAnnounceMs = await expectNexthops(VIP, [director.address], t1);
    const recoverySeconds = secondsSince(t1);
    expect(await routerNexthops(router, MARKER_VIP)).toEqual([]); // the new BIRD read the file written while it was gone
    // The announcer's retry reaches the new BIRD over its control socket…
    while ((await metric('balanced_vip_announcer_bird_config_current')) !== 1) {
      if (Date.now() - t1 > CEILING_MS) throw new Error(`the announcer never reconnected to BIRD\n${await explain()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    measured.birdRestartedReconnectMs = Date.now() - t1;
    // …and drives it: a change after the restart reaches the router.
    api.store.put('endpointslices', markerSlice(true));
    measured.afterRestartChangeMs = await expectNexthops(MARKER_VIP, [director.address], Date.now());
    await record({
      recoverySeconds,
      lostServices: 0, // the withdrawal while BIRD is dead is the kernel's doing; every route is back (awaited above)
      droppedConnections: null,
      operatorSaw: `${saw}; the route left the router ${(measured.birdKilledWithdrawMs ?? 0) / 1000} s after the kill; announcer talking to the new BIRD ${(measured.birdRestartedReconnectMs ?? 0) / 1000} s after its restart`,
    });
  });
});
