// What the policies read of Nodes: this node's labels (config.nodeLabelSelector) and every
// node's proxy address (BalancingPolicy redirectMode nodeProxy: annotation
// balanced.dev/node-proxy-ip). Pure; several Node objects of one name (a malformed cache) are
// all taken into account, so the result never depends on their order.
import { asString, prop } from '@balanced/k8s';
import { canonicalIp, type CanonicalIp } from './address.js';
import { compareText } from './object-ref.js';
import { stringLabels } from './policy-pods.js';

/** The node annotation naming the address of a node's proxy: one address, or a comma list (dual-stack). */
export const NODE_PROXY_IP_ANNOTATION = 'balanced.dev/node-proxy-ip';

export interface PolicyNodeView {
  readonly name: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  /** The node-proxy addresses, canonical, sorted, without repeats (unreadable entries skipped). */
  readonly proxyIps: readonly CanonicalIp[];
}

export function readPolicyNode(raw: unknown): PolicyNodeView {
  const metadata = prop(raw, 'metadata');
  const annotation = asString(prop(prop(metadata, 'annotations'), NODE_PROXY_IP_ANNOTATION)) ?? '';
  const proxyIps = new Map<string, CanonicalIp>();
  for (const part of annotation.split(',')) {
    const ip = canonicalIp(part.trim());
    if (ip !== undefined) proxyIps.set(ip.text, ip);
  }
  return {
    name: asString(prop(metadata, 'name')),
    labels: stringLabels(prop(metadata, 'labels')),
    proxyIps: [...proxyIps.values()].sort((a, b) => compareText(a.text, b.text)),
  };
}

/** What the policies read of the Nodes, for one node (this one). */
export interface PolicyNodeContext {
  /** This node; undefined out of cluster. */
  readonly nodeName: string | undefined;
  /** Labels of each Node object named `nodeName` (normally one; none while it is not cached), in canonical order. */
  readonly labelSets: readonly Readonly<Record<string, string>>[];
  /** Node name → its proxy addresses (only nodes that have some). */
  readonly proxyIps: ReadonlyMap<string, readonly CanonicalIp[]>;
  /** Canonical text of the above: two contexts with the same text read the same. */
  readonly text: string;
}

export function policyNodeContext(nodes: Iterable<PolicyNodeView>, nodeName: string | undefined): PolicyNodeContext {
  const labelTexts = new Set<string>();
  const labelSets: Record<string, string>[] = [];
  const proxies = new Map<string, Map<string, CanonicalIp>>();
  for (const n of nodes) {
    if (n.name === undefined) continue;
    if (nodeName !== undefined && n.name === nodeName) {
      const text = labelsText(n.labels);
      if (!labelTexts.has(text)) {
        labelTexts.add(text);
        labelSets.push(n.labels);
      }
    }
    if (n.proxyIps.length === 0) continue;
    const mine = proxies.get(n.name) ?? new Map<string, CanonicalIp>();
    for (const ip of n.proxyIps) mine.set(ip.text, ip);
    proxies.set(n.name, mine);
  }
  labelSets.sort((a, b) => compareText(labelsText(a), labelsText(b)));
  const proxyIps = new Map<string, readonly CanonicalIp[]>();
  for (const name of [...proxies.keys()].sort(compareText)) {
    proxyIps.set(name, [...(proxies.get(name) as Map<string, CanonicalIp>).values()].sort((a, b) => compareText(a.text, b.text)));
  }
  const text = JSON.stringify([nodeName ?? null, labelSets.map(labelsText), [...proxyIps].map(([name, ips]) => [name, ips.map((ip) => ip.text)])]);
  return { nodeName, labelSets, proxyIps, text };
}

/** Whether replacing one view of a Node object by another (undefined: none) may change the PolicyNodeContext of `nodeName`. */
export function policyNodeViewChanged(a: PolicyNodeView | undefined, b: PolicyNodeView | undefined, nodeName: string | undefined): boolean {
  return contribution(a, nodeName) !== contribution(b, nodeName);
}

/** What one Node object brings to a context (policyNodeContext reads nothing else). */
function contribution(view: PolicyNodeView | undefined, nodeName: string | undefined): string {
  if (view === undefined || view.name === undefined) return '';
  const mine = nodeName !== undefined && view.name === nodeName;
  if (!mine && view.proxyIps.length === 0) return '';
  return JSON.stringify([view.name, mine ? labelsText(view.labels) : null, view.proxyIps.map((ip) => ip.text)]);
}

function labelsText(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.keys(labels).sort(compareText).map((k) => [k, labels[k]]));
}
