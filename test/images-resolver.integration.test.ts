import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  ManifestRunError,
  TestApiServer,
  addLocalAddresses,
  addressFrontend,
  bp,
  bridgeApiServer,
  createNetns,
  createTestCgroup,
  createTestPinRoot,
  deleteNetns,
  ensureBpffs,
  launchPod,
  removeTestCgroup,
  removeTestPinRoot,
  servedCustomResources,
  startIdentityServers,
  startResolverClient,
  type ApiBridge,
  type IdentityServers,
  type Json,
  type PodFacts,
  type PodLaunchPlan,
  type ResolverClient,
  type RunningPod,
} from '@balanced/testkit';
import { capMask, processView } from './support/process-view.js';
import { SYSTEM, deployFixture, deployPodPlan, getAs, type DeployPodOptions } from './support/deploy-pods.js';
import { WEBHOOK_DNS_NAME, makeWebhookCertificate, type WebhookCertificate } from './support/webhook-cert.js';

// On this host (its kernel runs the resolver's BPF programs; the lab VM's is older), the two
// components dsr-images does not cover, each run from its image's root filesystem
// (build/rootfs, scripts/images/assemble.sh) exactly as its deploy/ manifest declares
// (command, args, env with the downward API, user, capabilities, volumes, probes) against the
// test API server enforcing deploy/'s RBAC:
// - the cgroup-resolver DaemonSet's container, its two hostPath volumes (the only
//   substitutions) pointed at a test-made cgroup and a test-made bpffs folder; a client in
//   that cgroup and a test-made netns reaches a Service's backends through it; then the
//   documented uninstall (the image with --detach) and the removal of what the test made;
// - the policy-webhook Deployment's container as 65532 with its TLS Secret (a certificate
//   made as the manifest's header says) mounted; AdmissionReviews over HTTPS, verified
//   against the CA for the Service's DNS name, as the API server would send them (the test
//   API server calls no webhooks).

const NS = 'shop';
const NODE = 'node-a';
const NODE_IP = '10.250.0.1';
const CLUSTER_IP = '10.96.0.10';
const TARGET_PORT = 8080;
const BACKENDS = { a1: '10.244.1.1', a2: '10.244.1.2' } as const;

const fixture = deployFixture('images-resolver');
const { docs, absent, maybe } = fixture;
const timings: Record<string, number> = {};
let server: TestApiServer;
let workDir: string;
const bridges: ApiBridge[] = [];

beforeAll(async () => {
  if (absent) return;
  // The containers' root filesystems (built into some kernels, a module in others).
  if (!/\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'))) execFileSync('modprobe', ['overlay']);
  workDir = mkdtempSync(join(tmpdir(), 'images-resolver-'));
  server = await TestApiServer.start({ rbac: true, bookmarkIntervalMs: 500, customResources: servedCustomResources(docs), namespaces: ['default', 'kube-system', NS] });
  const loaded = server.load(docs);
  expect(loaded.loaded).toEqual(expect.arrayContaining(['ServiceAccount/balanced-system/balanced-cgroup-resolver', 'ClusterRoleBinding/balanced-policy-webhook']));
});

afterAll(async () => {
  for (const b of bridges) await b.close().catch(() => undefined);
  await server?.stop();
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  process.stderr.write(`images-resolver: ${JSON.stringify(timings)}\n`);
});

/** A pod of `workload` planned from deploy/ under its ServiceAccount's token through `bridge`. */
const podPlan = (workload: string, facts: PodFacts, bridge: ApiBridge, options: DeployPodOptions = {}): PodLaunchPlan => deployPodPlan(fixture, server, workload, facts, bridge, options);

const launch = (plan: PodLaunchPlan, netns: string): Promise<RunningPod> =>
  launchPod({ plan, netns: `/run/netns/${netns}`, workDir, maxGraceMs: 10_000, minProbeTimeoutSeconds: 5, maxProbePeriodMs: 1000 });

/** GET `path` with the pod's ServiceAccount token: the status the RBAC-enforcing server answers. */
const statusAs = async (pod: RunningPod, path: string): Promise<number> => (await getAs(server, pod, path)).status;

/** The container's log lines at pino level warn or above (a refused list or watch is one). */
function complaints(pod: RunningPod): string[] {
  return pod.containers[0]!.log()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => {
      try {
        return ((JSON.parse(l) as { level?: number }).level ?? 0) >= 40;
      } catch {
        return true; // not pino's: a crash trace or the runtime's complaint
      }
    });
}

/** The capability bounding set of this (the runner's) process. */
function hostBoundingSet(): bigint {
  return BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`);
}

/** The programs attached to a cgroup (bpftool's view): ids and attach types. */
function attached(cgroup: string): { id: number; attach_type: string }[] {
  const out = execFileSync('bpftool', ['-j', 'cgroup', 'show', cgroup], { encoding: 'utf8' }).trim();
  return JSON.parse(out === '' ? '[]' : out) as { id: number; attach_type: string }[];
}

maybe('cgroup-resolver from its image, as deploy/cgroup-resolver.yaml declares it, under RBAC', () => {
  let netns: string | undefined;
  let cgroup: string | undefined;
  let pinRoot: string | undefined;
  let servers: IdentityServers | undefined;
  let client: ResolverClient | undefined;
  let pod: RunningPod | undefined;
  let overrides: Record<string, string>;
  let facts: PodFacts;

  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: NS },
    spec: { type: 'ClusterIP', selector: { app: 'web' }, clusterIP: CLUSTER_IP, clusterIPs: [CLUSTER_IP], ipFamilies: ['IPv4'], ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' }] },
  };
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-ipv4', namespace: NS, labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: TARGET_PORT }],
    endpoints: Object.values(BACKENDS).map((address) => ({ addresses: [address], nodeName: NODE, conditions: { ready: true, serving: true, terminating: false } })),
  };

  beforeAll(async () => {
    const t0 = Date.now();
    await ensureBpffs();
    netns = await createNetns();
    cgroup = await createTestCgroup('images-resolver');
    pinRoot = await createTestPinRoot('images-resolver');
    await addLocalAddresses(netns, [...Object.values(BACKENDS), NODE_IP]);
    servers = await startIdentityServers({ netns, listeners: Object.entries(BACKENDS).map(([name, address]) => ({ name, address, port: TARGET_PORT, protocol: 'tcp' as const })) });
    const bridge = await bridgeApiServer({ netns, index: 211, apiUrl: server.url });
    bridges.push(bridge);
    server.store.put('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE }, status: { addresses: [{ type: 'InternalIP', address: NODE_IP }] } });
    server.store.put('services', service);
    server.store.put('endpointslices', slice);
    // The node is the test netns (hostNetwork); its cgroup root and bpffs are the test's.
    overrides = { cgroup, bpffs: pinRoot };
    facts = { podName: `balanced-cgroup-resolver-${NODE}`, nodeName: NODE, podIP: NODE_IP, hostIP: NODE_IP };
    const plan = podPlan('balanced-cgroup-resolver', facts, bridge, { hostPathOverrides: overrides });
    const started = Date.now();
    pod = await launch(plan, netns);
    await pod.ready(90_000);
    timings.resolverReadyMs = Date.now() - started;
    client = await startResolverClient({ netns, cgroup });
    timings.resolverSetupMs = Date.now() - t0;
  }, 180_000);

  afterAll(async () => {
    await client?.stop().catch(() => undefined);
    await pod?.stop().catch(() => undefined);
    await servers?.stop().catch(() => undefined);
    if (pinRoot !== undefined) await removeTestPinRoot(pinRoot).catch(() => undefined);
    if (cgroup !== undefined) await removeTestCgroup(cgroup).catch(() => undefined);
    if (netns !== undefined) await deleteNetns(netns).catch(() => undefined);
  }, 60_000);

  test('it runs as declared: the image’s command with the manifest’s args, env (downward API), root with exactly its six capabilities, /proc/sys read-only', () => {
    const c = pod!.containers[0]!;
    const view = processView(c.pid);
    expect(view.argv).toEqual(['/usr/local/bin/node', '/app/packages/cgroup-resolver/dist/bundle/main.mjs', '--cgroup=/host/cgroup', '--pin-root=/sys/fs/bpf/balanced', '--metrics-host=127.0.0.1', '--metrics-port=9745']);
    expect(view.env).toEqual(c.plan.env.map(([n, v]) => `${n}=${v}`));
    expect(view.env).toEqual(expect.arrayContaining([`NODE_NAME=${NODE}`, `POD_NAMESPACE=${SYSTEM}`, 'NODE_OPTIONS=--max-semi-space-size=2']));
    expect({ uid: view.uid, gid: view.gid, groups: view.groups, noNewPrivs: view.noNewPrivs }).toEqual({ uid: '0', gid: '0', groups: '', noNewPrivs: '0' });
    expect(c.plan.capabilities).toEqual(['net_admin', 'sys_ptrace', 'sys_admin', 'sys_resource', 'perfmon', 'bpf']);
    // Exactly those, as far as this host grants them: a capability outside the runner's own
    // bounding set cannot be given (this sandbox has no CAP_SYS_RESOURCE; a node's runtime has all).
    const six = capMask(c.plan.capabilities) & hostBoundingSet();
    expect({ bounding: view.capBnd, effective: view.capEff }).toEqual({ bounding: six, effective: six });
    expect({ root: view.rootReadOnly, procSys: view.procSysReadOnly }).toEqual({ root: false, procSys: true });
    // The substitutions are the two hostPath volumes, nothing else.
    expect(pod!.plan.volumes.filter((v) => v.kind === 'hostPath')).toEqual([
      { name: 'cgroup', kind: 'hostPath', path: cgroup, type: 'Directory' },
      { name: 'bpffs', kind: 'hostPath', path: pinRoot, type: 'Directory' },
    ]);
    expect(c.plan.readinessProbe).toMatchObject({ kind: 'http', host: '127.0.0.1', port: 9745, path: '/readyz', scheme: 'HTTP' });
  });

  test('its programs are attached to the test cgroup only, its pins are in the test bpffs folder', () => {
    const ours = attached(cgroup!);
    expect(ours.map((p) => p.attach_type)).toEqual(expect.arrayContaining(['cgroup_inet4_connect', 'cgroup_udp4_sendmsg', 'cgroup_udp4_recvmsg', 'cgroup_inet4_getpeername']));
    const root = new Set(attached('/sys/fs/cgroup/unified').map((p) => p.id));
    expect(ours.filter((p) => root.has(p.id))).toEqual([]);
    expect(readdirSync(join(pinRoot!, 'balanced')).length).toBeGreaterThan(0);
  });

  test('a client in the test netns and cgroup reaches the Service’s backends through the ClusterIP', async () => {
    const r = await client!.tcp({ address: CLUSTER_IP, port: 80, count: 200, concurrency: 4 });
    expect(r.failures).toEqual({});
    expect(Object.keys(r.counts).sort()).toEqual(['a1', 'a2']);
    expect(r.peers).toEqual({ [`${CLUSTER_IP}:80`]: 200 });
  });

  test('its Role is enough (nothing it did was refused: no warning in its log; it took the status Lease) and its ServiceAccount is refused the rest (403)', async () => {
    expect(complaints(pod!)).toEqual([]);
    expect(server.store.get('leases', 'balanced-policy-status', SYSTEM)).toBeDefined();
    expect(await statusAs(pod!, '/apis/discovery.k8s.io/v1/endpointslices')).toBe(200);
    expect(await statusAs(pod!, '/api/v1/nodes')).toBe(200);
    expect(await statusAs(pod!, '/api/v1/configmaps')).toBe(403);
    expect(await statusAs(pod!, '/api/v1/namespaces/shop/services/web')).toBe(403);
  });

  test('the pod’s end (SIGTERM, exit 0) keeps resolution: the programs stay pinned', async () => {
    await pod!.stop();
    expect(pod!.containers[0]!.exitCode).toBe(0);
    const after = await client!.tcp({ address: CLUSTER_IP, port: 80, count: 20 });
    expect(after.failures).toEqual({});
    expect(Object.keys(after.counts).sort()).toEqual(['a1', 'a2']);
  });

  test('a manifest that cannot run fails: the same container without its capabilities exits before it is ready (its port is free: the first pod is gone)', async () => {
    const plan = podPlan('balanced-cgroup-resolver', { ...facts, podName: 'resolver-no-caps' }, bridges[0]!, {
      hostPathOverrides: overrides,
      edit: (c) => (c.securityContext = { ...c.securityContext, capabilities: { drop: ['ALL'] } }),
    });
    expect(plan.containers[0]!.capabilities).toEqual([]);
    const refused = await launch(plan, netns!).then(
      async (p) => {
        try {
          await p.ready(30_000);
          return 'ready';
        } catch (e) {
          return e;
        } finally {
          await p.stop();
        }
      },
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ManifestRunError);
    expect((refused as Error).message).toMatch(/container resolver exited [1-9][0-9]* before the pod was ready[^]*(EPERM|not permitted)/);
  }, 60_000);

  test('the documented uninstall (the image with --detach) detaches everything; the test’s cgroup and folder go', async () => {
    const bridge = bridges[0]!;
    const uninstall = await launch(podPlan('balanced-cgroup-resolver', { ...facts, podName: 'resolver-detach' }, bridge, { hostPathOverrides: overrides, edit: (c) => (c.args = [...(c.args ?? []), '--detach']) }), netns!);
    const code = await uninstall.containers[0]!.exited;
    const log = uninstall.containers[0]!.log();
    await uninstall.stop();
    expect({ code, log: code === 0 ? '' : log }).toEqual({ code: 0, log: '' });
    expect(attached(cgroup!)).toEqual([]);
    expect(existsSync(join(pinRoot!, 'balanced'))).toBe(false);
    const detached = await client!.tcp({ address: CLUSTER_IP, port: 80, count: 3 });
    expect(detached.counts).toEqual({});
    expect(Object.keys(detached.failures)).toEqual(['ENETUNREACH']);

    await client!.stop();
    client = undefined;
    await removeTestPinRoot(pinRoot!);
    await removeTestCgroup(cgroup!);
    expect({ pins: existsSync(pinRoot!), cgroup: existsSync(cgroup!) }).toEqual({ pins: false, cgroup: false });
    pinRoot = undefined;
    cgroup = undefined;
  }, 60_000);
});

interface ReviewResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: { readonly code?: number; readonly message?: string };
  readonly patch?: string;
}

/** POSTs an AdmissionReview v1 for `object` (CREATE) as the API server would: HTTPS, the CA, the Service's DNS name. */
function admit(address: string, ca: Buffer, path: '/validate' | '/mutate', object: Json): Promise<ReviewResponse> {
  const uid = randomUUID();
  const kind = String(object['kind']);
  const resource = kind === 'BalancingPolicy' ? 'balancingpolicies' : 'localredirectpolicies';
  const body = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: 'balanced.dev', version: 'v1alpha1', kind },
      resource: { group: 'balanced.dev', version: 'v1alpha1', resource },
      name: (object['metadata'] as { name: string }).name,
      operation: 'CREATE',
      userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
      object,
      oldObject: null,
      dryRun: false,
    },
  });
  return new Promise((resolve, reject) => {
    const req = request(
      { host: address, port: 9443, path, method: 'POST', ca, servername: WEBHOOK_DNS_NAME, agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return reject(new Error(`${path}: HTTP ${res.statusCode}: ${text}`));
          const review = JSON.parse(text) as { apiVersion?: string; kind?: string; response?: ReviewResponse };
          if (review.apiVersion !== 'admission.k8s.io/v1' || review.kind !== 'AdmissionReview' || review.response?.uid !== uid) return reject(new Error(`not the AdmissionReview answer: ${text}`));
          resolve(review.response);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

maybe('policy-webhook from its image, as deploy/policy-webhook.yaml declares it, under RBAC', () => {
  let netns: string | undefined;
  let bridge: ApiBridge;
  let cert: WebhookCertificate;
  let pod: RunningPod | undefined;

  beforeAll(async () => {
    cert = makeWebhookCertificate();
    netns = await createNetns();
    bridge = await bridgeApiServer({ netns, index: 212, apiUrl: server.url });
    bridges.push(bridge);
    // A policy the cluster already holds: the webhook must list it (its Role) to refuse a second claim.
    server.store.put('balancingpolicies', bp('held-vip'));
    const plan = podPlan('balanced-policy-webhook', { podName: 'balanced-policy-webhook-0', nodeName: NODE, podIP: bridge.podAddress, hostIP: NODE_IP }, bridge, { objects: [cert.secret] });
    const started = Date.now();
    pod = await launch(plan, netns);
    await pod.ready(90_000);
    timings.webhookReadyMs = Date.now() - started;
  }, 180_000);

  afterAll(async () => {
    await pod?.stop().catch(() => undefined);
    if (netns !== undefined) await deleteNetns(netns).catch(() => undefined);
  }, 60_000);

  test('it runs as declared: 65532 with no capability, no_new_privs, a read-only root, the Secret at /etc/balanced/webhook-tls; its HTTPS readiness probe passed', () => {
    const c = pod!.containers[0]!;
    const view = processView(c.pid);
    expect(view.argv).toEqual(['/usr/local/bin/node', '/app/packages/policy-webhook/dist/bundle/main.mjs', '--port=9443', '--cert-dir=/etc/balanced/webhook-tls', '--metrics-host=0.0.0.0', '--metrics-port=9746']);
    expect(view.env).toEqual(c.plan.env.map(([n, v]) => `${n}=${v}`));
    expect({ uid: view.uid, gid: view.gid, groups: view.groups, noNewPrivs: view.noNewPrivs }).toEqual({ uid: '65532', gid: '65532', groups: '', noNewPrivs: '1' });
    expect({ bounding: view.capBnd, effective: view.capEff }).toEqual({ bounding: 0n, effective: 0n });
    expect({ root: view.rootReadOnly, procSys: view.procSysReadOnly }).toEqual({ root: true, procSys: true });
    expect(c.plan.mounts).toContainEqual({ volume: 'tls', containerPath: '/etc/balanced/webhook-tls', subPath: '', readOnly: true, propagation: 'None' });
    // pod.ready() ran this probe (busybox wget over HTTPS from the pod's namespace) until it passed.
    expect(c.plan.readinessProbe).toMatchObject({ kind: 'http', scheme: 'HTTPS', host: bridge.podAddress, port: 9443, path: '/readyz' });
  });

  test('AdmissionReviews over HTTPS: a policy on a free frontend is allowed, one on a frontend another policy holds is refused (409)', async () => {
    const allowed = await admit(bridge.podAddress, cert.caCert, '/validate', bp('free-vip', { frontend: addressFrontend('169.254.20.11') }));
    expect(allowed).toMatchObject({ allowed: true });
    const refused = await admit(bridge.podAddress, cert.caCert, '/validate', bp('second-claim'));
    expect(refused).toMatchObject({ allowed: false, status: { code: 409 } });
    expect(refused.status?.message).toContain('is already claimed by BalancingPolicy "held-vip"');
    const mutated = await admit(bridge.podAddress, cert.caCert, '/mutate', bp('free-vip', { frontend: addressFrontend('169.254.20.11') }));
    expect(mutated.allowed).toBe(true);
  });

  test('its Role is enough (no warning in its log) and its ServiceAccount is refused everything else (403)', async () => {
    expect(complaints(pod!)).toEqual([]);
    expect(await statusAs(pod!, '/apis/balanced.dev/v1alpha1/balancingpolicies')).toBe(200);
    expect(await statusAs(pod!, '/api/v1/services')).toBe(403);
    expect(await statusAs(pod!, '/api/v1/configmaps')).toBe(403);
  });
});
