/**
 * A SYN probe lab for the kernel's mh scheduler, for kernel tests (inside the lab VM).
 *
 * Two test-created namespaces joined by a veth:
 *
 *   client K  ── veth ──  director D
 *   10.100.0.0/16 is local in K (AnyIP: `local` route on lo), so a socket may bind any
 *   address of it without 5,000+ `addr add`s; the VIPs are routed via D.
 *   D holds the VIPs on lo (IPVS services live there) and a dummy device that swallows
 *   the IPIP-tunnelled packets for the destinations (10.50.0.0/24, which need not exist).
 *
 * A node child in K (one process, fed jobs over stdin) opens TCP connections from chosen
 * client address:port pairs and aborts them after a moment; each SYN makes IPVS in D
 * schedule and create a connection entry. The test then reads D's /proc/net/ip_vs_conn
 * and maps client → destination. SYN_RECV entries expire after 60 s, so the caller probes
 * in chunks and reads the table after every chunk.
 *
 * Network rule: every packet stays inside K and D; nothing is sent from the VM's own
 * namespace (the child runs under `ip netns exec K`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, runChecked } from './exec.js';
import { createNetns, deleteNetns, execInNetns } from './netns.js';

export const CLIENT_NET = '10.100.0.0/16';
export const DEST_NET = '10.50.0.0/24';
const LINK_D = '10.199.0.1';
const LINK_K = '10.199.0.2';
const VIP_NET = '10.200.0.0/24';

export interface Client {
  readonly address: string;
  readonly port: number;
}

export const clientKey = (c: Client): string => `${c.address}:${c.port}`;

/** Clients the scheme has room for: 10.100.1.1 … 10.100.255.250. */
export const CLIENT_ADDRESSES = 255 * 250;

/** The i-th probe client address in 10.100.1.1 … (250 per /24: never .0 or .255). */
export function clientAddress(i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= CLIENT_ADDRESSES) throw new RangeError(`client index ${i} is outside 0..${CLIENT_ADDRESSES - 1}`);
  return `10.100.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

/** One row of /proc/net/ip_vs_conn (IPv4 only). */
export interface ConnEntry {
  readonly protocol: string;
  readonly client: string;
  readonly clientPort: number;
  readonly vip: string;
  readonly vipPort: number;
  readonly dest: string;
  readonly destPort: number;
  readonly state: string;
}

const hexIp = (h: string): string => {
  const v = Number.parseInt(h, 16);
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
};

/**
 * Parses /proc/net/ip_vs_conn: `Pro FromIP FPrt ToIP TPrt DestIP DPrt State Expires …`,
 * IPv4 addresses and ports in upper-case hex (host order of the network value).
 */
export function parseIpvsConn(text: string): ConnEntry[] {
  const out: ConnEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 9 || f[0] === 'Pro' || f[1]!.length !== 8) continue;
    out.push({
      protocol: f[0]!,
      client: hexIp(f[1]!),
      clientPort: Number.parseInt(f[2]!, 16),
      vip: hexIp(f[3]!),
      vipPort: Number.parseInt(f[4]!, 16),
      dest: hexIp(f[5]!),
      destPort: Number.parseInt(f[6]!, 16),
      state: f[7]!,
    });
  }
  return out;
}

// The child in K. Input: one JSON job per line; output: one JSON result per line.
const PROBE_CHILD = String.raw`
import net from 'node:net';
import { createInterface } from 'node:readline';
const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (line.trim() === '') continue;
  const job = JSON.parse(line);
  const started = Date.now();
  const errors = {};
  let next = 0, active = 0, closed = 0;
  await new Promise((resolve) => {
    if (job.clients.length === 0) return resolve();
    const launch = () => {
      while (active < job.concurrency && next < job.clients.length) {
        const [localAddress, localPort] = job.clients[next++];
        active++;
        const s = net.connect({ host: job.vip, port: job.vipPort, localAddress, localPort });
        s.on('error', (e) => { errors[e.code ?? e.message] = (errors[e.code ?? e.message] ?? 0) + 1; });
        const t = setTimeout(() => s.destroy(), job.holdMs);
        s.on('close', () => {
          clearTimeout(t);
          active--; closed++;
          if (closed === job.clients.length) resolve(); else launch();
        });
      }
    };
    launch();
  });
  process.stdout.write(JSON.stringify({ id: job.id, sent: job.clients.length, ms: Date.now() - started, errors }) + '\n');
}
`;

interface ProbeReply {
  readonly id: number;
  readonly sent: number;
  readonly ms: number;
  readonly errors: Record<string, number>;
}

export interface ProbeOptions {
  /** Connections in flight at once (default 100). */
  readonly concurrency?: number;
  /** How long each connection is kept before it is aborted (default 30 ms; the SYN left at connect). */
  readonly holdMs?: number;
  /** Clients per chunk; the conn table is read after each (default 1000). */
  readonly chunk?: number;
}

export interface ProbeResult {
  /** clientKey → destination address (only clients with an entry). */
  readonly dest: Map<string, string>;
  /** Clients that got no connection entry. */
  readonly missing: Client[];
  /** Socket errors in the child, by code. */
  readonly errors: Record<string, number>;
  readonly ms: number;
}

export interface MhLab {
  readonly director: string;
  readonly client: string;
  /** Adds a VIP (a /32 on D's lo). Services are then added by the caller's IpvsClient in D. */
  addVip(vip: string): Promise<void>;
  /** Sends one SYN per client to vip:port and returns who went where. */
  probe(vip: string, vipPort: number, clients: readonly Client[], options?: ProbeOptions): Promise<ProbeResult>;
  /** All IPVS connection entries in D. */
  connections(): Promise<ConnEntry[]>;
  dispose(): Promise<void>;
}

class ProbeChild {
  private readonly lines: Interface;
  private readonly waiting: ((reply: ProbeReply) => void)[] = [];
  private stderr = '';
  private exited: string | undefined;
  private nextId = 1;

  constructor(private readonly child: ChildProcess) {
    this.lines = createInterface({ input: child.stdout! });
    this.lines.on('line', (line) => this.waiting.shift()?.(JSON.parse(line) as ProbeReply));
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString('utf8');
    });
    child.on('exit', (code, signal) => {
      this.exited = `probe child exited (${code ?? signal}): ${this.stderr.trim()}`;
    });
  }

  run(job: { vip: string; vipPort: number; clients: [string, number][]; concurrency: number; holdMs: number }): Promise<ProbeReply> {
    if (this.exited !== undefined) return Promise.reject(new Error(this.exited));
    const id = this.nextId++;
    return new Promise<ProbeReply>((resolve, reject) => {
      const onExit = (): void => reject(new Error(this.exited ?? 'probe child exited'));
      this.child.once('exit', onExit);
      this.waiting.push((reply) => {
        this.child.off('exit', onExit);
        resolve(reply);
      });
      this.child.stdin!.write(`${JSON.stringify({ id, ...job })}\n`);
    });
  }

  async stop(): Promise<void> {
    if (this.exited !== undefined) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
    this.lines.close();
  }
}

const ipIn = (ns: string, ...args: string[]): Promise<string> => runChecked('ip', ['-n', ns, ...args]);

/** Creates D and K, wires them, starts the probe child in K. */
export async function createMhLab(): Promise<MhLab> {
  const director = await createNetns();
  let client: string | undefined;
  let child: ProbeChild | undefined;
  try {
    client = await createNetns();
    const vethD = `${director.slice(0, 11)}d`;
    const vethK = `${client.slice(0, 11)}k`;
    await runChecked('ip', ['link', 'add', vethD, 'netns', director, 'type', 'veth', 'peer', 'name', vethK, 'netns', client]);
    await ipIn(director, 'addr', 'add', `${LINK_D}/30`, 'dev', vethD);
    await ipIn(director, 'link', 'set', vethD, 'up');
    await ipIn(client, 'addr', 'add', `${LINK_K}/30`, 'dev', vethK);
    await ipIn(client, 'link', 'set', vethK, 'up');
    // K: the whole client range is local (AnyIP); VIPs via D.
    await ipIn(client, 'route', 'add', 'local', CLIENT_NET, 'dev', 'lo');
    await ipIn(client, 'route', 'add', VIP_NET, 'via', LINK_D);
    // D: replies to clients via K (keeps rp_filter happy); tunnelled packets into a dummy.
    await ipIn(director, 'route', 'add', CLIENT_NET, 'via', LINK_K);
    // (A kernel without the dummy driver, e.g. the host's: a blackhole route; IPVS still
    // creates the connection entry and then drops the packet for want of a route.)
    if ((await run('ip', ['-n', director, 'link', 'add', 'sink0', 'type', 'dummy'])).code === 0) {
      await ipIn(director, 'link', 'set', 'sink0', 'up');
      await ipIn(director, 'route', 'add', DEST_NET, 'dev', 'sink0');
    } else {
      await ipIn(director, 'route', 'add', 'blackhole', DEST_NET);
    }
    child = new ProbeChild(
      spawn('ip', ['netns', 'exec', client, process.execPath, '--input-type=module', '-e', PROBE_CHILD], { stdio: ['pipe', 'pipe', 'pipe'] }),
    );
  } catch (e) {
    if (client !== undefined) await deleteNetns(client).catch(() => undefined);
    await deleteNetns(director).catch(() => undefined);
    throw e;
  }
  const probeChild = child;
  const clientNs = client;

  async function connections(): Promise<ConnEntry[]> {
    const r = await execInNetns(director, 'cat', ['/proc/net/ip_vs_conn']);
    if (r.code !== 0) throw new Error(`reading ip_vs_conn in ${director}: ${r.stderr.trim()}`);
    return parseIpvsConn(r.stdout);
  }

  async function probe(vip: string, vipPort: number, clients: readonly Client[], options: ProbeOptions = {}): Promise<ProbeResult> {
    const chunk = options.chunk ?? 1000;
    const dest = new Map<string, string>();
    const missing: Client[] = [];
    const errors: Record<string, number> = {};
    const started = Date.now();
    for (let at = 0; at < clients.length; at += chunk) {
      const part = clients.slice(at, at + chunk);
      const reply = await probeChild.run({
        vip,
        vipPort,
        clients: part.map((c) => [c.address, c.port]),
        concurrency: options.concurrency ?? 100,
        holdMs: options.holdMs ?? 30,
      });
      for (const [k, v] of Object.entries(reply.errors)) errors[k] = (errors[k] ?? 0) + v;
      // Entries normally exist by the time connect() returned; allow a little softirq lag.
      let pending = part;
      for (let attempt = 0; attempt < 5 && pending.length > 0; attempt++) {
        if (attempt > 0) await sleep(500);
        const seen = new Map<string, string>();
        for (const e of await connections()) {
          if (e.protocol === 'TCP' && e.vip === vip && e.vipPort === vipPort) seen.set(`${e.client}:${e.clientPort}`, e.dest);
        }
        const still: Client[] = [];
        for (const c of pending) {
          const d = seen.get(clientKey(c));
          if (d === undefined) still.push(c);
          else dest.set(clientKey(c), d);
        }
        pending = still;
      }
      missing.push(...pending);
    }
    return { dest, missing, errors, ms: Date.now() - started };
  }

  return {
    director,
    client: clientNs,
    addVip: async (vip) => {
      await ipIn(director, 'addr', 'add', `${vip}/32`, 'dev', 'lo');
    },
    probe,
    connections,
    async dispose() {
      await probeChild.stop().catch(() => undefined);
      await deleteNetns(clientNs).catch(() => undefined);
      await deleteNetns(director).catch(() => undefined);
    },
  };
}
