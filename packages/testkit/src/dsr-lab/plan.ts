import { clientAddress } from '../mh-probe.js';
import { uniqueName } from '../netns.js';
import type { Endpoint } from '../traffic/types.js';

/**
 * The DSR lab's names and addresses (pure). Every namespace name starts with one
 * `uniqueName` base, so parallel runs never collide; interface names are fixed because
 * every veth is created directly inside its namespaces (never in the shared one).
 *
 *   client ── router ──┬── director1 (VIP on balanced0, IPVS mh → IPIP to the pods)
 *   10.100/16 (AnyIP)  ├── director2
 *                      └── node ──┬── pod-a  (VIP on tunl0, answers the client directly)
 *                                 ├── pod-b
 *                                 └── pod-c
 */
export interface DsrLabOptions {
  /** Prefix of every namespace name; default `uniqueName('dsr')`. */
  readonly name?: string;
  /** The service's virtual IP; default 10.96.100.10. */
  readonly vip?: string;
  /** TCP and UDP port of the service; default 80. */
  readonly port?: number;
  /** Number of directors, 1–9; default 2. */
  readonly directors?: number;
  /** Number of backend pods, 1–26; default 3. */
  readonly pods?: number;
}

export interface LabLink {
  /** Interface name on this side. */
  readonly ifname: string;
  /** Address on this side, without prefix length. */
  readonly address: string;
  /** Prefix length of the link network. */
  readonly prefixLength: number;
}

export interface ClientPlan {
  readonly netns: string;
  /** The client's side of the client–router link. */
  readonly link: LabLink;
  /** Local on the client's lo (AnyIP): any address in it can be a connection's source. */
  readonly sourceNet: string;
}

export interface RouterPlan {
  readonly netns: string;
  readonly asn: number;
  readonly routerId: string;
  readonly toClient: LabLink;
  /** Router side of each director link, in director order. */
  readonly toDirectors: readonly LabLink[];
  readonly toNode: LabLink;
}

export interface DirectorPlan {
  /** 1-based. */
  readonly index: number;
  readonly netns: string;
  readonly asn: number;
  /** The director's side of its router link (also its BGP address and router id). */
  readonly link: LabLink;
  /** The router's address on the same link (BGP neighbour, next hop for pods and clients). */
  readonly routerAddress: string;
  /** Dummy interface holding the VIP as a /32 (ipvs-controller's default name). */
  readonly vipInterface: string;
}

export interface NodePlan {
  readonly netns: string;
  readonly link: LabLink;
  readonly routerAddress: string;
  /** The pods' gateway, on every pod-facing veth of the node as a /32. */
  readonly gateway: string;
}

export interface PodPlan {
  /** Pod name, e.g. "pod-a": also what its servers answer. */
  readonly name: string;
  readonly netns: string;
  /** eth0 address (the IPVS destination). */
  readonly address: string;
  /** The node's end of this pod's veth. */
  readonly nodeIfname: string;
}

export interface DsrLabPlan {
  readonly name: string;
  readonly vip: string;
  readonly port: number;
  readonly podCidr: string;
  readonly podPrefixLength: number;
  readonly client: ClientPlan;
  readonly router: RouterPlan;
  readonly directors: readonly DirectorPlan[];
  readonly node: NodePlan;
  readonly pods: readonly PodPlan[];
}

const ROUTER_ASN = 65000;

function count(what: string, value: number | undefined, fallback: number, max: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > max) throw new RangeError(`${what} must be an integer in 1..${max}, got ${n}`);
  return n;
}

/** Names and addresses for one lab. Pure except for the default name (a process-unique counter). */
export function planDsrLab(options: DsrLabOptions = {}): DsrLabPlan {
  const name = options.name ?? uniqueName('dsr');
  const directors = count('directors', options.directors, 2, 9);
  const pods = count('pods', options.pods, 3, 26);
  const port = options.port ?? 80;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`port must be 1..65535, got ${port}`);
  const directorPlans: DirectorPlan[] = [];
  const routerSides: LabLink[] = [];
  for (let i = 1; i <= directors; i++) {
    routerSides.push({ ifname: `d${i}`, address: `10.202.${i}.1`, prefixLength: 30 });
    directorPlans.push({
      index: i,
      netns: `${name}-d${i}`,
      asn: ROUTER_ASN + i,
      link: { ifname: 'rtr', address: `10.202.${i}.2`, prefixLength: 30 },
      routerAddress: `10.202.${i}.1`,
      vipInterface: 'balanced0',
    });
  }
  const podPlans: PodPlan[] = [];
  for (let j = 0; j < pods; j++) {
    const podName = `pod-${String.fromCharCode(97 + j)}`;
    podPlans.push({ name: podName, netns: `${name}-${podName}`, address: `10.244.1.${11 + j}`, nodeIfname: podName });
  }
  const vip = options.vip ?? '10.96.100.10';
  const used = [...routerSides.map((l) => l.address), ...directorPlans.map((d) => d.link.address), ...podPlans.map((p) => p.address)];
  if (!/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(vip) || vip.split('.').some((o) => Number(o) > 255)) throw new RangeError(`vip must be an IPv4 address, got ${vip}`);
  if (used.includes(vip) || vip.startsWith('10.100.') || vip.startsWith('10.244.1.') || /^10\.20[123]\./.test(vip)) throw new RangeError(`vip ${vip} collides with the lab's own addresses`);
  return {
    name,
    vip,
    port,
    podCidr: '10.244.1.0/24',
    podPrefixLength: 24,
    client: {
      netns: `${name}-client`,
      link: { ifname: 'rtr', address: '10.201.0.2', prefixLength: 30 },
      sourceNet: '10.100.0.0/16',
    },
    router: {
      netns: `${name}-router`,
      asn: ROUTER_ASN,
      routerId: '10.201.0.1',
      toClient: { ifname: 'client', address: '10.201.0.1', prefixLength: 30 },
      toDirectors: routerSides,
      toNode: { ifname: 'node', address: '10.203.0.1', prefixLength: 30 },
    },
    directors: directorPlans,
    node: {
      netns: `${name}-node`,
      link: { ifname: 'rtr', address: '10.203.0.2', prefixLength: 30 },
      routerAddress: '10.203.0.1',
      gateway: '10.244.1.1',
    },
    pods: podPlans,
  };
}

/** Every namespace of the plan, client first. */
export function planNamespaces(plan: DsrLabPlan): string[] {
  return [plan.client.netns, plan.router.netns, ...plan.directors.map((d) => d.netns), plan.node.netns, ...plan.pods.map((p) => p.netns)];
}

/**
 * `n` client endpoints from index `first`: distinct source addresses in the client's source
 * net (10.100.1.1, … 250 per /24; `mh` hashes the address, not the port) and ports 20000 + index.
 */
export function clientEndpoints(first: number, n: number): Endpoint[] {
  return Array.from({ length: n }, (_, k) => ({ address: clientAddress(first + k), port: 20000 + ((first + k) % 40000) }));
}
