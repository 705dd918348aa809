// The built `balanced` binary, spawned as a user runs it: help, exit codes (0 ok, 1 failure,
// 2 usage), and the --json shape of plan, explain and bird render from manifest files.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import { kernelMh } from '@balanced/maglev';
import { parseAnnouncerConfig, renderBirdConfig, type Announcement } from '@balanced/vip-announcer';
import { ANNOUNCER, CLUSTER, json, runBalanced } from './run-cli.js';

// Each spawn loads the whole CLI (client-node, commander, …): seconds on a busy 2-core machine,
// hence the generous per-test timeouts.

describe('help and usage', () => {
  it('prints help for the command and every subcommand, exit 0', async () => {
    const runs = await Promise.all(
      [[], ['plan'], ['explain'], ['status'], ['bird'], ['bird', 'render'], ['lab'], ['lab', 'up'], ['lab', 'down'], ['lab', 'demo']].map((a) => runBalanced([...a, '--help'])),
    );
    for (const r of runs) expect(r.code).toBe(0);
    expect(runs[0]?.stdout).toMatch(/Usage: balanced/);
    expect(runs[0]?.stdout).toMatch(/plan.*\n[\s\S]*explain[\s\S]*status[\s\S]*bird[\s\S]*lab/);
    expect(runs[1]?.stdout).toMatch(/Usage: balanced plan/);
    expect(runs[1]?.stdout).toMatch(/--json/);
    expect(runs[2]?.stdout).toMatch(/Usage: balanced explain \[options\] <target> \[client\]/);
    expect(runs[5]?.stdout).toMatch(/--config <file>/);
    expect(runs[9]?.stdout).toMatch(/Usage: balanced lab demo[\s\S]*--report <file>[\s\S]*Exit status: 0 every check held/);
    const viaHelp = await runBalanced(['help', 'explain']);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe(runs[2]?.stdout);
  }, 120_000);

  it('exits 2 on usage errors, with the reason on stderr', async () => {
    const cases: [string[], RegExp][] = [
      [[], /Usage: balanced/],
      [['bird'], /Usage: balanced bird/],
      [['plan', '--bogus'], /unknown option '--bogus'/],
      [['nonsense'], /unknown command 'nonsense'/],
      [['explain'], /missing required argument 'target'/],
      [['explain', '10.96.200.1', '1.2.3.4', '-f', CLUSTER], /give a port/],
      [['explain', '10.96.200.1:80', '-f', CLUSTER], /client is missing/],
      [['explain', 'not-an-ip:80', '1.2.3.4'], /not an IP address/],
      [['explain', '10.96.200.1:80', '1.2.3.4', '--protocol', 'sctp'], /Allowed choices are tcp, udp/],
      [['explain', '10.96.200.1:80', '1.2.3.4', '--empty'], /--empty needs the cluster state/],
      [['plan'], /plan needs the cluster state/],
      [['plan', '-f', CLUSTER, '--component', 'director,bogus'], /--component: unknown "bogus"/],
      [['plan', '-f', CLUSTER, '--kubeconfig', '/nonexistent'], /either --kubeconfig or -f/],
      [['plan', '-f', CLUSTER, '--vip-cidr', '10.0.0.0/99', '--empty'], /invalid CIDR "10\.0\.0\.0\/99": prefix length must be 0\.\.32/],
      [['bird', 'render'], /required option '--config <file>' not specified/],
      [['lab', 'up', '--timeout', 'soon'], /must be a positive number/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runBalanced(args)));
    runs.forEach((r, i) => {
      const [args, reason] = cases[i] as [string[], RegExp];
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect({ args, stderr: r.stderr }).toEqual({ args, stderr: expect.stringMatching(reason) });
      expect(r.stdout).toBe('');
    });
  }, 180_000);

  it('exits 1 when what it must read is not there', async () => {
    const runs = await Promise.all([
      runBalanced(['plan', '-f', '/nonexistent.yaml', '--empty']),
      runBalanced(['explain', '-f', CLUSTER, '--empty', '10.96.200.9:80', '198.51.100.7']),
      runBalanced(['bird', 'render', '--config', CLUSTER]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([1, 1, 1]);
    expect(runs[0]?.stderr).toMatch(/cannot read \/nonexistent\.yaml/);
    expect(runs[1]?.stderr).toMatch(/no virtual service tcp\/10\.96\.200\.9:80 in the planned table/);
    expect(runs[2]?.stderr).toMatch(/invalid vip-announcer config/);
  }, 120_000);
});

interface DirectorOpJson {
  op: string;
  text: string;
  service: unknown;
  destination?: { address: string; port: number; weight: number };
}

describe('plan -f --empty', () => {
  it('prints every component as JSON: the director ops in canonical order, the resolver ops in publish order, the allocator changes', async () => {
    const r = await runBalanced(['plan', '-f', CLUSTER, '--empty', '--node', 'node-a', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/skipped .*ConfigMap unrelated/);
    const out = json<{
      director: { kernel: string; owns: string; desiredServices: number; ops: DirectorOpJson[]; refusals: unknown[] };
      resolver: { maps: string; node: string; ops: { op: string }[]; serviceIds: Record<string, number> };
      allocator: { changes: { key: string; ips: string[]; assigned: { ip: string; pool: string } }[]; failures: unknown[]; usage: { pool: string; capacity: string }[] };
    }>(r);
    expect(out.director.kernel).toBe('empty');
    expect(out.director.owns).toBe('VipPools lab');
    expect(out.director.refusals).toEqual([]);
    expect(out.director.ops.map((o) => o.text)).toEqual([
      'add-service tcp/10.96.200.1:80',
      // New destinations go to the head of the kernel's list: inserted last-first. The
      // terminating pod is added with its table weight, then drained to 0.
      'add-destination tcp/10.96.200.1:80 -> 10.244.2.14:80 w=1',
      'update-destination tcp/10.96.200.1:80 -> 10.244.2.14:80 w=0',
      'add-destination tcp/10.96.200.1:80 -> 10.244.2.13:80 w=1',
      'add-destination tcp/10.96.200.1:80 -> 10.244.1.12:80 w=1',
      'add-destination tcp/10.96.200.1:80 -> 10.244.1.11:80 w=1',
    ]);
    expect(out.director.ops[0]?.service).toMatchObject({ scheduler: 'mh', key: { protocol: 'tcp', address: '10.96.200.1', port: 80 } });

    expect(out.resolver.maps).toBe('empty');
    expect(out.resolver.node).toBe('node-a');
    const kinds = out.resolver.ops.map((o) => o.op);
    expect(kinds).toEqual([...kinds].sort((a, b) => PUBLISH.indexOf(a) - PUBLISH.indexOf(b)));
    expect(kinds.filter((k) => k === 'backend-put')).toHaveLength(3); // the terminating endpoint is not resolved to
    expect(Object.keys(out.resolver.serviceIds).sort()).toEqual(['shop/fresh:http/TCP IPv4', 'shop/web:http/TCP IPv4']);

    expect(out.allocator.changes).toEqual([expect.objectContaining({ key: 'shop/fresh', assigned: { ip: expect.stringMatching(/^10\.96\.200\./), pool: 'lab' } })]);
    expect(out.allocator.changes[0]?.assigned.ip).not.toBe('10.96.200.1'); // held by shop/web
    expect(out.allocator.usage).toEqual([{ pool: 'lab', capacity: '16', allocated: 2 }]);
  }, 60_000);

  it('plans only the components asked for, and reports an owned-nothing director as no ops', async () => {
    const r = await runBalanced(['plan', '-f', CLUSTER, '--empty', '--component', 'director', '--vip-cidr', '10.1.0.0/24']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^director \(IPVS empty table; owns --vip-cidr 10\.1\.0\.0\/24\): 0 virtual services desired, 0 ops\n/);
    expect(r.stdout).not.toMatch(/resolver|allocator/);
  }, 60_000);
});

const PUBLISH = ['backend-put', 'service-put', 'frontend-put', 'frontend-delete', 'service-delete', 'backend-delete'];

interface ExplainJson {
  service: string;
  table: string;
  tableSize: number;
  flags: { mhPort: boolean; mhFallback: boolean };
  destinations: { destination: string; weight: number; lastWeight: number; slots: number }[];
  probes: { slot: number; destination: string | null; unavailable: string | null }[];
  chosen: { destination: string; slot: number; fallbackProbes: number } | null;
}

describe('explain (director) on the planned table', () => {
  it('names the slot, the drained destination it probed past, and the backend: the kernel mh model', async () => {
    // 198.51.100.8 hashes to a slot of the drained pod (found once with this fixture).
    const r = await runBalanced(['explain', '-f', CLUSTER, '--empty', '--tab-index', '12', '10.96.200.1:80', '198.51.100.8', '--json']);
    expect(r.code).toBe(0);
    const out = json<ExplainJson>(r);
    expect(out.table).toBe('planned');
    expect(out.tableSize).toBe(4093);
    expect(out.flags).toEqual({ mhPort: false, mhFallback: true });
    expect(out.destinations.map((d) => [d.destination, d.weight, d.lastWeight])).toEqual([
      ['10.244.1.11:80', 1, 1],
      ['10.244.1.12:80', 1, 1],
      ['10.244.2.13:80', 1, 1],
      ['10.244.2.14:80', 0, 1],
    ]);
    expect(out.destinations.reduce((n, d) => n + d.slots, 0)).toBe(4093);
    expect(out.probes[0]).toEqual({ slot: expect.any(Number), destination: '10.244.2.14:80', unavailable: 'weight 0 (drained)' });
    expect(out.chosen).not.toBeNull();
    expect(out.chosen?.destination).not.toBe('10.244.2.14:80');
    expect(out.probes).toHaveLength((out.chosen?.fallbackProbes ?? 0) + 1);
    expect(out.probes[out.probes.length - 1]?.slot).toBe(out.chosen?.slot);

    // The same answer straight from @balanced/maglev with the listed destinations.
    const model = kernelMh({
      af: 'inet',
      schedulerFlags: out.flags,
      destinations: out.destinations.map((d) => ({ address: d.destination.split(':')[0] as string, port: 80, weight: d.weight, lastWeight: d.lastWeight })),
    });
    const direct = model.explain('198.51.100.8');
    expect(`${direct?.destination.address}:80`).toBe(out.chosen?.destination);
    expect(direct?.slot).toBe(out.chosen?.slot);
  }, 60_000);

  it('prints the same as a table for people', async () => {
    const r = await runBalanced(['explain', '-f', CLUSTER, '--empty', '--tab-index', '12', '10.96.200.1:80', '198.51.100.8']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^tcp\/10\.96\.200\.1:80: planned table, scheduler mh \(flags mh-fallback\), M = 4093\n/);
    expect(r.stdout).toMatch(/slot \d+: 10\.244\.2\.14:80 — weight 0 \(drained\)/);
    expect(r.stdout).toMatch(/client 198\.51\.100\.8 -> 10\.244\.\d+\.\d+:80\n {2}the client hashes to slot \d+, whose destination is unavailable; mh-fallback probed \d+ more slot/);
  }, 60_000);
});

interface ResolverJson {
  maps: string;
  node: string | null;
  pod: string | null;
  result: string;
  reason: string;
  frontends: { kind: string; service: string | null; outcome: string; refuseWhenEmpty: boolean; backends: { backend: string; local: boolean; slots: number; share: number }[] }[];
}

describe('explain --resolver on the planned maps', () => {
  it("resolves a pod's connection to the ClusterIP to the Service's ready backends, local ones marked from the pod's node", async () => {
    const r = await runBalanced(['explain', '--resolver', '-f', CLUSTER, '--empty', '--pod', 'shop/client', '10.96.0.10:80', '--json']);
    expect(r.code).toBe(0);
    const out = json<ResolverJson>(r);
    expect(out).toMatchObject({ maps: 'planned', node: 'node-a', pod: 'shop/client', result: 'resolved' });
    expect(out.frontends).toHaveLength(1);
    expect(out.frontends[0]).toMatchObject({ kind: 'service', service: 'shop/web:http/TCP IPv4', outcome: 'resolves' });
    const backends = out.frontends[0]?.backends ?? [];
    expect(backends.map((b) => [b.backend, b.local]).sort()).toEqual([
      ['10.244.1.11:80', true],
      ['10.244.1.12:80', true],
      ['10.244.2.13:80', false],
    ]);
    expect(backends.reduce((n, b) => n + b.share, 0)).toBeCloseTo(1, 9);
    for (const b of backends) expect(b.share).toBeGreaterThan(0.3);
  }, 60_000);

  it('refuses for a Service with no endpoint, and leaves an unknown address alone', async () => {
    const [empty, unknown] = await Promise.all([
      runBalanced(['explain', '--resolver', '-f', CLUSTER, '--empty', '10.96.0.11:80', '--json']),
      runBalanced(['explain', '--resolver', '-f', CLUSTER, '--empty', '10.96.0.99:80', '--json']),
    ]);
    expect(empty.code).toBe(0);
    expect(json<ResolverJson>(empty)).toMatchObject({ node: null, result: 'refused', frontends: [{ service: 'shop/fresh:http/TCP IPv4', outcome: 'refuses', refuseWhenEmpty: true, backends: [] }] });
    expect(json<ResolverJson>(empty).reason).toMatch(/ECONNREFUSED/);
    expect(unknown.code).toBe(0);
    expect(json<ResolverJson>(unknown)).toMatchObject({ result: 'not intercepted', frontends: [] });
  }, 60_000);

  it('exits 1 for a pod that is not in the cluster state', async () => {
    const r = await runBalanced(['explain', '--resolver', '-f', CLUSTER, '--empty', '--pod', 'shop/ghost', '10.96.0.10:80']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pod shop\/ghost is not in the cluster state/);
  }, 60_000);
});

describe('bird render', () => {
  it("writes the announcer's own rendering of the VIPs with a ready endpoint", async () => {
    const [r, j, down] = await Promise.all([
      runBalanced(['bird', 'render', '--config', ANNOUNCER, '-f', CLUSTER]),
      runBalanced(['bird', 'render', '--config', ANNOUNCER, '-f', CLUSTER, '--json']),
      runBalanced(['bird', 'render', '--config', ANNOUNCER, '-f', CLUSTER, '--controller-unhealthy', '--json']),
    ]);
    expect([r.code, j.code, down.code]).toEqual([0, 0, 0]);
    const out = json<{ config: string; announced: Announcement[]; withheld: { vip: string; reason: string }[]; problems: string[] }>(j);
    expect(out.announced).toEqual([{ vip: '10.96.200.1', communities: [], services: ['shop/web'], pool: 'lab' }]);
    const config = parseAnnouncerConfig(await readFile(ANNOUNCER, 'utf8'));
    expect(out.config).toBe(renderBirdConfig(config, out.announced));
    expect(r.stdout).toBe(out.config.endsWith('\n') ? out.config : `${out.config}\n`);
    expect(r.stdout).toMatch(/route 10\.96\.200\.1\/32/);
    const withdrawn = json<{ config: string; announced: unknown[]; withheld: { vip: string; reason: string }[] }>(down);
    expect(withdrawn.announced).toEqual([]);
    expect(withdrawn.withheld).toEqual([{ vip: '10.96.200.1', reason: 'ControllerUnhealthy', services: ['shop/web'] }]);
    expect(withdrawn.config).not.toMatch(/10\.96\.200\.1\/32/);
  }, 60_000);

  it('takes the VIP ranges from the VipPools, as the announcer does, when the config lists no cidrs', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'balanced-bird-'));
    try {
      const file = join(dir, 'announcer.yaml');
      await writeFile(file, (await readFile(ANNOUNCER, 'utf8')).replace(/^cidrs:.*\n/m, ''));
      const r = await runBalanced(['bird', 'render', '--config', file, '-f', CLUSTER, '--json']);
      expect(r.code).toBe(0);
      const out = json<{ config: string; announced: Announcement[] }>(r);
      expect(out.announced.map((a) => a.vip)).toEqual(['10.96.200.1']);
      expect(out.config).toMatch(/route 10\.96\.200\.1\/32/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('status where nothing runs', () => {
  it('reports absent parts as unavailable (exit 0), and fails (exit 1) when the part was asked for', async () => {
    const absent = ['--netns', '/run/netns/balanced-cli-test-absent', '--pin-root', '/nonexistent/balanced', '--bird-socket', '/nonexistent/bird.ctl'];
    const [all, one] = await Promise.all([runBalanced(['status', ...absent, '--json']), runBalanced(['status', ...absent, '--component', 'resolver', '--json'])]);
    expect(all.code).toBe(0);
    const out = json<Record<string, { unavailable?: string }>>(all);
    expect(Object.keys(out)).toEqual(['ipvs', 'resolver', 'bird']);
    expect(out.resolver?.unavailable).toMatch(/\/nonexistent\/balanced does not exist/);
    expect(out.bird?.unavailable).toMatch(/BIRD at \/nonexistent\/bird\.ctl/);
    expect(out.ipvs?.unavailable).toMatch(/cannot open IPVS in \/run\/netns\/balanced-cli-test-absent/);
    expect(one.code).toBe(1);
    expect(Object.keys(json(one))).toEqual(['resolver']);
  }, 60_000);
});

describe('a reader that stops early', () => {
  it('`balanced plan | head`: no EPIPE crash, exit 0 (300 kB of output, the reader takes 10 bytes)', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('./run-cli.js');
    const dir = await mkdtemp(join(tmpdir(), 'balanced-epipe-'));
    try {
      const services = Array.from({ length: 1500 }, (_, i) => `apiVersion: v1\nkind: Service\nmetadata: { name: s${i}, namespace: default }\nspec: { type: ClusterIP, selector: { app: x }, clusterIP: 10.96.${Math.floor(i / 250)}.${(i % 250) + 1}, ports: [{ name: http, port: 80, protocol: TCP }] }`);
      await writeFile(join(dir, 'big.yaml'), services.join('\n---\n'));
      const child = spawn(process.execPath, [BIN, 'plan', '-f', join(dir, 'big.yaml'), '--empty', '--component', 'resolver'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.stdout.once('data', () => child.stdout.destroy());
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      expect({ code, stderr }).toEqual({ code: 0, stderr: expect.not.stringContaining('EPIPE') });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
