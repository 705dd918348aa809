import { NodeChild } from '../traffic/node-child.js';
import { IDENTITY_SERVER_SCRIPT } from './identity-server-script.js';

export type ListenerProtocol = 'tcp' | 'udp' | 'both';

/** One listener: answers with `name` (TCP greeting line / UDP reply). */
export interface IdentityListener {
  readonly name: string;
  /** Must already be local in the namespace (see addLocalAddresses); not a wildcard for UDP. */
  readonly address: string;
  readonly port: number;
  /** Default `both`. */
  readonly protocol?: ListenerProtocol;
}

export interface IdentityServerStats {
  /** TCP connections accepted. */
  readonly tcp: number;
  /** UDP datagrams answered. */
  readonly udp: number;
  /** TCP connections open now. */
  readonly open: number;
}

export interface IdentityServers {
  readonly netns: string;
  readonly pid: number;
  readonly listeners: readonly IdentityListener[];
  stats(): Promise<Record<string, IdentityServerStats>>;
  /** Resets (RST) the open TCP connections of one listener, or of all; resolves with how many. */
  kick(name?: string): Promise<number>;
  /** Closes one listener's servers (new TCP connects are refused). */
  close(name: string): Promise<number>;
  /** Stops the process by its pid. Idempotent. */
  stop(): Promise<void>;
}

/** Checks listener specs: names non-empty and without newlines, ports 1–65535, no duplicate (address, port, protocol). */
export function validateListeners(listeners: readonly IdentityListener[]): IdentityListener[] {
  if (listeners.length === 0) throw new Error('identity servers: no listeners');
  const seen = new Set<string>();
  return listeners.map((l) => {
    if (l.name === '' || /[\n\r]/.test(l.name)) throw new Error(`identity servers: bad name ${JSON.stringify(l.name)}`);
    if (!Number.isInteger(l.port) || l.port < 1 || l.port > 65535) throw new Error(`identity servers: bad port ${l.port} for ${l.name}`);
    const protocol = l.protocol ?? 'both';
    if (!['tcp', 'udp', 'both'].includes(protocol)) throw new Error(`identity servers: bad protocol ${String(protocol)}`);
    for (const p of protocol === 'both' ? ['tcp', 'udp'] : [protocol]) {
      const key = `${p} ${l.address} ${l.port}`;
      if (seen.has(key)) throw new Error(`identity servers: ${key} given twice`);
      seen.add(key);
    }
    return { name: l.name, address: l.address, port: l.port, protocol };
  });
}

export interface IdentityServersOptions {
  readonly netns: string;
  readonly listeners: readonly IdentityListener[];
  /** Also join this cgroup first (normally servers stay out of the resolver's cgroup). */
  readonly cgroup?: string;
  /** Default 30 s. */
  readonly readyTimeoutMs?: number;
}

/** Starts one node process serving every listener in `netns`; resolves once all are bound. */
export async function startIdentityServers(options: IdentityServersOptions): Promise<IdentityServers> {
  const listeners = validateListeners(options.listeners);
  const child = NodeChild.start(options.netns, 'identity servers', IDENTITY_SERVER_SCRIPT, { listeners }, {
    stdin: true,
    ...(options.cgroup === undefined ? {} : { cgroup: options.cgroup }),
  });
  try {
    await child.nextUnsolicited(options.readyTimeoutMs ?? 30_000);
  } catch (e) {
    await child.stop();
    throw e;
  }
  return {
    netns: options.netns,
    pid: child.pid,
    listeners,
    stats: () => child.request<Record<string, IdentityServerStats>>({ op: 'stats' }),
    kick: (name) => child.request<number>({ op: 'kick', ...(name === undefined ? {} : { name }) }),
    close: (name) => child.request<number>({ op: 'close', name }),
    stop: () => child.stop(),
  };
}
