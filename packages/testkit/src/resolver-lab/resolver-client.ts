import { NodeChild } from '../traffic/node-child.js';
import { RESOLVER_CLIENT_SCRIPT } from './resolver-client-script.js';

/** Error text: an errno code (`ECONNREFUSED`, `ECONNABORTED`, …), `timeout`, or `EOF`. */
export type ErrorCode = string;

export type TcpConnection =
  | { readonly ok: true; readonly backend: string; readonly remoteAddress: string; readonly remotePort: number; readonly ms: number }
  | { readonly ok: false; readonly error: ErrorCode; readonly ms: number };

export interface TcpResult {
  /** Connections per backend name. */
  readonly counts: Record<string, number>;
  /** Failed connections per error code. */
  readonly failures: Record<string, number>;
  /** Connections per getpeername result `address:port` (`[v6]:port`). */
  readonly peers: Record<string, number>;
  readonly connections: readonly TcpConnection[];
}

export type UdpReply =
  | { readonly ok: true; readonly backend: string; readonly from: { readonly address: string; readonly port: number } }
  | { readonly ok: false; readonly error: ErrorCode };

export interface UdpUnconnectedResult {
  readonly counts: Record<string, number>;
  readonly failures: Record<string, number>;
  /** Replies per source `address:port` (recvfrom's rinfo). */
  readonly sources: Record<string, number>;
  readonly replies: readonly UdpReply[];
}

export type UdpConnectedReply =
  | { readonly ok: true; readonly backend: string; readonly remoteAddress: string; readonly remotePort: number }
  | { readonly ok: false; readonly error: ErrorCode };

export interface UdpConnectedResult {
  readonly counts: Record<string, number>;
  readonly failures: Record<string, number>;
  /** Sockets per remoteAddress() `address:port`. */
  readonly peers: Record<string, number>;
  readonly replies: readonly UdpConnectedReply[];
}

/** One connect of a loop: `t` when it started, `ms` how long it took until it succeeded or failed. */
export type LoopAttempt =
  | { readonly t: number; readonly ms: number; readonly ok: true; readonly backend: string }
  | { readonly t: number; readonly ms: number; readonly ok: false; readonly error: ErrorCode };

export interface LoopResult {
  /** Attempts; `t` counts from `origin`. */
  readonly timeline: readonly LoopAttempt[];
  readonly ms: number;
  /** Wall-clock time of t = 0 (performance.timeOrigin-based ms since the epoch): compare with another process's `performance.timeOrigin + performance.now()`. */
  readonly origin: number;
}

export type HoldEvent =
  | { readonly t: number; readonly kind: 'closed'; readonly backend: string | null; readonly error: ErrorCode }
  | { readonly t: number; readonly kind: 'reconnected'; readonly backend: string; readonly remoteAddress: string; readonly remotePort: number }
  | { readonly t: number; readonly kind: 'reconnect-failed'; readonly error: ErrorCode };

export interface HeldSocket {
  readonly name: string;
  /** The first connection: who answered and getpeername. */
  readonly opened: { readonly backend: string; readonly remoteAddress: string; readonly remotePort: number };
  events(): Promise<HoldEvent[]>;
  /** Resolves once at least `count` events happened (or after timeoutMs, with timedOut). */
  waitForEvents(count: number, timeoutMs?: number): Promise<{ events: HoldEvent[]; timedOut: boolean }>;
  /** Closes the socket (no reconnect); resolves with every event. */
  stop(): Promise<HoldEvent[]>;
}

export interface RefusedAttempt {
  readonly ok: boolean;
  readonly error?: ErrorCode;
  readonly ms: number;
}

export interface Target {
  readonly address: string;
  readonly port: number;
}

export interface TcpOptions extends Target {
  readonly count: number;
  /** Echo round trips per connection after the greeting; default 0. */
  readonly exchange?: number;
  /** Default 1 (sequential). */
  readonly concurrency?: number;
  /** Per connection; default 5 s. */
  readonly timeoutMs?: number;
}

export interface UdpProbeOptions extends Target {
  readonly count: number;
  /** Per datagram; default 2 s. */
  readonly timeoutMs?: number;
}

export interface LoopOptions extends Target {
  /** Per attempt; default 2 s. */
  readonly timeoutMs?: number;
  /** Pause between attempts; default 0 (back to back). */
  readonly intervalMs?: number;
  /** The loop stops by itself after this long; default 120 s. */
  readonly maxMs?: number;
  /** …or after this many attempts; default 200,000. */
  readonly maxAttempts?: number;
}

export interface HoldOptions extends Target {
  readonly protocol: 'tcp' | 'udp';
  /** Request/response keep-alive period; default 200 ms for UDP, none for TCP. */
  readonly pingMs?: number;
  /** Per connect / reply; default 2 s. */
  readonly timeoutMs?: number;
  /** Default 20. */
  readonly maxReconnects?: number;
}

export interface RefusedOptions extends Target {
  /** Default `tcp`. `udp-connect`: connect(2) on a UDP socket; `udp-send`: sendto. */
  readonly protocol?: 'tcp' | 'udp-connect' | 'udp-send';
  /** Default 1. */
  readonly count?: number;
  /** Default 2 s. */
  readonly timeoutMs?: number;
}

export interface RunningLoop {
  readonly name: string;
  stop(): Promise<LoopResult>;
}

/** The resolver lab's client: one node process, in the test cgroup, inside the test netns. */
export interface ResolverClient {
  readonly netns: string;
  readonly cgroup: string | undefined;
  readonly pid: number;
  tcp(options: TcpOptions): Promise<TcpResult>;
  udpUnconnected(options: UdpProbeOptions): Promise<UdpUnconnectedResult>;
  udpConnected(options: UdpProbeOptions): Promise<UdpConnectedResult>;
  startLoop(options: LoopOptions): Promise<RunningLoop>;
  hold(options: HoldOptions): Promise<HeldSocket>;
  refused(options: RefusedOptions): Promise<RefusedAttempt[]>;
  /** Stops the process by its pid. Idempotent. */
  stop(): Promise<void>;
}

export interface ResolverClientOptions {
  readonly netns: string;
  /**
   * The cgroup the process joins before it enters the netns. Leave it out only for a
   * client that must NOT be resolved (it then runs under `ip netns exec`).
   */
  readonly cgroup?: string;
  /** Default 30 s. */
  readonly readyTimeoutMs?: number;
}

let serial = 0;

/** Starts the client (in `cgroup`, then `netns`) and resolves once it reads requests. */
export async function startResolverClient(options: ResolverClientOptions): Promise<ResolverClient> {
  const child = NodeChild.start(options.netns, 'resolver client', RESOLVER_CLIENT_SCRIPT, {}, {
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
    cgroup: options.cgroup,
    pid: child.pid,
    tcp: (o) =>
      child.request<TcpResult>({ op: 'tcp', address: o.address, port: o.port, count: o.count, exchange: o.exchange ?? 0, concurrency: o.concurrency ?? 1, timeoutMs: o.timeoutMs ?? 5000 }),
    udpUnconnected: (o) => child.request<UdpUnconnectedResult>({ op: 'udp-unconnected', address: o.address, port: o.port, count: o.count, timeoutMs: o.timeoutMs ?? 2000 }),
    udpConnected: (o) => child.request<UdpConnectedResult>({ op: 'udp-connected', address: o.address, port: o.port, count: o.count, timeoutMs: o.timeoutMs ?? 2000 }),
    async startLoop(o) {
      serial += 1;
      const loop = `loop-${serial}`;
      await child.request({
        op: 'loop-start',
        loop,
        address: o.address,
        port: o.port,
        timeoutMs: o.timeoutMs ?? 2000,
        intervalMs: o.intervalMs ?? 0,
        maxMs: o.maxMs ?? 120_000,
        maxAttempts: o.maxAttempts ?? 200_000,
      });
      return { name: loop, stop: () => child.request<LoopResult>({ op: 'loop-stop', loop }) };
    },
    async hold(o) {
      serial += 1;
      const hold = `hold-${serial}`;
      const opened = await child.request<HeldSocket['opened']>({
        op: 'hold',
        hold,
        address: o.address,
        port: o.port,
        protocol: o.protocol,
        pingMs: o.pingMs ?? (o.protocol === 'udp' ? 200 : 0),
        timeoutMs: o.timeoutMs ?? 2000,
        maxReconnects: o.maxReconnects ?? 20,
      });
      return {
        name: hold,
        opened,
        events: async () => (await child.request<{ events: HoldEvent[] }>({ op: 'hold-events', hold })).events,
        waitForEvents: (count, timeoutMs = 10_000) => child.request<{ events: HoldEvent[]; timedOut: boolean }>({ op: 'hold-wait', hold, count, timeoutMs }),
        stop: async () => (await child.request<{ events: HoldEvent[] }>({ op: 'hold-stop', hold })).events,
      };
    },
    refused: async (o) =>
      (
        await child.request<{ results: RefusedAttempt[] }>({
          op: 'refused',
          address: o.address,
          port: o.port,
          protocol: o.protocol ?? 'tcp',
          count: o.count ?? 1,
          timeoutMs: o.timeoutMs ?? 2000,
        })
      ).results,
    stop: () => child.stop(),
  };
}
