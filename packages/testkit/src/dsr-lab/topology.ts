import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecked } from '../exec.js';
import { createNetns, deleteNetns } from '../netns.js';
import { CleanupStack } from './cleanup.js';
import { ipBatch, setSysctls } from './netns-config.js';
import { settleAll } from './settle.js';
import { planNamespaces, type DsrLabPlan, type LabLink } from './plan.js';

/**
 * The lab's plumbing: namespaces, veths, addresses, static routes and the forwarding
 * sysctls of the boxes in the middle. No IPVS, no VIP, no BGP, no tunnel: those are the
 * separable steps (manual here, controllers later) that run on top of it.
 */
export interface DsrTopology {
  readonly plan: DsrLabPlan;
  /** Scratch folder (configs, control sockets, logs); removed by dispose. */
  readonly workDir: string;
  /** Registers a clean-up action for dispose (last registered runs first). */
  defer(action: () => Promise<void> | void): void;
  /** Stops whatever was deferred (daemons, servers), deletes every namespace and the scratch folder. */
  dispose(): Promise<void>;
}

const cidr = (l: LabLink): string => `${l.address}/${l.prefixLength}`;

/** Creates the veth `aName`@`aNs` ↔ `bName`@`bNs` directly inside both namespaces. */
async function vethBetween(aNs: string, aName: string, bNs: string, bName: string): Promise<void> {
  await runChecked('ip', ['link', 'add', aName, 'netns', aNs, 'type', 'veth', 'peer', 'name', bName, 'netns', bNs]);
}

/** Builds the plan's namespaces and links; on failure everything created so far is removed. */
export async function createDsrTopology(plan: DsrLabPlan): Promise<DsrTopology> {
  const cleanup = new CleanupStack();
  const workDir = await mkdtemp(join(tmpdir(), `${plan.name}-`));
  cleanup.defer(() => rm(workDir, { recursive: true, force: true }));
  const topology: DsrTopology = {
    plan,
    workDir,
    defer: (action) => cleanup.defer(action),
    dispose: () => cleanup.run(),
  };
  try {
    await build(plan, cleanup);
  } catch (e) {
    await cleanup.run().catch(() => undefined);
    throw e;
  }
  return topology;
}

async function build(plan: DsrLabPlan, cleanup: CleanupStack): Promise<void> {
  const { client, router, directors, node, pods } = plan;
  // The first one alone (it may have to set up /run/netns), the rest at once: process
  // starts dominate under TCG.
  const [first, ...rest] = planNamespaces(plan);
  const addNetns = async (ns: string): Promise<void> => {
    await createNetns(ns);
    cleanup.defer(() => deleteNetns(ns));
  };
  await addNetns(first!);
  await settleAll(rest.map(addNetns));

  // Before any veth exists, so every interface inherits `default`. Router and node see
  // asymmetric paths by design: requests to the VIP leave through a director link while the
  // pods' replies (source = VIP) come back from the node, so reverse-path filtering must be
  // off there. Directors forward IPIP-encapsulated packets to the pods.
  const noRpFilter = { 'net.ipv4.conf.all.rp_filter': 0, 'net.ipv4.conf.default.rp_filter': 0 };
  setSysctls(router.netns, { ...noRpFilter, 'net.ipv4.ip_forward': 1, 'net.ipv4.fib_multipath_hash_policy': 1 });
  setSysctls(node.netns, { ...noRpFilter, 'net.ipv4.ip_forward': 1 });
  for (const d of directors) setSysctls(d.netns, { 'net.ipv4.ip_forward': 1 });

  await settleAll([
    vethBetween(client.netns, client.link.ifname, router.netns, router.toClient.ifname),
    ...directors.map((d, i) => vethBetween(d.netns, d.link.ifname, router.netns, router.toDirectors[i]!.ifname)),
    vethBetween(node.netns, node.link.ifname, router.netns, router.toNode.ifname),
    ...pods.map((p) => vethBetween(p.netns, 'eth0', node.netns, p.nodeIfname)),
  ]);

  const up = (l: LabLink): string[] => [`addr add ${cidr(l)} dev ${l.ifname}`, `link set ${l.ifname} up`];
  await settleAll([
    ipBatch(client.netns, [
      ...up(client.link),
      // AnyIP: the whole source net is local, so a socket may bind any address in it.
      `route add local ${client.sourceNet} dev lo`,
      `route add default via ${router.toClient.address}`,
    ]),
    ipBatch(router.netns, [
      ...up(router.toClient),
      ...router.toDirectors.flatMap(up),
      ...up(router.toNode),
      `route add ${client.sourceNet} via ${client.link.address}`,
      `route add ${plan.podCidr} via ${node.link.address}`,
    ]),
    ...directors.map((d) =>
      ipBatch(d.netns, [...up(d.link), `route add ${plan.podCidr} via ${d.routerAddress}`, `route add ${client.sourceNet} via ${d.routerAddress}`]),
    ),
    ipBatch(node.netns, [
      ...up(node.link),
      `route add default via ${node.routerAddress}`,
      ...pods.flatMap((p) => [
        `addr add ${node.gateway}/32 dev ${p.nodeIfname}`,
        `link set ${p.nodeIfname} up`,
        `route add ${p.address}/32 dev ${p.nodeIfname} src ${node.gateway}`,
      ]),
    ]),
    ...pods.map((p) =>
      ipBatch(p.netns, [`addr add ${p.address}/${plan.podPrefixLength} dev eth0`, 'link set eth0 up', `route add default via ${node.gateway} dev eth0`]),
    ),
  ]);
}
