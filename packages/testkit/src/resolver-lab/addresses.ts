import { runChecked } from '../exec.js';

/** `ip addr add` arguments that put one address on `dev` as a host route (/32, or /128 with nodad). */
export function localAddressArgs(address: string, dev = 'lo'): string[] {
  const v6 = address.includes(':');
  return ['addr', 'add', `${address}/${v6 ? 128 : 32}`, 'dev', dev, ...(v6 ? ['nodad'] : [])];
}

/** Adds addresses to a namespace's loopback (so servers in it can bind them). */
export async function addLocalAddresses(netns: string, addresses: readonly string[], dev = 'lo'): Promise<void> {
  for (const a of addresses) await runChecked('ip', ['-n', netns, ...localAddressArgs(a, dev)]);
}
