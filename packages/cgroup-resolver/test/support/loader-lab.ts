// Helpers of the loader integration test: fixture objects compiled at setup, bpftool
// views of a cgroup, a listener process inside a test netns, raw map IO on bd_config.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChecked } from '@balanced/testkit';
import { MapHandle } from '../../src/libbpf/maps.js';

const here = resolve(fileURLToPath(import.meta.url), '..');
/** packages/cgroup-resolver */
export const PACKAGE_DIR = resolve(here, '..', '..');
export const BPF_DIR = join(PACKAGE_DIR, 'bpf');
export const DIST_BPF_DIR = join(PACKAGE_DIR, 'dist', 'bpf');

/** Build the real objects (dist/bpf/*.o, vmlinux.h) with the package's build.sh. */
export async function buildObjects(): Promise<void> {
  await runChecked('bash', [join(BPF_DIR, 'build.sh')]);
}

/** Compile test/fixtures/<name>.bpf.c into `outDir`; returns the object's path. */
export async function compileFixture(name: string, outDir: string): Promise<string> {
  const out = join(outDir, `${name}.bpf.o`);
  await runChecked('clang', [
    '-target', 'bpf', '-O2', '-g', '-Wall',
    '-I/usr/include/x86_64-linux-gnu', `-I${BPF_DIR}`, `-I${DIST_BPF_DIR}`,
    '-c', join(PACKAGE_DIR, 'test', 'fixtures', `${name}.bpf.c`), '-o', out,
  ]);
  return out;
}

export interface CgroupProgram {
  readonly id: number;
  readonly attachType: string;
  readonly name: string;
}

/** `bpftool cgroup show <path>`: the programs attached to the cgroup itself. */
export async function cgroupPrograms(path: string): Promise<CgroupProgram[]> {
  const text = await runChecked('bpftool', ['-j', 'cgroup', 'show', path]);
  if (text.trim() === '') return [];
  const rows = JSON.parse(text) as { id: number; attach_type: string; name: string }[];
  return rows.map((r) => ({ id: r.id, attachType: r.attach_type, name: r.name }));
}

/** struct resolver_config: host_netns_cookie u64, flags u32, pad u32. */
export function writeConfig(fd: number, cookie: bigint, flags: number): void {
  const value = Buffer.alloc(16);
  value.writeBigUInt64LE(cookie, 0);
  value.writeUInt32LE(flags, 8);
  MapHandle.borrow(fd, 'bd_config').update(Buffer.alloc(4), value);
}

export function readConfig(fd: number): { cookie: bigint; flags: number } {
  const value = MapHandle.borrow(fd, 'bd_config').lookup(Buffer.alloc(4));
  if (value === undefined) throw new Error('bd_config has no entry 0');
  const view = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return { cookie: view.readBigUInt64LE(0), flags: view.readUInt32LE(8) };
}

/** Whether `key` is in the hash map `fd`. */
export function mapHas(fd: number, key: Uint8Array): boolean {
  return MapHandle.borrow(fd, 'map').lookup(key) !== undefined;
}

const LISTENER = `
const net = require('node:net');
const dgram = require('node:dgram');
const port = Number(process.argv[1]);
const server = net.createServer().listen(port, '127.0.0.1', () => {
  const udp = dgram.createSocket('udp4');
  udp.bind(port, '127.0.0.1', () => process.stdout.write('ready\\n'));
});
setInterval(() => {}, 1 << 30);
`;

/** A TCP and a UDP socket bound to 127.0.0.1:`port` inside netns `name` (nsenter, no /sys remount). */
export async function startListener(netns: string, port: number): Promise<ChildProcess> {
  const child = spawn('nsenter', [`--net=/run/netns/${netns}`, process.execPath, '-e', LISTENER, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolveReady, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`listener in ${netns} not ready: ${err}`)), 10_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolveReady();
      }
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`listener in ${netns} exited ${code}: ${err}`));
    });
  });
  return child;
}

/** Kill a child and wait for it to be gone. */
export async function stop(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  await gone;
}

const PAIR = `
const net = require('node:net');
const port = Number(process.argv[1]);
const clients = [];
net.createServer((s) => s.on('error', () => {})).listen(port, '127.0.0.1', () => {
  let ready = 0;
  for (let i = 0; i < 2; i++) {
    const c = net.connect(port, '127.0.0.1', () => {
      clients[i] = c.localPort;
      if (++ready === 2) process.stdout.write('ready ' + clients.join(' ') + '\\n');
    });
    c.on('error', (e) => process.stdout.write('error ' + i + ' ' + e.code + '\\n'));
  }
});
setInterval(() => {}, 1 << 30);
`;

export interface ConnectedPair {
  readonly child: ChildProcess;
  /** Local ports of the two client sockets, both connected to 127.0.0.1:`port`. */
  readonly clientPorts: readonly [number, number];
  /** What the child printed since (e.g. `error 0 ECONNABORTED`). */
  output(): string;
}

/** A server on 127.0.0.1:`port` and two connected clients, all inside netns `name`. */
export async function startConnectedPair(netns: string, port: number): Promise<ConnectedPair> {
  const child = spawn('nsenter', [`--net=/run/netns/${netns}`, process.execPath, '-e', PAIR, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!/ready \d+ \d+\n/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`pair in ${netns} not ready: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const m = /ready (\d+) (\d+)\n/.exec(out);
  return { child, clientPorts: [Number(m?.[1]), Number(m?.[2])], output: () => out };
}

/** The socket cookie (`ss -e` prints it as sk:<hex>) of the TCP socket 127.0.0.1:localPort → 127.0.0.1:peerPort in netns. */
export async function socketCookie(netns: string, localPort: number, peerPort: number): Promise<bigint> {
  const text = await runChecked('nsenter', [`--net=/run/netns/${netns}`, 'ss', '-tnHe', 'state', 'established']);
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // Recv-Q Send-Q Local Peer ... (no State column with a state filter)
    if (f[2] === `127.0.0.1:${localPort}` && f[3] === `127.0.0.1:${peerPort}`) {
      const sk = /\bsk:([0-9a-f]+)\b/.exec(line);
      if (sk?.[1] !== undefined) return BigInt(`0x${sk[1]}`);
    }
  }
  throw new Error(`no socket 127.0.0.1:${localPort} -> 127.0.0.1:${peerPort} in ${netns}:\n${text}`);
}
