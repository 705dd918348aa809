// The program loader on the real kernel (root): attach to a test-made cgroup with a
// test-made pin root, adopt on restart, typed errors, detach, socket iterators.
// Nothing is attached anywhere but the cgroups this test creates.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createNetns, createTestCgroup, createTestPinRoot, deleteNetns, removeTestCgroup, removeTestPinRoot } from '@balanced/testkit';
import { BpfError } from '../src/libbpf/errors.js';
import { encodeDoomedKey, encodeRevnatKey, encodeRevnatValue } from '../src/maps/layout.js';
import { MapHandle } from '../src/libbpf/maps.js';
import { listOtherNetworkNamespaces } from '../src/loader/pod-namespaces.js';
import { cgroupId, hostNetnsCookie, linkPinPath, PINNED_MAPS, RESOLVER_PROGRAMS, ResolverPrograms } from '../src/loader/resolver-programs.js';
import { SocketTerminator } from '../src/loader/socket-terminator.js';
import { buildObjects, cgroupPrograms, compileFixture, mapHas, readConfig, socketCookie, startConnectedPair, startListener, stop, writeConfig, type ConnectedPair } from './support/loader-lab.js';

const ATTACH_TYPES = [
  'cgroup_inet4_connect',
  'cgroup_inet6_connect',
  'cgroup_udp4_sendmsg',
  'cgroup_udp6_sendmsg',
  'cgroup_udp4_recvmsg',
  'cgroup_udp6_recvmsg',
  'cgroup_inet4_getpeername',
  'cgroup_inet6_getpeername',
];

let fixtures: string;
let cgroup: string;
let otherCgroup: string;
let pinRoot: string;
const extraPinRoots: string[] = [];
let netns: string;
let listener: ChildProcess | undefined;

function expectBpfError(fn: () => unknown, code: BpfError['code']): BpfError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BpfError);
    expect((e as BpfError).code).toBe(code);
    return e as BpfError;
  }
  throw new Error(`expected BpfError ${code}, nothing was thrown`);
}

async function freshPinRoot(): Promise<string> {
  const root = await createTestPinRoot('bdt');
  extraPinRoots.push(root);
  return root;
}

beforeAll(async () => {
  await buildObjects();
  fixtures = mkdtempSync(join(tmpdir(), 'bdt-fixtures-'));
  await Promise.all(['loader-broken', 'loader-reuse', 'loader-iter'].map((n) => compileFixture(n, fixtures)));
  cgroup = await createTestCgroup('bdt');
  otherCgroup = await createTestCgroup('bdt');
  pinRoot = await createTestPinRoot('bdt');
  netns = await createNetns();
});

afterAll(async () => {
  await stop(listener);
  for (const root of [pinRoot, ...extraPinRoots]) {
    if (root === undefined) continue;
    ResolverPrograms.detach(root);
    await removeTestPinRoot(root);
  }
  if (cgroup !== undefined) await removeTestCgroup(cgroup);
  if (otherCgroup !== undefined) await removeTestCgroup(otherCgroup);
  if (netns !== undefined) await deleteNetns(netns);
  if (fixtures !== undefined) rmSync(fixtures, { recursive: true, force: true });
});

describe('ResolverPrograms', () => {
  let firstLinks: Map<string, number>;

  it('attaches the 8 programs to the test cgroup through pinned links', async () => {
    const programs = ResolverPrograms.attach({ pinRoot, cgroupPath: cgroup });
    try {
      expect(programs.adopted).toBe(false);
      expect([...programs.programs.keys()]).toEqual([...RESOLVER_PROGRAMS]);
      for (const p of programs.programs.values()) {
        expect(p.adopted).toBe(false);
        expect(p.programId).toBeGreaterThan(0);
        expect(p.linkId).toBeGreaterThan(0);
        expect(p.tag).toMatch(/^[0-9a-f]{16}$/);
      }
      firstLinks = new Map([...programs.programs].map(([name, p]) => [name, p.linkId]));
      for (const name of RESOLVER_PROGRAMS) expect(existsSync(linkPinPath(pinRoot, name))).toBe(true);
      for (const name of PINNED_MAPS) expect(existsSync(join(pinRoot, name))).toBe(true);

      const attached = await cgroupPrograms(cgroup);
      expect(attached.map((a) => a.attachType).sort()).toEqual([...ATTACH_TYPES].sort());
      expect(new Set(attached.map((a) => a.id))).toEqual(new Set([...programs.programs.values()].map((p) => p.programId)));
      // The other test cgroup got nothing.
      expect(await cgroupPrograms(otherCgroup)).toEqual([]);

      writeConfig(programs.mapFd('bd_config'), 0x1234_5678_9abc_def0n, 3);
    } finally {
      programs.close();
    }
    // Closing our fds leaves the pinned links attached.
    expect((await cgroupPrograms(cgroup)).length).toBe(8);
  });

  it('adopts the pinned links on the next attach: same links, programs replaced, maps reused', async () => {
    const programs = ResolverPrograms.attach({ pinRoot, cgroupPath: cgroup });
    try {
      expect(programs.adopted).toBe(true);
      expect(new Map([...programs.programs].map(([name, p]) => [name, p.linkId]))).toEqual(firstLinks);
      expect(readConfig(programs.mapFd('bd_config'))).toEqual({ cookie: 0x1234_5678_9abc_def0n, flags: 3 });
      const attached = await cgroupPrograms(cgroup);
      expect(attached.length).toBe(8);
      // The links now run the programs of this load.
      expect(new Set(attached.map((a) => a.id))).toEqual(new Set([...programs.programs.values()].map((p) => p.programId)));
    } finally {
      programs.close();
    }
  });

  it('refuses a pin root whose links sit on another cgroup', () => {
    const e = expectBpfError(() => ResolverPrograms.attach({ pinRoot, cgroupPath: otherCgroup }), 'BPF_CGROUP_OPEN');
    expect(e.message).toContain(`cgroup id ${cgroupId(cgroup)}`);
  });

  it('reports a map whose layout changed as BPF_MAP_REUSE, naming it', () => {
    const e = expectBpfError(() => ResolverPrograms.attach({ pinRoot, cgroupPath: cgroup, objectPath: join(fixtures, 'loader-reuse.bpf.o') }), 'BPF_MAP_REUSE');
    expect(e.map).toBe('bd_config');
    expect(e.message).toContain('--detach');
  });

  it('fails a program the verifier refuses with BPF_OBJECT_LOAD and its verifier log', async () => {
    const root = await freshPinRoot();
    const e = expectBpfError(() => ResolverPrograms.attach({ pinRoot: root, cgroupPath: otherCgroup, objectPath: join(fixtures, 'loader-broken.bpf.o') }), 'BPF_OBJECT_LOAD');
    expect(e.verifierLog).toMatch(/invalid mem access 'map_value_or_null'/);
    expect(e.errno).toBe(13); // EACCES
    expect(e.message).toContain("verifier: R0 invalid mem access 'map_value_or_null'");
    expect(e.libbpfLog.join('\n')).toContain("prog 'balanced_connect4': BPF program load failed");
    expect(await cgroupPrograms(otherCgroup)).toEqual([]);
  });

  it('refuses a pin root that is not on bpffs', () => {
    const notBpf = mkdtempSync(join(tmpdir(), 'bdt-notbpf-'));
    try {
      expectBpfError(() => ResolverPrograms.attach({ pinRoot: join(notBpf, 'balanced'), cgroupPath: otherCgroup }), 'BPF_PIN_ROOT');
      expectBpfError(() => ResolverPrograms.detach(notBpf), 'BPF_PIN_ROOT');
    } finally {
      rmSync(notBpf, { recursive: true, force: true });
    }
  });

  it('reports a missing object file as BPF_OBJECT_OPEN', async () => {
    const root = await freshPinRoot();
    expectBpfError(() => ResolverPrograms.attach({ pinRoot: root, cgroupPath: otherCgroup, objectPath: join(fixtures, 'nothing.bpf.o') }), 'BPF_OBJECT_OPEN');
  });

  it('gives the cgroup id (inode) and this namespace cookie', () => {
    expect(cgroupId(cgroup)).toBe(statSync(cgroup, { bigint: true }).ino);
    const cookie = hostNetnsCookie();
    expect(cookie).toBeGreaterThan(0n);
    expect(hostNetnsCookie()).toBe(cookie);
  });
});

describe('SocketTerminator', () => {
  it('loads on this kernel, sharing the pinned maps, and walks our namespace and a test netns', async () => {
    const t = SocketTerminator.load({ pinRoot });
    try {
      const empty = t.terminate([], [`/run/netns/${netns}`]);
      expect(empty).toEqual({ destroyed: 0, namespaces: 2, errors: [] });

      // A removed backend is written to bd_doomed for the walk, then deleted.
      const removed = { serviceId: 7, address: '10.244.1.5', port: 8080 };
      const r = t.terminate([removed], [`/run/netns/${netns}`, '/run/netns/bdt-does-not-exist']);
      expect(r.destroyed).toBe(0);
      expect(r.namespaces).toBe(2);
      expect(r.errors.map((f) => [f.netns, f.error.code, f.error.errno])).toEqual([['/run/netns/bdt-does-not-exist', 'BPF_ITER', 2]]);
      const programs = ResolverPrograms.attach({ pinRoot, cgroupPath: cgroup });
      try {
        expect(mapHas(programs.mapFd('bd_doomed'), encodeDoomedKey(7, '10.244.1.5', 8080))).toBe(false);
      } finally {
        programs.close();
      }
    } finally {
      t.close();
    }
  });

  it('turns a load failure into BPF_NOT_SUPPORTED with the reason', async () => {
    const root = await freshPinRoot();
    const e = expectBpfError(() => SocketTerminator.load({ pinRoot: root, objectPath: join(fixtures, 'loader-broken.bpf.o') }), 'BPF_NOT_SUPPORTED');
    expect(e.message).toContain('bpf_sock_destroy');
    expect(e.verifierLog).toMatch(/map_value_or_null/);
  });

  it('walks the sockets of the namespace current when the iterator is created', async () => {
    const root = await freshPinRoot();
    const port = 20000 + (process.pid % 20000);
    listener = await startListener(netns, port);
    const ours: Server = createServer();
    await new Promise<void>((r) => ours.listen(0, '127.0.0.1', () => r()));
    const ourPort = (ours.address() as { port: number }).port;
    const t = SocketTerminator.load({ pinRoot: root, objectPath: join(fixtures, 'loader-iter.bpf.o') });
    try {
      const [tcpThere, udpThere] = t.iterate(`/run/netns/${netns}`);
      expect(tcpThere).toBe(`tcp 2 10 ${port}\n`); // AF_INET, TCP_LISTEN
      expect(udpThere).toBe(`udp 2 7 ${port}\n`); // TCP_CLOSE: bound, not connected
      const [tcpHere] = t.iterate();
      expect(tcpHere).toContain(`tcp 2 10 ${ourPort}\n`);
      expect(tcpHere).not.toContain(` ${port}\n`);
      // The namespace listing finds the listener's namespace, and never ours; so does the
      // terminator's, which without a task iterator in its object is that /proc scan.
      const theirs = statSync(`/run/netns/${netns}`, { bigint: true }).ino;
      const own = statSync('/proc/self/ns/net', { bigint: true }).ino;
      for (const listed of [listOtherNetworkNamespaces(), t.otherNamespaces()]) {
        expect(listed.some((p) => statSync(p, { bigint: true }).ino === theirs)).toBe(true);
        expect(listed.every((p) => statSync(p, { bigint: true }).ino !== own)).toBe(true);
      }
    } finally {
      t.close();
      await new Promise<void>((r) => ours.close(() => r()));
      await stop(listener);
      listener = undefined;
    }
  });
});

describe('SocketTerminator namespaces', () => {
  it('lists the other network namespaces with one task-iterator read: those a /proc scan finds, the test netns among them, ours never, each once', async () => {
    const port = 20000 + ((process.pid + 1) % 20000);
    listener = await startListener(netns, port);
    const t = SocketTerminator.load({ pinRoot });
    const inodes = (paths: readonly string[]): bigint[] =>
      paths.flatMap((p) => {
        try {
          return [statSync(p, { bigint: true }).ino];
        } catch {
          return []; // the process exited since
        }
      });
    try {
      const theirs = statSync(`/run/netns/${netns}`, { bigint: true }).ino;
      const own = statSync('/proc/self/ns/net', { bigint: true }).ino;
      const listed = t.otherNamespaces();
      const ids = inodes(listed);
      expect(ids).toContain(theirs);
      expect(ids).not.toContain(own);
      expect(new Set(ids).size).toBe(ids.length);
      expect(listed.every((p) => /^\/proc\/[1-9][0-9]*\/ns\/net$/.test(p))).toBe(true);
      // The same namespaces as the /proc scan (processes come and go meanwhile: a few tries).
      let same = false;
      for (let attempt = 0; attempt < 5 && !same; attempt++) {
        const a = new Set(inodes(t.otherNamespaces()));
        const b = new Set(inodes(listOtherNetworkNamespaces()));
        same = a.size === b.size && [...a].every((x) => b.has(x));
      }
      expect(same).toBe(true);
    } finally {
      t.close();
      await stop(listener);
      listener = undefined;
    }
  });
});

describe('SocketTerminator end to end (own map writes)', () => {
  it('closes the connected socket whose backend is doomed in its service, and only that one', async () => {
    const port = 20000 + ((process.pid + 1) % 20000);
    let pair: ConnectedPair | undefined;
    const programs = ResolverPrograms.attach({ pinRoot, cgroupPath: cgroup });
    const t = SocketTerminator.load({ pinRoot });
    try {
      pair = await startConnectedPair(netns, port);
      // What connect4 would have written for both clients: (cookie, backend) -> frontend.
      const revnat = programs.mapFd('bd_revnat');
      for (const [i, serviceId] of [[0, 7], [1, 8]] as const) {
        const cookie = await socketCookie(netns, pair.clientPorts[i], port);
        const key = encodeRevnatKey({ cookie, address: '127.0.0.1', port });
        const value = encodeRevnatValue({ address: '10.96.0.10', port: 80, protocol: 'TCP', kind: 'service', serviceId });
        MapHandle.borrow(revnat, 'bd_revnat').update(key, value);
      }
      const r = t.terminate([{ serviceId: 7, address: '127.0.0.1', port }], [`/run/netns/${netns}`]);
      expect(r).toEqual({ destroyed: 1, namespaces: 2, errors: [] });
      const deadline = Date.now() + 5_000;
      while (!pair.output().includes('error 0') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      expect(pair.output()).toContain('error 0 ECONNABORTED');
      expect(pair.output()).not.toContain('error 1');
      // Nothing doomed is left behind: a second pass closes nothing.
      expect(t.terminate([], [`/run/netns/${netns}`]).destroyed).toBe(0);
    } finally {
      t.close();
      programs.close();
      await stop(pair?.child);
    }
  });
});

describe('detach', () => {
  it('unpins links and maps, removes the pin root, and the cgroup has no programs left', async () => {
    expect((await cgroupPrograms(cgroup)).length).toBe(8);
    const removed = ResolverPrograms.detach(pinRoot);
    expect(removed).toContain(linkPinPath(pinRoot, 'balanced_connect4'));
    expect(removed).toContain(pinRoot);
    expect(existsSync(pinRoot)).toBe(false);
    expect(await cgroupPrograms(cgroup)).toEqual([]);
    expect(ResolverPrograms.detach(pinRoot)).toEqual([]);
  });
});
