// The announcer end to end: two directors (real BIRD 2 each, in their own network namespace)
// peer with a router (real BIRD 2, `merge paths on`); two announcers, in this process, read
// Services/EndpointSlices/VipPools from the test API server through the real client-node and
// drive their director's BIRD over its control socket. The router's kernel table is the judge.
// Withdraw times (event → router's kernel route changed, polled every 10 ms) are written to
// bench/results/vip-announcer-withdraw.json.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, release } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { TestApiServer, deleteNetns, writeBenchResults } from '@balanced/testkit';
import { BirdClient, startAnnouncer, type RunningAnnouncer } from '../src/index.js';
import { service, slice, vipPool } from './k8s-objects.js';
import { missingPrerequisite } from './prerequisites.js';
import { BFD, SESSION, createLab, directorAnnouncerConfig, loggerInto, routerNexthops, startToggleReadyz, waitForNexthops, type DirectorNode, type RouterNode, type ToggleReadyz } from './two-directors-lab.js';

const skip = missingPrerequisite({ root: true });

const VIP = '10.96.100.10';
const IDLE_VIP = '10.96.100.20';
// timeoutMs bounds only a probe that gets no answer (a hung controller), which no test here
// uses: a 503 answers at once. It is the production default, not shorter: this process also
// hosts the API server, both announcers and both /readyz stand-ins, and spawns `ip` every 10 ms,
// so on a loaded machine an answer can take a few hundred ms, and with 200 ms two slow answers
// in a row withdrew every VIP of a healthy director (and the router's state then looked like a
// withdrawal the test had caused).
const PROBE = { intervalMs: 100, timeoutMs: 1000, failureThreshold: 2 } as const;
const VIPPOOL_CRD = { group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools', kind: 'VipPool', namespaced: false } as const;

const webService: V1Service = service({ name: 'web', vips: [VIP], annotations: { 'balanced.dev/bgp-communities': '65000:300' } });
const webSlice = (ready: boolean): V1EndpointSlice => slice({ service: 'web', endpoints: { '10.244.1.10': ready, '10.244.2.10': ready } });

describe.each(skip === undefined ? [['two directors, one router']] : [])('%s', () => {
  const namespaces: string[] = [];
  const logs: string[] = [];
  const measured: Record<string, number | number[]> = {};
  let workDir: string;
  let api: TestApiServer;
  let router: RouterNode;
  let directors: DirectorNode[];
  let readyz: ToggleReadyz[];
  let announcers: RunningAnnouncer[];
  let startedAt: number;
  let d1: string;
  let d2: string;
  let birdVersion = 'BIRD 2';

  async function startOne(d: DirectorNode, health: ToggleReadyz): Promise<RunningAnnouncer> {
    return startAnnouncer(
      {
        config: directorAnnouncerConfig(d, ['10.96.100.0/24']),
        kubeConfig: api.kubeConfig(),
        defaultClass: false,
        controllerReadyUrl: health.url,
        probeIntervalMs: PROBE.intervalMs,
        probeTimeoutMs: PROBE.timeoutMs,
        failureThreshold: PROBE.failureThreshold,
        resyncSeconds: 3600,
        metricsHost: '127.0.0.1',
        metricsPort: 0,
      },
      loggerInto(logs, `[director${d.index}] `),
    );
  }

  /** What the announcers logged and what the BIRDs say, for a failure message. */
  async function explain(): Promise<string> {
    const birds = [['router', router.bird], ...directors.map((d) => [`director${d.index}`, d.bird] as const)] as const;
    const tails = await Promise.all(birds.map(async ([name, b]) => `--- ${name} BIRD log\n${await b.logTail(15)}`));
    return [`--- announcers`, ...logs.slice(-20), ...tails].join('\n');
  }

  /** waitForNexthops, failing with the lab's state. */
  async function expectNexthops(expected: readonly string[], since: number): Promise<number> {
    try {
      return await waitForNexthops(router, VIP, expected, since);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${await explain()}`, { cause: e });
    }
  }

  /**
   * Waits until each announcer's last plan withholds the VIP for `reasons[i]` (announcers past
   * the list are not looked at): the router's table alone cannot tell why a path went.
   */
  async function expectWithheld(reasons: readonly string[]): Promise<void> {
    const seen = (): (string | undefined)[] => reasons.map((_, i) => announcers[i]?.plan()?.withheld.find((w) => w.vip === VIP)?.reason);
    const deadline = Date.now() + 10_000;
    while (JSON.stringify(seen()) !== JSON.stringify(reasons)) {
      if (Date.now() > deadline) throw new Error(`plans withhold ${VIP} for ${JSON.stringify(seen())}, want ${JSON.stringify(reasons)}\n${await explain()}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'vipa-lab-'));
    api = await TestApiServer.start({ customResources: [VIPPOOL_CRD] });
    api.store.put('vippools', vipPool('gold', ['10.96.100.0/24'], ['65000:100']));
    api.store.put('services', webService);
    api.store.put('endpointslices', webSlice(true));
    api.store.put('services', service({ name: 'idle', vips: [IDLE_VIP] }));
    api.store.put('endpointslices', slice({ service: 'idle', endpoints: { '10.244.1.11': false } }));
    ({ router, directors } = await createLab(workDir, namespaces));
    [d1, d2] = directors.map((d) => d.address) as [string, string];
    readyz = [await startToggleReadyz(), await startToggleReadyz()];
    startedAt = Date.now();
    announcers = [];
    for (const [i, d] of directors.entries()) announcers.push(await startOne(d, readyz[i] as ToggleReadyz));
  });

  afterAll(async () => {
    for (const a of announcers ?? []) await a.stop().catch(() => undefined);
    for (const r of readyz ?? []) await r.close();
    for (const d of directors ?? []) await d.bird.stop().catch(() => undefined);
    await router?.bird.stop().catch(() => undefined);
    for (const n of namespaces) await deleteNetns(n);
    await api?.stop();
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
    if (Object.keys(measured).length > 0) {
      const kernel = readFileSync('/proc/version', 'utf8').split(' ')[2];
      await writeBenchResults('vip-announcer-withdraw', {
        bench: 'vip-announcer-withdraw',
        when: new Date().toISOString(),
        environment: `host kernel ${kernel ?? release()} (2 cores), network namespaces joined by veths, ${birdVersion}`,
        method:
          "ms from the event (the controller's /readyz flipped, an EndpointSlice written into the test API server's store and delivered to the announcers over their watches, shutdown() called, SIGSTOP/SIGKILL sent) " +
          "until the router's kernel route to the VIP has the expected next hops (ip -j route, polled every 10 ms)",
        settings: { probe: PROBE, bfd: BFD, session: SESSION, announcerDebounceMs: 50 },
        results: measured,
      });
    }
  });

  test('both directors announce: the router installs one route to the VIP with a next hop per director', async () => {
    measured.firstMultipathMs = await expectNexthops([d1, d2], startedAt);
    // the Service with no ready endpoint is never announced
    expect(await routerNexthops(router, IDLE_VIP)).toEqual([]);
    for (const a of announcers) expect(a.plan()?.withheld).toEqual([{ vip: IDLE_VIP, reason: 'NoReadyEndpoints', services: ['default/idle'] }]);
  });

  test('the router receives the pool’s and the Service’s communities', async () => {
    const client = new BirdClient({ socketPath: router.bird.controlSocket });
    try {
      birdVersion = (await client.status()).version;
      const reply = await client.execute(`show route ${VIP}/32 all`);
      const text = reply.lines.map((l) => l.text).join('\n');
      expect(text.match(/BGP\.community: .*/g)).toEqual(['BGP.community: (65000,100) (65000,300)', 'BGP.community: (65000,100) (65000,300)']);
    } finally {
      client.close();
    }
  });

  test('/readyz and /metrics tell what is announced', async () => {
    const health = announcers[0]?.health;
    expect(health).toBeDefined();
    const ready = await fetch(`${health?.url}/readyz`);
    const body = await ready.text();
    expect(ready.status).toBe(200);
    expect(body).toContain(`announced: ${VIP}`);
    expect(body).toContain(`withheld: ${IDLE_VIP} (NoReadyEndpoints)`);
    const metrics = await (await fetch(`${health?.url}/metrics`)).text();
    expect(metrics).toMatch(/^balanced_vip_announcer_vips_announced 1$/m);
    expect(metrics).toMatch(/^balanced_vip_announcer_controller_healthy 1$/m);
    expect(metrics).toMatch(/^balanced_vip_announcer_bgp_session_up\{neighbor="router"\} 1$/m);
    expect(metrics).toContain(`balanced_vip_announcer_vip_announced{vip="${IDLE_VIP}",reason="NoReadyEndpoints"} 0`);
  });

  test("a director's ipvs-controller stops being ready: its path goes, and comes back when it recovers (3 rounds)", async () => {
    const withdraw: number[] = [];
    const announce: number[] = [];
    for (let round = 0; round < 3; round++) {
      (readyz[0] as ToggleReadyz).ready = false;
      const t0 = Date.now();
      await expectWithheld(['ControllerUnhealthy']);
      expect(announcers[0]?.plan()?.withheld.map((w) => w.reason)).toEqual(['ControllerUnhealthy', 'ControllerUnhealthy']);
      withdraw.push(await expectNexthops([d2], t0));
      (readyz[0] as ToggleReadyz).ready = true;
      announce.push(await expectNexthops([d1, d2], Date.now()));
    }
    measured.controllerUnreadyWithdrawMs = withdraw;
    measured.controllerReadyAgainAnnounceMs = announce;
  });

  test('the Service loses every ready endpoint: the VIP is withdrawn everywhere; it returns with them (3 rounds)', async () => {
    const withdraw: number[] = [];
    const announce: number[] = [];
    for (let round = 0; round < 3; round++) {
      const t0 = Date.now();
      api.store.put('endpointslices', webSlice(false));
      await expectWithheld(['NoReadyEndpoints', 'NoReadyEndpoints']);
      withdraw.push(await expectNexthops([], t0));
      const t1 = Date.now();
      api.store.put('endpointslices', webSlice(true));
      announce.push(await expectNexthops([d1, d2], t1));
    }
    measured.noReadyEndpointsWithdrawMs = withdraw;
    measured.readyEndpointsAnnounceMs = announce;
  });

  test('an announcer shuts down (SIGTERM): it withdraws its VIPs and reloads BIRD before returning; the session stays up', async () => {
    const t0 = Date.now();
    const result = await (announcers[1] as RunningAnnouncer).shutdown();
    measured.shutdownCallMs = Date.now() - t0;
    expect(result.changed).toBe(true);
    measured.shutdownWithdrawMs = await expectNexthops([d1], t0);
    const file = readFileSync(join((directors[1] as DirectorNode).includeDir, 'balanced-vips.conf'), 'utf8');
    expect(file).toContain('# VIPs announced: 0');
    const client = new BirdClient({ socketPath: router.bird.controlSocket });
    try {
      expect((await client.protocols()).find((p) => p.name === 'director2')?.state).toBe('up');
    } finally {
      client.close();
    }
  });

  test("a director's BIRD hangs (SIGSTOP): the router's BFD drops its path; it returns when BIRD resumes", async () => {
    const d = directors[0] as DirectorNode;
    const t0 = Date.now();
    process.kill(d.bird.pid, 'SIGSTOP');
    try {
      measured.birdHungBfdWithdrawMs = await expectNexthops([], t0);
    } finally {
      process.kill(d.bird.pid, 'SIGCONT');
    }
    measured.birdResumedAnnounceMs = await expectNexthops([d1], Date.now());
  });

  test("a director's BIRD is killed (SIGKILL): the kernel closes its TCP session and the router drops its path", async () => {
    const d = directors[0] as DirectorNode;
    const t0 = Date.now();
    process.kill(d.bird.pid, 'SIGKILL');
    measured.birdKilledWithdrawMs = await expectNexthops([], t0);
  });
});
