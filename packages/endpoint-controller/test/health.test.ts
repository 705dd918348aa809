// Issue 13 item 6, the endpoint-controller's side: /readyz tells the truth about its informers.
// The real startEndpointController (client-node informers, the /proc resolver; no pod of this
// node exists, so nothing is programmed) reads the test API server as its ServiceAccount under
// the RBAC of deploy/endpoint-controller.yaml. The test takes `pods` out of its ClusterRole (the
// re-watch is answered with 403): /readyz turns false once the (shortened) grace has passed, and
// true again once the rule is back. /healthz stays ok throughout.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { TestApiServer, findRepoRoot } from '@balanced/testkit';
import { pino } from 'pino';
import { parseAllDocuments } from 'yaml';
import { startEndpointController, type RunningEndpointController } from '../src/app.js';

const NS = 'balanced-system';
const SA = 'balanced-endpoint-controller';

let api: TestApiServer;
let dir: string;
let running: RunningEndpointController | undefined;
const logs: string[] = [];

const deployDocs = (): Array<{ kind?: string; metadata?: { name?: string }; rules?: Array<{ resources: string[] }> }> =>
  parseAllDocuments(readFileSync(join(findRepoRoot(), 'deploy', 'endpoint-controller.yaml'), 'utf8')).map((d) => d.toJS() as { kind?: string });

function setAllowed(kind: string, allowed: boolean): void {
  const role = deployDocs().find((d) => d.kind === 'ClusterRole' && d.metadata?.name === SA);
  const rules = (role?.rules ?? []).map((r) => (allowed ? r : { ...r, resources: r.resources.filter((x) => x !== kind) })).filter((r) => r.resources.length > 0);
  api.store.put('clusterroles', { ...role, rules });
}

beforeEach(async () => {
  api = await TestApiServer.start({ rbac: true, namespaces: ['default', NS] });
  api.load(deployDocs());
  dir = mkdtempSync(join(tmpdir(), 'epc-health-'));
  logs.length = 0;
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<RunningEndpointController> {
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, api.serviceAccountKubeconfigYaml(NS, SA));
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8').trimEnd());
      done();
    },
  });
  running = await startEndpointController(
    {
      kubeconfig,
      nodeName: 'node-a',
      vipCidrs: ['10.96.100.0/24'],
      defaultClass: false,
      criSockets: [],
      procScan: true,
      procRoot: '/proc',
      resyncSeconds: 3600,
      metricsHost: '127.0.0.1',
      metricsPort: 0,
      restartDelayMs: { min: 20, max: 100 },
      errorGraceMs: { refused: 300, other: 60_000 },
    },
    pino({ level: 'debug' }, sink),
  );
  return running;
}

async function probe(r: RunningEndpointController, path: '/readyz' | '/healthz'): Promise<{ status: number; text: string }> {
  const res = await fetch(`${r.health.url}${path}`);
  return { status: res.status, text: await res.text() };
}

async function waitForProbe(r: RunningEndpointController, path: '/readyz' | '/healthz', status: number, what: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const last = await probe(r, path);
    if (last.status === status) return last.text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${path} answered ${last.status} ${last.text}\n${logs.slice(-15).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

it('a watched kind refused (403) past the grace: /readyz turns false and says why; back when allowed again; /healthz stays ok', async () => {
  const r = await start();
  expect(await waitForProbe(r, '/readyz', 200, 'ready at start')).toMatch(/^ok/);

  setAllowed('pods', false);
  api.cutWatches();
  const text = await waitForProbe(r, '/readyz', 503, 'not ready once pods has been refused past the grace');
  expect(text).toMatch(/pods failing for \d+ s: HTTP 403/);
  expect(logs.some((l) => /cluster cache: pods (failed|still failing) \(HTTP 403/.test(l))).toBe(true); // the controller's own logger
  expect((await probe(r, '/healthz')).status).toBe(200);
  const metrics = await (await fetch(`${r.health.url}/metrics`)).text();
  expect(metrics).toMatch(/^balanced_informer_errors_total\{kind="pods",code="403"\} [1-9]\d*$/m);

  setAllowed('pods', true);
  expect(await waitForProbe(r, '/readyz', 200, 'ready again')).toMatch(/^ok/);
  expect((await probe(r, '/healthz')).status).toBe(200);
});
