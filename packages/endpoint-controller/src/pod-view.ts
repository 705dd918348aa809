// Defensive reads of a Pod: cached objects are typed models (from a list) or plain JSON
// (from a watch), and anything may be missing or malformed. Nothing here throws.
import { parseIp } from '@balanced/netlink';

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface PodView extends PodRef {
  readonly nodeName: string;
  readonly hostNetwork: boolean;
  readonly phase: string;
  /** The pod's first IPv4 address (status.podIPs, else status.podIP), normalised; undefined if none. */
  readonly ipv4: string | undefined;
}

type Rec = Readonly<Record<string, unknown>>;

function rec(value: unknown): Rec | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Rec) : undefined;
}

/** An own property of an object (never one from the prototype). */
export function field(value: unknown, key: string): unknown {
  const r = rec(value);
  return r !== undefined && Object.prototype.hasOwnProperty.call(r, key) ? r[key] : undefined;
}

export function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Normalised IPv4 text, or undefined for anything else (IPv6, garbage). */
export function ipv4(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  try {
    const ip = parseIp(value);
    return ip.family === 'inet' ? ip.text : undefined;
  } catch {
    return undefined;
  }
}

export function podRef(pod: unknown): PodRef {
  const m = field(pod, 'metadata');
  return { namespace: text(field(m, 'namespace')), name: text(field(m, 'name')), uid: text(field(m, 'uid')) };
}

export function viewPod(pod: unknown): PodView {
  const spec = field(pod, 'spec');
  const status = field(pod, 'status');
  const candidates = [...list(field(status, 'podIPs')).map((p) => field(p, 'ip')), field(status, 'podIP')];
  let address: string | undefined;
  for (const c of candidates) {
    address = ipv4(c);
    if (address !== undefined) break;
  }
  return {
    ...podRef(pod),
    nodeName: text(field(spec, 'nodeName')),
    hostNetwork: field(spec, 'hostNetwork') === true,
    phase: text(field(status, 'phase')),
    ipv4: address,
  };
}
