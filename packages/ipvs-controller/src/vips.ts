import { cidrOf, parseIp } from '@balanced/net';
import type { RouteClient } from '@balanced/netlink';

export interface VipSyncResult {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** Pure: which /32 (/128) addresses to add and remove on the VIP interface. */
export function planVips(wanted: Iterable<string>, present: Iterable<string>, owns: (ip: string) => boolean): VipSyncResult {
  const want = new Set([...wanted].map(hostPrefix));
  const have = new Set([...present].map(hostPrefix));
  return {
    added: [...want].filter((p) => !have.has(p)).sort(),
    removed: [...have].filter((p) => !want.has(p) && owns(p.slice(0, p.indexOf('/')))).sort(),
  };
}

function hostPrefix(ip: string): string {
  return cidrOf(parseIp(ip.includes('/') ? ip.slice(0, ip.indexOf('/')) : ip)).text;
}

/**
 * Keep the VIPs as host addresses on a dummy interface (created and brought up if missing).
 * Addresses outside ownership are never removed.
 */
export async function syncVips(route: RouteClient, link: string, wanted: Iterable<string>, owns: (ip: string) => boolean): Promise<VipSyncResult> {
  await route.ensureLink({ name: link, kind: 'dummy', up: true });
  const present = (await route.listAddresses(link)).filter((a) => !a.address.startsWith('fe80:')).map((a) => `${a.address}/${a.prefixLength}`);
  const result = planVips(wanted, present, owns);
  for (const p of result.added) await route.addAddress(link, p);
  for (const p of result.removed) await route.deleteAddress(link, p);
  return result;
}
