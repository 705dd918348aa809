// Screen 6: east-west. A client pod (a test cgroup + a network namespace) connects to the
// Service's ClusterIP; the cgroup-resolver's programs pick a backend at connect() time, so
// the packets go straight to the pod address and the client still sees the ClusterIP.
import { createTestCgroup, createTestPinRoot, ensureBpffs, startResolverClient } from '@balanced/testkit';
import { CLUSTER_IP } from './cluster.mjs';
import { startResolver } from './components.mjs';
import { heading, note, progress, shareBars } from './screens.mjs';
import { eventually } from './wait.mjs';

/** The client pod's cgroup and a bpffs pin root, and the cgroup-resolver on them (not yet awaited). */
export async function startEastWest({ procs, repo, kubeconfig, cgroupRoot, cleanup }) {
  await ensureBpffs();
  const cgroup = await createTestCgroup('balanced-demo-client', cgroupRoot);
  cleanup.cgroups.push(cgroup);
  const pinRoot = await createTestPinRoot('balanced-demo');
  cleanup.pinRoot = pinRoot;
  progress('cgroup-resolver (starting)');
  return { cgroup, resolver: startResolver(procs, repo, kubeconfig, cgroup, pinRoot) };
}

export async function showEastWest({ lab }, { cgroup, resolver }, checks) {
  const { plan } = lab;
  progress('waiting for the cgroup-resolver');
  await resolver.ready();
  const client = await startResolverClient({ netns: plan.client.netns, cgroup });
  try {
    const n = 90;
    // The agent is ready once it has read the cluster; the first write may follow a moment later.
    const r = await eventually('the ClusterIP to resolve', () => client.tcp({ address: CLUSTER_IP, port: plan.port, count: n }), (x) => Object.keys(x.failures).length === 0, 60_000);
    heading('6/6', `East-west: a client pod connects to the ClusterIP ${CLUSTER_IP}:${plan.port} through the cgroup-resolver`);
    note(`the client runs in cgroup ${cgroup.split('/').pop()} (the resolver's programs are attached there) and netns ${plan.client.netns}`);
    note(`connect() is rewritten to a pod address; getpeername() still says ${CLUSTER_IP}:${plan.port}; no NAT, no director on the path`);
    console.log('');
    shareBars(r.counts, plan.pods.map((p) => p.name));
    console.log('');
    checks.check(`every connection to the ClusterIP answered by a pod`, plan.pods.reduce((s, p) => s + (r.counts[p.name] ?? 0), 0) === n, JSON.stringify(r.counts));
    checks.check('the client sees the ClusterIP as its peer', (r.peers[`${CLUSTER_IP}:${plan.port}`] ?? 0) === n, JSON.stringify(r.peers));
    checks.check('more than one pod served the client', Object.keys(r.counts).length > 1);
    note('LocalRedirectPolicy (to a node-local pod, and its fallback) comes with the policy issue: not implemented yet, so not shown.');
    return r.counts;
  } finally {
    await client.stop();
  }
}
