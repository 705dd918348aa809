import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logVerbosity, Server, ServerCredentials, setLogVerbosity, status, type ServiceDefinition, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { CRI_RUNTIME_SERVICE, CriError, CriResolver, loadCriPackage } from '../src/netns/cri.js';
import { sandboxNetns } from '../src/netns/cri-info.js';
import type { PodRef } from '../src/pod-view.js';

// A real gRPC server implementing runtime.v1.RuntimeService on a unix socket in a temp dir;
// the resolver talks to it exactly as it would to containerd or CRI-O.
setLogVerbosity(logVerbosity.NONE);

interface Sandbox {
  id: string;
  uid: string;
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
  createdAt: string;
  info?: Record<string, string>;
  statusError?: number;
}

const dir = mkdtempSync(join(tmpdir(), 'cri-'));
const socket = join(dir, 'runtime.sock');
const netnsDir = join(dir, 'netns');
const proc = join(dir, 'proc');
let server: Server;
let sandboxes: Sandbox[] = [];
const requests: { method: string; request: unknown }[] = [];

const containerdInfo = (path: string, pid = 4242, closed = false) =>
  JSON.stringify({ pid, processStatus: 'running', netNamespaceClosed: closed, runtimeSpec: { linux: { namespaces: [{ type: 'pid' }, { type: 'network', path }] } } });

beforeAll(async () => {
  mkdirSync(netnsDir);
  for (const n of ['cni-a', 'cni-b']) writeFileSync(join(netnsDir, n), '');
  mkdirSync(join(proc, '777', 'ns'), { recursive: true });
  writeFileSync(join(proc, '777', 'ns', 'net'), '');
  server = new Server();
  const service = loadCriPackage()[CRI_RUNTIME_SERVICE] as ServiceDefinition;
  server.addService(service, {
    ListPodSandbox: (call: ServerUnaryCall<{ filter?: { labelSelector?: Record<string, string>; state?: { state: string } } }, unknown>, callback: sendUnaryData<unknown>) => {
      requests.push({ method: 'ListPodSandbox', request: call.request });
      const f = call.request.filter;
      const uid = f?.labelSelector?.['io.kubernetes.pod.uid'];
      // Like a real runtime: honour the label selector; ignore the state filter (the client re-checks).
      const items = sandboxes
        .filter((s) => uid === undefined || s.uid === uid)
        .map((s) => ({ id: s.id, metadata: { name: 'p', uid: s.uid, namespace: 'shop' }, state: s.state, createdAt: s.createdAt, labels: { 'io.kubernetes.pod.uid': s.uid } }));
      callback(null, { items });
    },
    PodSandboxStatus: (call: ServerUnaryCall<{ podSandboxId: string; verbose: boolean }, unknown>, callback: sendUnaryData<unknown>) => {
      requests.push({ method: 'PodSandboxStatus', request: call.request });
      const s = sandboxes.find((x) => x.id === call.request.podSandboxId);
      if (s === undefined) return callback({ code: status.NOT_FOUND, details: 'no such sandbox' }, null);
      if (s.statusError !== undefined) return callback({ code: s.statusError, details: 'runtime trouble' }, null);
      callback(null, { status: { id: s.id, state: s.state }, info: call.request.verbose ? (s.info ?? {}) : {} });
    },
  });
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

const ref = (uid: string): PodRef => ({ namespace: 'shop', name: 'p', uid });

describe('CriResolver against a gRPC runtime on a unix socket', () => {
  test('asks for the ready sandboxes labelled with the pod UID, takes the newest, reads its verbose status', async () => {
    sandboxes = [
      { id: 'old', uid: 'u1', state: 'SANDBOX_READY', createdAt: '1700000000000000000', info: { info: containerdInfo(join(netnsDir, 'cni-a')) } },
      { id: 'new', uid: 'u1', state: 'SANDBOX_READY', createdAt: '1700000000000000001', info: { info: containerdInfo(join(netnsDir, 'cni-b')) } },
      { id: 'dead', uid: 'u1', state: 'SANDBOX_NOTREADY', createdAt: '1800000000000000000', info: { info: containerdInfo(join(netnsDir, 'cni-a')) } },
      { id: 'other', uid: 'u2', state: 'SANDBOX_READY', createdAt: '1900000000000000000' },
    ];
    requests.length = 0;
    const r = new CriResolver({ socket, procRoot: proc });
    try {
      expect(await r.resolve(ref('u1'))).toBe(join(netnsDir, 'cni-b'));
    } finally {
      r.close();
    }
    expect(requests).toEqual([
      { method: 'ListPodSandbox', request: expect.objectContaining({ filter: expect.objectContaining({ labelSelector: { 'io.kubernetes.pod.uid': 'u1' }, state: { state: 'SANDBOX_READY' } }) }) },
      { method: 'PodSandboxStatus', request: { podSandboxId: 'new', verbose: true } },
    ]);
  });

  test('falls back to the sandbox pid when the spec path does not exist here; null when nothing exists or no sandbox is ready', async () => {
    const r = new CriResolver({ socket, procRoot: proc });
    try {
      sandboxes = [{ id: 's', uid: 'u3', state: 'SANDBOX_READY', createdAt: '1', info: { info: containerdInfo('/nonexistent/netns/cni-x', 777) } }];
      expect(await r.resolve(ref('u3'))).toBe(join(proc, '777', 'ns', 'net'));
      sandboxes = [{ id: 's', uid: 'u3', state: 'SANDBOX_READY', createdAt: '1', info: { info: containerdInfo('/nonexistent/netns/cni-x', 778) } }];
      expect(await r.resolve(ref('u3'))).toBeNull();
      sandboxes = [{ id: 's', uid: 'u3', state: 'SANDBOX_NOTREADY', createdAt: '1', info: { info: containerdInfo(join(netnsDir, 'cni-a')) } }];
      expect(await r.resolve(ref('u3'))).toBeNull();
      expect(await r.resolve(ref('nobody'))).toBeNull();
      sandboxes = [{ id: 's', uid: 'u3', state: 'SANDBOX_READY', createdAt: '1', info: { info: containerdInfo(join(netnsDir, 'cni-a'), 777, true) } }];
      expect(await r.resolve(ref('u3'))).toBeNull();
    } finally {
      r.close();
    }
  });

  test('runtime errors and an unreachable socket are thrown as CriError with the gRPC code', async () => {
    const r = new CriResolver({ socket, procRoot: proc });
    try {
      sandboxes = [{ id: 's', uid: 'u4', state: 'SANDBOX_READY', createdAt: '1', statusError: status.INTERNAL }];
      await expect(r.resolve(ref('u4'))).rejects.toMatchObject({ name: 'CriError', code: status.INTERNAL, message: expect.stringContaining('PodSandboxStatus') });
      sandboxes = [{ id: 's', uid: 'u4', state: 'SANDBOX_READY', createdAt: '1', info: {} }];
      await expect(r.resolve(ref('u4'))).rejects.toThrow(/no "info" entry/);
    } finally {
      r.close();
    }
    const gone = new CriResolver({ socket: join(dir, 'missing.sock'), timeoutMs: 2000 });
    try {
      const e = await gone.resolve(ref('u1')).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(CriError);
      expect((e as CriError).code).toBe(status.UNAVAILABLE);
    } finally {
      gone.close();
    }
  });
});

describe('sandboxNetns (the verbose info documents of containerd and CRI-O)', () => {
  test('containerd: the spec network path first, then the pid', () => {
    expect(sandboxNetns({ info: containerdInfo('/var/run/netns/cni-1', 42) }, '/host/proc')).toEqual({
      kind: 'paths',
      paths: ['/var/run/netns/cni-1', '/run/netns/cni-1', '/host/proc/42/ns/net'],
    });
  });
  test('CRI-O without an infra process: runtimeSpec only', () => {
    const info = JSON.stringify({ runtimeSpec: { linux: { namespaces: [{ type: 'network', path: '/run/netns/5d3c' }] } } });
    expect(sandboxNetns({ info }, '/proc')).toEqual({ kind: 'paths', paths: ['/run/netns/5d3c', '/var/run/netns/5d3c'] });
  });
  test('host network (no network entry in the spec) and a closed namespace give none; garbage gives unknown', () => {
    const host = JSON.stringify({ pid: 9, runtimeSpec: { linux: { namespaces: [{ type: 'pid' }, { type: 'ipc' }] } } });
    expect(sandboxNetns({ info: host }, '/proc')).toMatchObject({ kind: 'none' });
    expect(sandboxNetns({ info: containerdInfo('/run/netns/x', 3, true) }, '/proc')).toMatchObject({ kind: 'none' });
    expect(sandboxNetns({ info: '{not json' }, '/proc')).toMatchObject({ kind: 'unknown' });
    expect(sandboxNetns({ info: '{}' }, '/proc')).toMatchObject({ kind: 'unknown' });
    expect(sandboxNetns({ info: JSON.stringify({ pid: 31 }) }, '/proc')).toEqual({ kind: 'paths', paths: ['/proc/31/ns/net'] });
  });
});
