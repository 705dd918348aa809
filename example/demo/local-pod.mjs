// The node-local pod of the LocalRedirectPolicy: its own network namespace on the lab's node
// (a veth to the node, wired like the lab's pods: an address in the pod CIDR, the node's
// gateway as its default route), its server process in a pod-level cgroup `pod<uid>` below
// the node's cgroup (where the cgroup-resolver finds it, as it finds a kubelet's pods), and
// its Pod object (Ready).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createNetns, deleteNetns, ipBatch, runChecked, startIdentityServers } from '@balanced/testkit';
import { LOCAL_POD, localPod } from './cluster.mjs';
import { CHILD_READY_MS } from './wait.mjs';

/** In the lab's pod CIDR, after its pods (.11, .12, …). */
const LOCAL_POD_ADDRESS = '10.244.1.20';

/**
 * Creates the pod below `nodeCgroup` on the lab's node. Its namespace goes with the lab
 * (lab.topology.defer); its server is pushed to `cleanup.servers`, its cgroup removed with the node's.
 */
export async function startLocalPod({ server, lab, cleanup }, nodeCgroup) {
  const { plan } = lab;
  const netns = await createNetns(`${plan.name}-${LOCAL_POD.name}`);
  lab.topology.defer(() => deleteNetns(netns));
  const nodeIf = LOCAL_POD.name;
  await runChecked('ip', ['link', 'add', nodeIf, 'netns', plan.node.netns, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  await ipBatch(plan.node.netns, [`addr add ${plan.node.gateway}/32 dev ${nodeIf}`, `link set ${nodeIf} up`, `route add ${LOCAL_POD_ADDRESS}/32 dev ${nodeIf} src ${plan.node.gateway}`]);
  await ipBatch(netns, [`addr add ${LOCAL_POD_ADDRESS}/${plan.podPrefixLength} dev eth0`, 'link set eth0 up', `route add default via ${plan.node.gateway} dev eth0`]);
  // The kubelet's layout: the pod-level cgroup, its container below it.
  const podCgroup = join(nodeCgroup, `pod${LOCAL_POD.uid}`);
  await mkdir(join(podCgroup, 'web'), { recursive: true });
  const servers = await startIdentityServers({ netns, cgroup: join(podCgroup, 'web'), listeners: [{ name: LOCAL_POD.name, address: LOCAL_POD_ADDRESS, port: plan.port, protocol: 'tcp' }], readyTimeoutMs: CHILD_READY_MS });
  cleanup.servers.push(servers);
  server.store.put('pods', localPod(LOCAL_POD_ADDRESS, plan.port, true));
  return { name: LOCAL_POD.name, address: LOCAL_POD_ADDRESS, netns, podCgroup };
}

/** Flips the pod's Ready condition, as the kubelet does when its readiness probe fails or passes again. */
export function setLocalPodReady(server, pod, port, ready) {
  server.store.put('pods', localPod(pod.address, port, ready));
}
