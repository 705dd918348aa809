import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { release } from 'node:os';
import {
  addLocalAddresses,
  createNetns,
  createTestCgroup,
  createTestPinRoot,
  deleteNetns,
  ensureBpffs,
  removeTestCgroup,
  removeTestPinRoot,
  runChecked,
  startIdentityServers,
  startResolverClient,
  type IdentityServers,
} from '@balanced/testkit';
import { defaultCgroupRoot } from '../src/cgroup-root.js';
import { BpfError } from '../src/libbpf/errors.js';
import { hostNetnsCookie, ResolverPrograms } from '../src/loader/resolver-programs.js';
import { SocketTerminator } from '../src/loader/socket-terminator.js';
import { ResolverMaps } from '../src/maps/resolver-maps.js';
import { planMaps } from '../src/plan/index.js';

// Inside the lab VM: Debian 12's own kernel (6.1), older than bpf_sock_destroy (6.5). The
// resolver must work there, and say plainly that connected sockets to a removed backend
// cannot be closed (the agent then goes on without it).
let cgroupRoot: string;
let netns: string;
let cgroup: string;
let pinRoot: string;
let servers: IdentityServers | undefined;

beforeAll(async () => {
  await ensureBpffs();
  // The lab VM mounts no cgroup v2 of its own: mount it where the kernel provides a place.
  if (defaultCgroupRoot() === undefined) await runChecked('mount', ['-t', 'cgroup2', 'none', '/sys/fs/cgroup']);
  cgroupRoot = defaultCgroupRoot() ?? '/sys/fs/cgroup';
  netns = await createNetns();
  cgroup = await createTestCgroup('bdo', cgroupRoot);
  pinRoot = await createTestPinRoot('bdo');
});

afterAll(async () => {
  await servers?.stop();
  if (pinRoot) await removeTestPinRoot(pinRoot);
  if (cgroup) await removeTestCgroup(cgroup, cgroupRoot);
  if (netns) await deleteNetns(netns);
});

describe(`cgroup-resolver on Linux ${release()} (before 6.5)`, () => {
  test('the programs load and resolve; socket termination reports BPF_NOT_SUPPORTED with the reason', async () => {
    expect(Number(release().split('.')[0]) * 100 + Number(release().split('.')[1])).toBeLessThan(605);
    let error: unknown;
    try {
      SocketTerminator.load({ pinRoot }).close();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BpfError);
    expect((error as BpfError).code).toBe('BPF_NOT_SUPPORTED');
    expect((error as BpfError).message).toMatch(/6\.5/);

    ResolverPrograms.attach({ pinRoot, cgroupPath: cgroup }).close();
    const maps = ResolverMaps.open(pinRoot);
    try {
      maps.writeConfig({ hostNetnsCookie: hostNetnsCookie(), hostNetnsOnly: false, events: false });
      const desired = {
        services: new Map([['t/web:http/TCP IPv4', { key: 't/web:http/TCP IPv4', backends: [{ address: '10.244.9.1', port: 8080, weight: 1, local: false }], options: { refuseWhenEmpty: true, localOnly: false } }]]),
        frontends: [{ address: '10.96.9.1', port: 80, protocol: 'TCP' as const, kind: 'service' as const, service: 't/web:http/TCP IPv4' }],
        refusals: [],
      };
      maps.apply(planMaps(desired, maps.dump()));
    } finally {
      maps.close();
    }
    await addLocalAddresses(netns, ['10.244.9.1']);
    servers = await startIdentityServers({ netns, listeners: [{ name: 'b1', address: '10.244.9.1', port: 8080, protocol: 'tcp' }] });
    const client = await startResolverClient({ netns, cgroup });
    try {
      const r = await client.tcp({ address: '10.96.9.1', port: 80, count: 20 });
      expect(r.failures).toEqual({});
      expect(r.counts).toEqual({ b1: 20 });
      expect(r.peers).toEqual({ '10.96.9.1:80': 20 });
    } finally {
      await client.stop();
    }
  });
});
