// This node's addresses, where a client on the node may reach a NodePort.
import { asArray, asString, prop } from '@balanced/k8s';
import { canonicalIp, type CanonicalIp } from './address.js';
import { compareText } from './object-ref.js';

const NODE_PORT_ADDRESS_TYPES: ReadonlySet<unknown> = new Set(['InternalIP', 'ExternalIP']);

/**
 * The InternalIP and ExternalIP addresses of the Node(s) named `nodeName` (several objects of
 * one name, a malformed cache, contribute all their addresses), sorted, without repeats.
 * Loopback addresses are not included (see service-candidates.ts).
 */
export function nodeAddresses(nodes: readonly unknown[], nodeName: string | undefined): CanonicalIp[] {
  if (nodeName === undefined) return [];
  const out = new Map<string, CanonicalIp>();
  for (const node of asArray(nodes)) {
    if (asString(prop(prop(node, 'metadata'), 'name')) !== nodeName) continue;
    for (const a of asArray(prop(prop(node, 'status'), 'addresses'))) {
      if (!NODE_PORT_ADDRESS_TYPES.has(prop(a, 'type'))) continue;
      const ip = canonicalIp(prop(a, 'address'));
      if (ip !== undefined) out.set(ip.text, ip);
    }
  }
  return [...out.values()].sort((a, b) => compareText(a.text, b.text));
}
