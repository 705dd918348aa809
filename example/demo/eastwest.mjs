// Screen 6: east-west. A client pod (a cgroup + a network namespace) connects to the
// Service's ClusterIP; the cgroup-resolver's programs pick a backend at connect() time, so
// the packets go straight to the pod address and the client still sees the ClusterIP. Then a
// LocalRedirectPolicy sends the ClusterIP to a node-local pod, and back (redirect.mjs).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestCgroup, createTestPinRoot, ensureBpffs, startResolverClient } from '@balanced/testkit';
import { CLUSTER_IP, NODE } from './cluster.mjs';
import { startResolver } from './components.mjs';
import { startLocalPod } from './local-pod.mjs';
import { showRedirect } from './redirect.mjs';
import { heading, note, progress, shareBars } from './screens.mjs';
import { CHILD_READY_MS, eventually } from './wait.mjs';

/**
 * The node's cgroup (the resolver attaches there) with the client pod's cgroup and the
 * node-local pod below it, a bpffs pin root, and the cgroup-resolver on them (not yet awaited).
 */
export async function startEastWest(ctx) {
  const { procs, repo, kubeconfig, cgroupRoot, cleanup } = ctx;
  await ensureBpffs();
  const nodeCgroup = await createTestCgroup('balanced-demo-node', cgroupRoot);
  cleanup.cgroups.push(nodeCgroup);
  const cgroup = join(nodeCgroup, 'client');
  await mkdir(cgroup);
  const pinRoot = await createTestPinRoot('balanced-demo');
  cleanup.pinRoot = pinRoot;
  progress('node-local pod web-local; cgroup-resolver (starting)');
  const local = await startLocalPod(ctx, nodeCgroup);
  return { nodeCgroup, cgroup, local, resolver: startResolver(procs, repo, kubeconfig, nodeCgroup, pinRoot) };
}

export async function showEastWest(ctx, { nodeCgroup, cgroup, local, resolver }, checks) {
  const { plan } = ctx.lab;
  progress('waiting for the cgroup-resolver');
  await resolver.ready();
  const client = await startResolverClient({ netns: plan.client.netns, cgroup, readyTimeoutMs: CHILD_READY_MS });
  try {
    const n = 90;
    // The agent is ready once it has read the cluster; the first write may follow a moment later.
    const r = await eventually('the ClusterIP to resolve', () => client.tcp({ address: CLUSTER_IP, port: plan.port, count: n }), (x) => Object.keys(x.failures).length === 0, 60_000);
    heading('6/6', `East-west: a client pod connects to the ClusterIP ${CLUSTER_IP}:${plan.port} through the cgroup-resolver`);
    note(`the resolver is ${NODE}'s agent, attached to the node's cgroup ${nodeCgroup.split('/').pop()}; the client runs below it`);
    note(`  (cgroup ${cgroup.split('/').slice(-2).join('/')}) in netns ${plan.client.netns}`);
    note(`connect() is rewritten to a pod address; getpeername() still says ${CLUSTER_IP}:${plan.port}; no NAT, no director on the path`);
    console.log('');
    shareBars(r.counts, plan.pods.map((p) => p.name));
    console.log('');
    checks.check(`every connection to the ClusterIP answered by a pod`, plan.pods.reduce((s, p) => s + (r.counts[p.name] ?? 0), 0) === n, JSON.stringify(r.counts));
    checks.check('the client sees the ClusterIP as its peer', (r.peers[`${CLUSTER_IP}:${plan.port}`] ?? 0) === n, JSON.stringify(r.peers));
    checks.check('more than one pod served the client', Object.keys(r.counts).length > 1);
    await showRedirect(ctx, client, local, checks);
    return r.counts;
  } finally {
    await client.stop();
  }
}
