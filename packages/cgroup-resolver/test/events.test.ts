import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import {
  CgroupIndex,
  cgroupOwner,
  clientOf,
  containerIdOf,
  enrich,
  EventsPipeline,
  indexPods,
  LogLimiter,
  recordFields,
  recordLog,
  ServiceDirectory,
  serviceOwner,
  type EventsMetricsPort,
} from '../src/events/index.js';
import { batchLines } from '../src/events/log-batch.js';
import { RESOLUTION_EVENT, type ResolutionEvent } from '../src/maps/layout.js';
import { policyServiceKey } from '../src/desired/policy-candidates.js';

const UID = '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';
const CID = 'a'.repeat(64);

describe('cgroupOwner: kubelet cgroup paths', () => {
  it.each([
    ['cgroupfs, besteffort', `/kubepods/besteffort/pod${UID}/${CID}`, { kind: 'pod', podUid: UID, containerId: CID }],
    ['cgroupfs, guaranteed', `/kubepods/pod${UID}/${CID}`, { kind: 'pod', podUid: UID, containerId: CID }],
    ['systemd, containerd', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replaceAll('-', '_')}.slice/cri-containerd-${CID}.scope`, { kind: 'pod', podUid: UID, containerId: CID }],
    ['systemd, CRI-O', `/kubepods.slice/kubepods-pod${UID.replaceAll('-', '_')}.slice/crio-${CID}.scope`, { kind: 'pod', podUid: UID, containerId: CID }],
    ['systemd, docker', `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID.replaceAll('-', '_')}.slice/docker-${CID}.scope`, { kind: 'pod', podUid: UID, containerId: CID }],
    ['the pod cgroup itself (pause, sandbox)', `/kubepods/burstable/pod${UID}`, { kind: 'pod', podUid: UID }],
    ['CRI-O conmon is not the container', `/kubepods.slice/kubepods-pod${UID.replaceAll('-', '_')}.slice/crio-conmon-${CID}.scope`, { kind: 'pod', podUid: UID }],
    ['below a test root', `/balanced-test-1/kubepods/besteffort/pod${UID}/${CID}`, { kind: 'pod', podUid: UID, containerId: CID }],
    ['a system service', '/system.slice/sshd.service', { kind: 'host' }],
    ['the root', '', { kind: 'host' }],
    ['not a UID', '/kubepods/podnotauid/abc', { kind: 'host' }],
  ])('%s', (_name, path, owner) => {
    expect(cgroupOwner(path)).toEqual(owner);
  });

  it('containerIdOf strips the runtime scheme', () => {
    expect(containerIdOf(`containerd://${CID}`)).toBe(CID);
    expect(containerIdOf(`cri-o://${CID}`)).toBe(CID);
    expect(containerIdOf(CID)).toBe(CID);
  });
});

const pod = (name: string, uid: string, containers: Record<string, string>, init: Record<string, string> = {}): V1Pod => ({
  metadata: { name, namespace: 'shop', uid },
  status: {
    containerStatuses: Object.entries(containers).map(([n, id]) => ({ name: n, containerID: `containerd://${id}`, image: '', imageID: '', ready: true, restartCount: 0 })),
    initContainerStatuses: Object.entries(init).map(([n, id]) => ({ name: n, containerID: `containerd://${id}`, image: '', imageID: '', ready: false, restartCount: 0 })),
  },
});

describe('client of a cgroup owner', () => {
  const pods = indexPods([pod('web-1', UID, { app: CID, sidecar: 'b'.repeat(64) }, { setup: 'c'.repeat(64) }), { metadata: { name: 'no-uid' } }]);
  const lookup = (uid: string) => pods.get(uid);

  it('names pod, namespace and container (init containers too)', () => {
    expect(clientOf({ kind: 'pod', podUid: UID, containerId: CID }, lookup)).toEqual({ kind: 'pod', namespace: 'shop', pod: 'web-1', container: 'app', podUid: UID });
    expect(clientOf({ kind: 'pod', podUid: UID, containerId: 'c'.repeat(64) }, lookup)).toMatchObject({ container: 'setup' });
  });
  it('a pod cgroup without a known container names the pod only', () => {
    expect(clientOf({ kind: 'pod', podUid: UID }, lookup)).toEqual({ kind: 'pod', namespace: 'shop', pod: 'web-1', podUid: UID });
    expect(clientOf({ kind: 'pod', podUid: UID, containerId: 'd'.repeat(64) }, lookup)).toEqual({ kind: 'pod', namespace: 'shop', pod: 'web-1', podUid: UID });
  });
  it('a pod the cache does not hold is an unknown pod; no pod is host', () => {
    expect(clientOf({ kind: 'pod', podUid: 'ffffffff-0000-0000-0000-000000000000' }, lookup)).toEqual({ kind: 'unknown-pod', podUid: 'ffffffff-0000-0000-0000-000000000000' });
    expect(clientOf({ kind: 'host' }, lookup)).toEqual({ kind: 'host' });
  });
});

describe('ServiceDirectory: service ids from the agent plans', () => {
  it('learns keys, forgets deleted ids, follows an id to a new key', () => {
    const d = new ServiceDirectory();
    d.learn({ serviceIds: new Map([['shop/web:http/TCP IPv4', 3], ['shop/db:5432/TCP IPv4', 4]]), ops: [] });
    expect(d.get(3)).toEqual({ key: 'shop/web:http/TCP IPv4', object: 'shop/web', port: 'http' });
    d.learn({ serviceIds: new Map(), ops: [{ op: 'service-delete', id: 4 }] });
    expect(d.get(4)).toBeUndefined();
    expect(d.get(3)?.key).toBe('shop/web:http/TCP IPv4');
    d.learn({ serviceIds: new Map([['shop/other:dns/UDP IPv4', 4]]), ops: [{ op: 'service-delete', id: 4 }] });
    expect(d.get(4)?.object).toBe('shop/other');
  });
  it('a policy frontend names the policy (kind/name) and its frontend port, from the key the resolver makes', () => {
    const lrpKey = policyServiceKey('LocalRedirectPolicy', 'node-local-dns', 53, 'UDP', 'IPv4');
    const bpKey = policyServiceKey('BalancingPolicy', 'legacy-db.v2', 5432, 'TCP', 'IPv6');
    expect(serviceOwner(lrpKey)).toEqual({ key: lrpKey, object: 'LocalRedirectPolicy/node-local-dns', port: '53' });
    expect(serviceOwner(bpKey)).toEqual({ key: bpKey, object: 'BalancingPolicy/legacy-db.v2', port: '5432' });
  });
  it('a key that names no object is kept as is', () => {
    expect(serviceOwner('policy:node-local-dns')).toEqual({ key: 'policy:node-local-dns' });
    expect(serviceOwner('policy NotAKind/x:53/UDP IPv4')).toEqual({ key: 'policy NotAKind/x:53/UDP IPv4' });
  });
});

const event = (over: Partial<ResolutionEvent> = {}): ResolutionEvent => ({
  timestampNs: 1n,
  cgroupId: 77n,
  netnsCookie: 5n,
  socketCookie: 6n,
  frontend: { address: '10.96.0.10', port: 80 },
  backend: { address: '10.244.1.1', port: 8080 },
  serviceId: 3,
  backendId: 9,
  protocol: 'TCP',
  hook: 'connect4',
  outcome: 'resolved',
  kind: 'service',
  comm: 'curl',
  ...over,
});

describe('enrich and stream fields', () => {
  const services = new ServiceDirectory();
  services.learn({ serviceIds: new Map([['shop/web:http/TCP IPv4', 3]]), ops: [] });
  const pods = indexPods([pod('web-1', UID, { app: CID })]);
  const lookups = { service: (id: number) => services.get(id), pod: (uid: string) => pods.get(uid) };

  it('a resolved connect from a pod', () => {
    const r = enrich(event(), { kind: 'pod', podUid: UID, containerId: CID }, lookups, Date.UTC(2026, 0, 1));
    expect(recordFields(r)).toEqual([
      'time', '2026-01-01T00:00:00.000Z', 'result', 'resolved', 'hook', 'connect4', 'protocol', 'TCP',
      'frontend', '10.96.0.10:80', 'backend', '10.244.1.1:8080', 'kind', 'service',
      'service', 'shop/web:http/TCP IPv4', 'object', 'shop/web',
      'client', 'pod', 'namespace', 'shop', 'pod', 'web-1', 'container', 'app', 'pod_uid', UID,
      'comm', 'curl', 'cgroup_id', '77', 'netns_cookie', '5',
    ]);
  });
  it('a refused sendmsg6 from the host: no backend, IPv6 in brackets, unknown service id shown', () => {
    const r = enrich(
      event({ outcome: 'refused', hook: 'sendmsg6', protocol: 'UDP', serviceId: 99, frontend: { address: 'fd00::10', port: 53 } }),
      { kind: 'host' },
      lookups,
      0,
    );
    expect(r).toMatchObject({ result: 'refused', backend: '', frontend: '[fd00::10]:53', service: 'id:99', client: { kind: 'host' }, comm: 'curl' });
    expect(r.object).toBeUndefined();
  });
  it('a resolution through a LocalRedirectPolicy frontend names the policy in the record, the stream entry and the log line', () => {
    const key = policyServiceKey('LocalRedirectPolicy', 'node-local-dns', 53, 'UDP', 'IPv4');
    const dir = new ServiceDirectory();
    dir.learn({ serviceIds: new Map([[key, 7]]), ops: [] });
    const r = enrich(
      event({ serviceId: 7, kind: 'redirect', hook: 'sendmsg4', protocol: 'UDP', frontend: { address: '10.96.0.10', port: 53 }, backend: { address: '10.244.1.31', port: 53 } }),
      { kind: 'pod', podUid: UID, containerId: CID },
      { ...lookups, service: (id) => dir.get(id) },
      0,
    );
    expect(r).toMatchObject({ kind: 'redirect', service: key, object: 'LocalRedirectPolicy/node-local-dns', backend: '10.244.1.31:53' });
    const fields = recordFields(r);
    expect(fields.slice(fields.indexOf('kind'), fields.indexOf('client'))).toEqual(['kind', 'redirect', 'service', key, 'object', 'LocalRedirectPolicy/node-local-dns']);
    expect(recordLog(r)).toMatchObject({ kind: 'redirect', service: key, object: 'LocalRedirectPolicy/node-local-dns' });
  });
});

describe('LogLimiter', () => {
  it('admits a burst, then the rate', () => {
    let t = 0;
    const l = new LogLimiter({ sample: 1, perSecond: 10, burst: 5, now: () => t });
    expect(Array.from({ length: 8 }, () => l.admit()).filter(Boolean)).toHaveLength(5);
    t = 1000;
    expect(Array.from({ length: 20 }, () => l.admit()).filter(Boolean)).toHaveLength(5);
    t = 1300;
    expect(Array.from({ length: 20 }, () => l.admit()).filter(Boolean)).toHaveLength(3);
  });
  it('rate 0 admits nothing; sample 0 admits nothing; a clock going back grants nothing', () => {
    expect(new LogLimiter({ sample: 1, perSecond: 0 }).admit()).toBe(false);
    expect(new LogLimiter({ sample: 0, perSecond: 100 }).admit()).toBe(false);
    let t = 10_000;
    const l = new LogLimiter({ sample: 1, perSecond: 1, now: () => t });
    expect(l.admit()).toBe(true);
    t = 0;
    expect(l.admit()).toBe(false);
  });
  it('rejects bad settings', () => {
    expect(() => new LogLimiter({ sample: 1.5, perSecond: 1 })).toThrow(RangeError);
    expect(() => new LogLimiter({ sample: 1, perSecond: -1 })).toThrow(RangeError);
  });
  it('never admits more than burst + rate × elapsed (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (rate, burst, gaps, sample) => {
          let t = 0;
          let r = 0;
          const l = new LogLimiter({ sample, perSecond: rate, burst, now: () => t, random: () => (r = (r + 0.37) % 1) });
          let admitted = 0;
          for (const gap of gaps) {
            t += gap;
            if (l.admit()) admitted += 1;
          }
          return admitted <= burst + (rate * t) / 1000 + 1e-9;
        },
      ),
    );
  });
});

describe('CgroupIndex: cgroup id = inode of the cgroup directory', () => {
  it('finds a container started after the first walk, at most one walk per interval', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bdr-cg-'));
    try {
      let t = 0;
      const index = new CgroupIndex({ root, minRescanMs: 1000, now: () => t });
      const host = join(root, 'system.slice');
      mkdirSync(host);
      expect(await index.resolve(statSync(host).ino ? BigInt(statSync(host).ino) : 0n)).toEqual({ kind: 'host' });
      expect(index.walks).toBe(1);
      const container = join(root, 'kubepods', 'besteffort', `pod${UID}`, CID);
      mkdirSync(container, { recursive: true });
      const id = BigInt(statSync(container).ino);
      // Too soon for another walk: unknown, counted as host.
      expect(await index.resolve(id)).toEqual({ kind: 'host' });
      expect(index.walks).toBe(1);
      t = 1000;
      expect(await index.resolve(id)).toEqual({ kind: 'pod', podUid: UID, containerId: CID });
      expect(index.walks).toBe(2);
      // Known ids never walk again.
      t = 5000;
      await index.resolve(id);
      expect(index.walks).toBe(2);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('EventsPipeline', () => {
  const counts = () => {
    const c = { resolutions: [] as string[], lost: 0, suppressed: 0 };
    const metrics: EventsMetricsPort = {
      resolution: (service, _kind, result) => c.resolutions.push(`${service} ${result}`),
      eventsLost: (n) => (c.lost += n),
      logSuppressed: (n) => (c.suppressed += n),
      redisWritten: () => undefined,
      redisDropped: () => undefined,
    };
    return { c, metrics };
  };
  const raw = (cgroupId: bigint): Uint8Array => {
    const b = new Uint8Array(RESOLUTION_EVENT.size);
    const v = new DataView(b.buffer);
    v.setBigUint64(8, cgroupId, true);
    b.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 96, 0, 10], 32);
    b.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 244, 1, 1], 48);
    v.setUint16(64, 80);
    v.setUint16(66, 8080);
    v.setUint32(68, 3, true);
    b[76] = 6;
    b[79] = 2;
    return b;
  };

  it('handles records in order, walks once for unknown cgroups, counts what is malformed or beyond the backlog, rate-limits the log', async () => {
    const { c, metrics } = counts();
    let walks = 0;
    const known = new Map<bigint, { kind: 'host' } | { kind: 'pod'; podUid: string; containerId: string }>();
    const logged: Record<string, unknown>[] = [];
    const redis: string[][] = [];
    const flushedAt: number[] = [];
    const p = new EventsPipeline({
      owners: {
        get: (id) => known.get(id),
        wantsWalk: (ids) => [...ids].some((id) => !known.has(id)),
        refresh: async () => {
          walks += 1;
          known.set(1n, { kind: 'pod', podUid: UID, containerId: CID });
        },
      },
      lookups: { service: () => ({ key: 'shop/web:http/TCP IPv4', object: 'shop/web' }), pod: (uid) => indexPods([pod('web-1', UID, { app: CID })]).get(uid) },
      sinks: { log: { admit: ((n) => () => n-- > 0)(2), write: (f) => logged.push(f), flush: () => void flushedAt.push(logged.length) }, redis: { push: (f) => redis.push(f) } },
      metrics,
      maxBacklog: 3,
    });
    p.record(raw(1n));
    p.record(raw(2n));
    p.record(new Uint8Array(10)); // malformed
    p.record(raw(1n));
    p.record(raw(1n)); // beyond the backlog of 3
    p.batch();
    await p.idle();
    expect(walks).toBe(1);
    expect(c.lost).toBe(2);
    expect(c.resolutions).toEqual(['shop/web:http/TCP IPv4 resolved', 'shop/web:http/TCP IPv4 resolved', 'shop/web:http/TCP IPv4 resolved']);
    const field = (f: string[], name: string) => f[f.findIndex((x, i) => i % 2 === 0 && x === name) + 1];
    expect(redis.map((f) => field(f, 'pod'))).toEqual(['web-1', '', 'web-1']);
    expect(redis.map((f) => field(f, 'client'))).toEqual(['pod', 'host', 'pod']);
    expect(logged).toHaveLength(2);
    expect(flushedAt).toEqual([2]); // once, after the batch's lines
    expect(c.suppressed).toBe(1);
    expect(p.handled).toBe(3);
  });
});

describe('batchLines: event log lines written once per batch', () => {
  const logger = (out: string[]) => pino({ base: { component: 'test' }, timestamp: () => ',"time":1' }, { write: (s: string) => out.push(s) });

  it('holds the lines until flush, then writes them in one piece, byte for byte as pino formats them', () => {
    const direct: string[] = [];
    const plain = logger(direct).child({ events: 'resolution' });
    const out: string[] = [];
    const batched = logger(out).child({ events: 'resolution' });
    const lines = batchLines(batched);
    expect(lines).toBeDefined();
    for (const l of [plain, batched]) {
      l.info({ result: 'resolved', comm: 'a"b' }, 'resolution');
      l.info({ result: 'refused' }, 'resolution');
    }
    expect(out).toEqual([]);
    lines!.flush();
    lines!.flush();
    expect(out).toEqual([direct.join('')]);
    expect(direct).toHaveLength(2);
  });
  it('leaves a logger whose destination needs per-line metadata (multistream) as it is', () => {
    const out: string[] = [];
    const l = pino({}, pino.multistream([{ stream: { write: (s: string) => void out.push(s) } }])).child({ events: 'resolution' });
    expect(batchLines(l)).toBeUndefined();
    l.info('resolution');
    expect(out).toHaveLength(1);
  });
});
