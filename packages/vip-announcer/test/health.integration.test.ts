// Issue 13 item 6, the announcer's side: /readyz tells the truth about its informers. The
// announcer drives a real BIRD (in its own network namespace) and reads the test API server as
// its ServiceAccount under the RBAC of deploy/vip-announcer.yaml. The test then takes
// `endpointslices` out of its ClusterRole (the re-watch is answered with 403): /readyz turns
// false once the (shortened) grace has passed, and true again once the rule is back. /healthz
// stays ok throughout (the loop makes progress; a refused kind is not a reason to restart).
// /healthz fails while one pass is wedged past stallMs (BIRD stopped with SIGSTOP mid-reload),
// and recovers once BIRD resumes.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { TestApiServer, createNetns, deleteNetns, findRepoRoot, startBird, uniqueName, type BirdDaemon } from '@balanced/testkit';
import { pino } from 'pino';
import { parseAllDocuments } from 'yaml';
import { announcerConfigFromObject, startAnnouncer, type RunningAnnouncer } from '../src/index.js';
import { service, slice } from './k8s-objects.js';
import { missingPrerequisite } from './prerequisites.js';

const skip = missingPrerequisite({ root: true });
const NS = 'balanced-system';
const SA = 'balanced-vip-announcer';
const VIPPOOL_CRD = { group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools', kind: 'VipPool', namespaced: false } as const;

describe.each(skip === undefined ? [['real BIRD, RBAC from deploy/']] : [])('%s', () => {
  let dir: string;
  let netns: string;
  let bird: BirdDaemon;
  let api: TestApiServer;
  let running: RunningAnnouncer;
  const logs: string[] = [];
  const deployDocs = (): Array<{ kind?: string; metadata?: { name?: string }; rules?: Array<{ resources: string[] }> }> =>
    parseAllDocuments(readFileSync(join(findRepoRoot(), 'deploy', 'vip-announcer.yaml'), 'utf8')).map((d) => d.toJS() as { kind?: string });

  function setAllowed(kind: string, allowed: boolean): void {
    const role = deployDocs().find((d) => d.kind === 'ClusterRole' && d.metadata?.name === SA);
    const rules = (role?.rules ?? []).filter((r) => allowed || !r.resources.includes(kind));
    api.store.put('clusterroles', { ...role, rules });
  }

  async function probe(path: '/readyz' | '/healthz'): Promise<{ status: number; text: string }> {
    const res = await fetch(`${running.health?.url ?? ''}${path}`);
    return { status: res.status, text: await res.text() };
  }

  async function waitForProbe(path: '/readyz' | '/healthz', status: number, what: string): Promise<string> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const last = await probe(path);
      if (last.status === status) return last.text;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${path} answered ${last.status} ${last.text}\n${logs.slice(-15).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vipa-health-'));
    const includeDir = join(dir, 'include');
    mkdirSync(includeDir);
    netns = await createNetns(uniqueName('vah'));
    bird = await startBird({
      netns,
      name: 'main',
      workDir: dir,
      config: (log) => ['router id 10.255.0.1;', `log "${log}" all;`, 'protocol device { }', `include "${includeDir}/*.conf";`, ''].join('\n'),
    });
    api = await TestApiServer.start({ rbac: true, customResources: [VIPPOOL_CRD], namespaces: ['default', NS] });
    api.load(deployDocs());
    api.store.put('services', service({ name: 'web', vips: ['10.96.100.10'] }));
    api.store.put('endpointslices', slice({ service: 'web', endpoints: { '10.244.1.10': true } }));
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString('utf8').trimEnd());
        done();
      },
    });
    running = await startAnnouncer(
      {
        config: announcerConfigFromObject({
          localAsn: 65001,
          cidrs: ['10.96.100.0/24'],
          neighbors: [{ name: 'nobody', address: '10.255.0.2', asn: 65000, connectRetryTime: 1 }],
          outputFile: join(includeDir, 'balanced-vips.conf'),
          birdSocket: bird.controlSocket,
        }),
        kubeConfig: api.serviceAccountKubeConfig(NS, SA),
        defaultClass: false,
        controllerProbe: () => Promise.resolve({ ok: true, detail: 'ready' }),
        probeIntervalMs: 50,
        resyncSeconds: 3600,
        metricsHost: '127.0.0.1',
        metricsPort: 0,
        errorGraceMs: { refused: 300, other: 60_000 },
        stallMs: 300,
        birdTimeoutMs: 60_000,
      },
      pino({ level: 'debug' }, sink),
    );
  });

  afterAll(async () => {
    await running?.stop();
    await api?.stop();
    await bird?.stop();
    if (netns !== undefined) await deleteNetns(netns);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  test('a watched kind refused (403) past the grace: /readyz turns false and says why; back when allowed again; /healthz stays ok', async () => {
    expect(await waitForProbe('/readyz', 200, 'ready at start')).toMatch(/^ok/);
    expect(running.plan()?.announced.map((a) => a.vip)).toEqual(['10.96.100.10']);

    setAllowed('endpointslices', false);
    api.cutWatches();
    const text = await waitForProbe('/readyz', 503, 'not ready once endpointslices has been refused past the grace');
    expect(text).toMatch(/endpointslices failing for \d+ s: HTTP 403/);
    expect(logs.some((l) => /cluster cache: endpointslices (failed|still failing) \(HTTP 403/.test(l))).toBe(true); // the announcer's own logger
    expect((await probe('/healthz')).status).toBe(200);
    // Not ready is not a withdrawal: the last known state stays announced (an RBAC slip must not cut traffic).
    expect(running.plan()?.announced.map((a) => a.vip)).toEqual(['10.96.100.10']);
    const metrics = await (await fetch(`${running.health?.url ?? ''}/metrics`)).text();
    expect(metrics).toMatch(/^balanced_informer_errors_total\{kind="endpointslices",code="403"\} [1-9]\d*$/m);

    setAllowed('endpointslices', true);
    expect(await waitForProbe('/readyz', 200, 'ready again')).toMatch(/^ok/);
    expect((await probe('/healthz')).status).toBe(200);
  });

  test('a pass wedged past stallMs (BIRD stopped mid-reload): /healthz fails and says so; ok again once BIRD resumes', async () => {
    expect(await waitForProbe('/healthz', 200, 'live at start')).toBe('ok\n');
    process.kill(bird.pid, 'SIGSTOP');
    try {
      // A new VIP changes the file: the pass reloads BIRD and waits for its answer.
      api.store.put('services', service({ name: 'api', vips: ['10.96.100.11'] }));
      api.store.put('endpointslices', slice({ service: 'api', endpoints: { '10.244.1.11': true } }));
      expect(await waitForProbe('/healthz', 500, 'not live while the pass waits on a stopped BIRD')).toMatch(/^not live: a pass has been running for \d+ s \(limit 0 s\)/);
    } finally {
      process.kill(bird.pid, 'SIGCONT');
    }
    expect(await waitForProbe('/healthz', 200, 'live again once BIRD answers')).toBe('ok\n');
    await waitForProbe('/readyz', 200, 'ready, announcing the new VIP too');
    expect(running.plan()?.announced.map((a) => a.vip).sort()).toEqual(['10.96.100.10', '10.96.100.11']);
  });
});
