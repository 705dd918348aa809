import { runChecked } from '../exec.js';
import { ipBatch, setSysctls } from './netns-config.js';
import type { DsrLabPlan, PodPlan } from './plan.js';

/** IPIP header: what tunl0's MTU gives up to eth0's. */
export const IPIP_OVERHEAD = 20;

async function linkMtu(netns: string, ifname: string): Promise<number> {
  const rows = JSON.parse(await runChecked('ip', ['-n', netns, '-j', 'link', 'show', ifname])) as { mtu?: number }[];
  const mtu = rows[0]?.mtu;
  if (mtu === undefined) throw new Error(`no MTU for ${ifname} in ${netns}`);
  return mtu;
}

/**
 * The manual stand-in for endpoint-controller in one pod: tunl0 (the ipip module's
 * fallback device, present in every namespace once ipip is loaded) up with the VIP as a
 * /32 and an MTU that leaves room for the IPIP header, and reverse-path filtering off.
 */
export async function configurePodTunnelManually(plan: DsrLabPlan, pod: PodPlan): Promise<void> {
  const mtu = await linkMtu(pod.netns, 'eth0');
  try {
    await ipBatch(pod.netns, ['link set tunl0 up', `link set tunl0 mtu ${mtu - IPIP_OVERHEAD}`, `addr add ${plan.vip}/32 dev tunl0`]);
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n(no tunl0? the kernel needs the ipip module loaded)`, { cause: e });
  }
  // A request arrives encapsulated on eth0 and comes out of tunl0 with the client as its
  // source, but the route back to the client leaves through eth0 (that is DSR): strict
  // reverse-path filtering would drop every request. The effective value is the maximum of
  // `all` and the interface's own, so both must be 0.
  setSysctls(pod.netns, { 'net.ipv4.conf.all.rp_filter': 0, 'net.ipv4.conf.tunl0.rp_filter': 0 });
}
