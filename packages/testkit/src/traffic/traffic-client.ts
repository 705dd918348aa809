import { CLIENT_AGENT_SCRIPT } from './client-agent-script.js';
import { NodeChild } from './node-child.js';
import type { Endpoint, TcpExchange, UdpExchange } from './types.js';

export interface TcpBurstOptions {
  readonly target: Endpoint;
  /** One connection per source endpoint (bound to it). */
  readonly clients: readonly Endpoint[];
  /** Connections in flight at once; default 50. */
  readonly concurrency?: number;
  /** Per connect and per reply; default 15 s. */
  readonly timeoutMs?: number;
}

export interface UdpOptions {
  readonly target: Endpoint;
  readonly clients: readonly Endpoint[];
  /** Default 50. */
  readonly concurrency?: number;
  /** Per attempt; default 3 s. */
  readonly timeoutMs?: number;
  /** Requests per client before giving up; default 3. */
  readonly attempts?: number;
}

export interface PingOptions {
  /** Per connection; default 15 s. */
  readonly timeoutMs?: number;
}

/** Long-lived connections held by the client program, pinged on demand. */
export interface LongLivedConnections {
  readonly set: string;
  /** The first request/response on each connection, in client order. */
  readonly opened: readonly TcpExchange[];
  /** One request/response on every connection that was opened; which still answer, and who. */
  ping(options?: PingOptions): Promise<TcpExchange[]>;
  close(): Promise<void>;
}

export interface TimedExchanges<T> {
  readonly exchanges: T[];
  readonly ms: number;
}

/** The client side of the lab's traffic: one node process in the client's namespace. */
export interface TrafficClient {
  readonly netns: string;
  readonly pid: number;
  /** Short connections: connect, one request/response, close. */
  tcpBurst(options: TcpBurstOptions): Promise<TimedExchanges<TcpExchange>>;
  /** Opens connections and keeps them (first request/response included). */
  openTcp(options: TcpBurstOptions): Promise<LongLivedConnections>;
  /** One datagram request/response per client endpoint. */
  udp(options: UdpOptions): Promise<TimedExchanges<UdpExchange>>;
  /** Stops the process (closing every connection) by its pid. Idempotent. */
  stop(): Promise<void>;
}

let sets = 0;

/** Starts the client program in `netns`; resolves once it reads requests. */
export async function startTrafficClient(netns: string, options: { readyTimeoutMs?: number } = {}): Promise<TrafficClient> {
  const child = NodeChild.start(netns, 'traffic client', CLIENT_AGENT_SCRIPT, {}, { stdin: true });
  try {
    await child.nextUnsolicited(options.readyTimeoutMs ?? 60_000);
  } catch (e) {
    await child.stop();
    throw e;
  }
  const timed = async <T>(request: Record<string, unknown>): Promise<TimedExchanges<T>> => {
    const started = Date.now();
    const exchanges = await child.request<T[]>(request);
    return { exchanges, ms: Date.now() - started };
  };
  const tcpJob = (o: TcpBurstOptions): Record<string, unknown> => ({
    target: o.target,
    clients: o.clients,
    concurrency: o.concurrency ?? 50,
    timeoutMs: o.timeoutMs ?? 15_000,
  });
  return {
    netns,
    pid: child.pid,
    tcpBurst: (o) => timed<TcpExchange>({ op: 'tcp-burst', ...tcpJob(o) }),
    async openTcp(o) {
      sets += 1;
      const set = `set-${sets}`;
      const opened = await child.request<TcpExchange[]>({ op: 'tcp-open', set, ...tcpJob(o) });
      return {
        set,
        opened,
        ping: (p = {}) => child.request<TcpExchange[]>({ op: 'tcp-ping', set, timeoutMs: p.timeoutMs ?? 15_000 }),
        close: async () => void (await child.request<number>({ op: 'tcp-close', set })),
      };
    },
    udp: (o) =>
      timed<UdpExchange>({
        op: 'udp',
        target: o.target,
        clients: o.clients,
        concurrency: o.concurrency ?? 50,
        timeoutMs: o.timeoutMs ?? 3000,
        attempts: o.attempts ?? 3,
      }),
    stop: () => child.stop(),
  };
}
