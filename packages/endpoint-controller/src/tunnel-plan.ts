// The pure "Plan" step for one pod: the VIPs its tunl0 must hold and what its namespace holds
// now → the minimal ordered changes. Only addresses that are /32 and owned are ever removed.
import { planMss, renderMssRules, type MssOp, type MssState } from './mss-rules.js';

/** The IPIP fallback device: every network namespace has it once the ipip module is loaded. */
export const TUNNEL_DEVICE = 'tunl0';
/** Bytes an IPv4-in-IPv4 header adds. */
export const IPIP_OVERHEAD = 20;
/** IPv4 + TCP headers without options: MSS = MTU - 40. */
export const TCP_IPV4_HEADERS = 40;
/**
 * Loose reverse-path filtering on tunl0. A decapsulated packet arrives on tunl0 from a client
 * the pod routes back through eth0, so strict mode (1) drops it. The kernel uses
 * max(conf.all, conf.tunl0), so 2 on tunl0 is loose whatever `all` says, and the pod's
 * other interfaces keep their own setting; loose still drops sources with no route at all.
 */
export const RP_FILTER_LOOSE = '2';
/** Under /proc/sys, per network namespace. */
export const TUNNEL_RP_FILTER = `net/ipv4/conf/${TUNNEL_DEVICE}/rp_filter`;

/** What one pod namespace holds now (read from the kernel). */
export interface TunnelActual {
  /** tunl0; undefined when the namespace has none (ipip not loaded, or fb_tunnels_only_for_init_net). */
  readonly tunnel: { readonly up: boolean; readonly mtu: number } | undefined;
  /** The interface holding the pod's IP; undefined when no interface holds it. */
  readonly podInterface: { readonly name: string; readonly mtu: number } | undefined;
  /** IPv4 addresses on tunl0, "a.b.c.d/len". */
  readonly addresses: readonly string[];
  /** tunl0's rp_filter; undefined when there is no tunl0. */
  readonly rpFilter: string | undefined;
  readonly mss: MssState;
}

export type TunnelOp =
  | { readonly op: 'create-tunnel' }
  | { readonly op: 'set-mtu'; readonly mtu: number }
  | { readonly op: 'link-up' }
  | { readonly op: 'set-sysctl'; readonly name: string; readonly value: string }
  | { readonly op: 'delete-address'; readonly prefix: string }
  | MssOp
  | { readonly op: 'add-address'; readonly prefix: string };

export type TunnelPlan =
  | { readonly ok: true; readonly ops: readonly TunnelOp[]; readonly mtu: number | undefined; readonly mss: number | undefined }
  | { readonly ok: false; readonly reason: 'PodIpNotFound'; readonly message: string };

function hostAddress(prefix: string): string | undefined {
  const slash = prefix.indexOf('/');
  return slash > 0 && prefix.slice(slash + 1) === '32' ? prefix.slice(0, slash) : undefined;
}

/**
 * Ops in the order they must run: the device exists, has its MTU, is up and accepts
 * decapsulated packets before any VIP lands on it; unwanted VIPs go before the MSS rules are
 * rewritten, and new VIPs come last, so every VIP that answers has its SYN-ACKs clamped.
 * With no VIPs wanted, only our leftovers go (owned /32 addresses, our chain); the device
 * itself is left as it is.
 */
export function planTunnel(vips: readonly string[], podIP: string, actual: TunnelActual, owns: (ip: string) => boolean): TunnelPlan {
  const ops: TunnelOp[] = [];
  const wanted = new Set(vips);
  const present = new Set(actual.addresses);
  const removals = actual.addresses
    .filter((p) => {
      const ip = hostAddress(p);
      return ip !== undefined && owns(ip) && !wanted.has(ip);
    })
    .sort();

  if (vips.length === 0) {
    for (const prefix of removals) ops.push({ op: 'delete-address', prefix });
    const mss = planMss(undefined, actual.mss);
    if (mss) ops.push(mss);
    return { ok: true, ops, mtu: undefined, mss: undefined };
  }

  if (actual.podInterface === undefined) {
    return {
      ok: false,
      reason: 'PodIpNotFound',
      message: `no interface in the pod's network namespace holds the pod IP ${podIP} (stale pod status, or the namespace found is not this pod's)`,
    };
  }
  const mtu = actual.podInterface.mtu - IPIP_OVERHEAD;
  const mss = mtu - TCP_IPV4_HEADERS;
  if (actual.tunnel === undefined) {
    ops.push({ op: 'create-tunnel' }, { op: 'set-mtu', mtu }, { op: 'link-up' }, { op: 'set-sysctl', name: TUNNEL_RP_FILTER, value: RP_FILTER_LOOSE });
  } else {
    if (actual.tunnel.mtu !== mtu) ops.push({ op: 'set-mtu', mtu });
    if (!actual.tunnel.up) ops.push({ op: 'link-up' });
    if (actual.rpFilter !== RP_FILTER_LOOSE) ops.push({ op: 'set-sysctl', name: TUNNEL_RP_FILTER, value: RP_FILTER_LOOSE });
  }
  for (const prefix of removals) ops.push({ op: 'delete-address', prefix });
  const mssOp = planMss(renderMssRules(vips, mss), actual.mss);
  if (mssOp) ops.push(mssOp);
  for (const vip of vips) if (!present.has(`${vip}/32`)) ops.push({ op: 'add-address', prefix: `${vip}/32` });
  return { ok: true, ops, mtu, mss };
}

/** One line for a log or an Event: what the ops changed. */
export function describeTunnelOps(ops: readonly TunnelOp[]): string {
  const parts: string[] = [];
  const added = ops.flatMap((o) => (o.op === 'add-address' ? [o.prefix] : []));
  const removed = ops.flatMap((o) => (o.op === 'delete-address' ? [o.prefix] : []));
  if (added.length) parts.push(`added VIP${added.length > 1 ? 's' : ''} ${added.join(', ')}`);
  if (removed.length) parts.push(`removed VIP${removed.length > 1 ? 's' : ''} ${removed.join(', ')}`);
  for (const o of ops) {
    switch (o.op) {
      case 'create-tunnel':
        parts.push(`created ${TUNNEL_DEVICE}`);
        break;
      case 'set-mtu':
        parts.push(`MTU ${o.mtu}`);
        break;
      case 'link-up':
        parts.push(`${TUNNEL_DEVICE} up`);
        break;
      case 'set-sysctl':
        parts.push(`${o.name.replaceAll('/', '.')}=${o.value}`);
        break;
      case 'write-mss': {
        const m = /--set-mss (\d+)$/.exec(o.rules[0] ?? '');
        parts.push(`MSS clamp ${m?.[1] ?? '?'} on SYN-ACKs from ${o.rules.length} VIP${o.rules.length > 1 ? 's' : ''}`);
        break;
      }
      case 'remove-mss':
        parts.push('MSS clamp removed');
        break;
      default:
        break;
    }
  }
  return `${TUNNEL_DEVICE}: ${parts.join('; ')}`;
}
