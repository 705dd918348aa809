import { IpvsClient, ServiceFlags, type IpvsOperation, type ServiceKey, type ServiceWithDestinations } from '@balanced/ipvs';
import { run } from '../exec.js';
import { parseIpvsConn, type ConnEntry } from '../mh-probe.js';
import { ipBatch, setSysctls } from './netns-config.js';
import type { DirectorPlan, DsrLabPlan } from './plan.js';

/** What a stateless director needs (DESIGN.md, kernel facts); per network namespace. */
export const DIRECTOR_IPVS_SYSCTLS: Readonly<Record<string, number>> = {
  'net.ipv4.vs.conntrack': 0,
  'net.ipv4.vs.sloppy_tcp': 1,
  'net.ipv4.vs.schedule_icmp': 1,
  'net.ipv4.vs.expire_nodest_conn': 1,
  'net.ipv4.vs.conn_reuse_mode': 2,
};

/** The lab's two IPVS services: VIP:port over TCP and over UDP. */
export function labServiceKeys(plan: DsrLabPlan): ServiceKey[] {
  return (['tcp', 'udp'] as const).map((protocol) => ({ protocol, address: plan.vip, port: plan.port }));
}

const ipvsIn = (director: DirectorPlan): Promise<IpvsClient> => IpvsClient.open({ netns: `/run/netns/${director.netns}` });

async function applyAll(director: DirectorPlan, ops: readonly IpvsOperation[]): Promise<void> {
  const ipvs = await ipvsIn(director);
  try {
    const results = await ipvs.apply(ops);
    const failed = results.flatMap((r, i) => (r.ok ? [] : [`${ops[i]!.op}: ${r.error.message}`]));
    if (failed.length > 0) throw new Error(`IPVS in ${director.netns}: ${failed.join('; ')}`);
  } finally {
    ipvs.close();
  }
}

/**
 * The manual stand-in for ipvs-controller on one director: IPVS sysctls, the VIP as a /32 on
 * a dummy interface, and both services with scheduler `mh` + `mh-fallback` whose
 * destinations are the pods with IPIP forwarding, weight 1, added in plan order — the same
 * order on every director, so every director builds the same `mh` table.
 */
export async function programDirectorManually(plan: DsrLabPlan, director: DirectorPlan): Promise<void> {
  setSysctls(director.netns, DIRECTOR_IPVS_SYSCTLS);
  await ipBatch(director.netns, [
    `link add ${director.vipInterface} type dummy`,
    `link set ${director.vipInterface} up`,
    `addr add ${plan.vip}/32 dev ${director.vipInterface}`,
  ]);
  const ops: IpvsOperation[] = [];
  for (const key of labServiceKeys(plan)) {
    ops.push({ op: 'add-service', service: { key, scheduler: 'mh', flags: ServiceFlags.MH_FALLBACK } });
    for (const pod of plan.pods) {
      ops.push({ op: 'add-destination', service: key, destination: { address: pod.address, port: plan.port, forwarding: 'tunnel', weight: 1, tunnel: { type: 'ipip' } } });
    }
  }
  await applyAll(director, ops);
}

/** Sets one pod's weight in both services of one director (0 = drain: existing connections stay). */
export async function setDestinationWeight(plan: DsrLabPlan, director: DirectorPlan, podName: string, weight: number): Promise<void> {
  const pod = plan.pods.find((p) => p.name === podName);
  if (pod === undefined) throw new RangeError(`no pod ${podName}`);
  await applyAll(
    director,
    labServiceKeys(plan).map((key) => ({
      op: 'update-destination',
      service: key,
      destination: { address: pod.address, port: plan.port, forwarding: 'tunnel', weight, tunnel: { type: 'ipip' } },
    })),
  );
}

/** The director's IPVS table (services with destinations in kernel list order, with stats). */
export async function readDirectorTable(director: DirectorPlan): Promise<ServiceWithDestinations[]> {
  const ipvs = await ipvsIn(director);
  try {
    return await ipvs.dump();
  } finally {
    ipvs.close();
  }
}

/** The director's IPVS connection entries (/proc/net/ip_vs_conn of its namespace). */
export async function readIpvsConnections(director: DirectorPlan): Promise<ConnEntry[]> {
  const r = await run('ip', ['netns', 'exec', director.netns, 'cat', '/proc/net/ip_vs_conn']);
  if (r.code !== 0) throw new Error(`reading ip_vs_conn in ${director.netns}: ${r.stderr.trim()}`);
  return parseIpvsConn(r.stdout);
}
