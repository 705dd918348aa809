// docs/user-guide.md's examples, checked as a user would meet them: every ```yaml block (it
// must carry title=FILE) goes through the parser of the component that reads it and through
// the schemas in deploy/; every shell block must be marked `<!-- tested -->` or
// `<!-- not tested: reason -->`, and the tested ones are run by the built `balanced` binary
// (packages/cli/dist/main.js; build first) in a folder holding the YAML blocks as files, each
// command exiting 0. Tables that restate the schema (annotation keys, VipPool fields) are
// checked against the code and the CRD so the guide cannot drift from them.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { Annotations, BalanceDAnnotations, DEFAULT_SERVICE_CONFIG, FORWARDINGS, LEGACY_TUNNEL_IGNORE, SCHEDULERS, SCHEDULER_FLAGS, isOurs, parsePodConfig, parseServiceConfig } from '@balanced/k8s';
import { buildResolverState } from '@balanced/cgroup-resolver';
import { REASONS, parsePolicy, type ConditionType } from '@balanced/policies';
import { deployCrdSchemas, findRepoRoot, isManifestRecord, manifestSchemaErrors, readYamlDocuments, type ManifestDoc } from '@balanced/testkit';
import { parseVipPool } from '@balanced/vip-allocator';
import { parseAnnouncerConfig } from '@balanced/vip-announcer';

import { commandLines, fencedBlocks, type FencedBlock } from './markdown-blocks.js';
import { BIN, type CliRun } from './run-cli.js';

const GUIDE = join(findRepoRoot(), 'docs', 'user-guide.md');
const guide = readFileSync(GUIDE, 'utf8');
const blocks = fencedBlocks(guide);
const yamlBlocks = blocks.filter((b) => b.lang === 'yaml');
const shellBlocks = blocks.filter((b) => b.lang === 'sh' || b.lang === 'bash' || b.lang === 'shell');
const tested = shellBlocks.filter((b) => b.marker === 'tested');
const crds = deployCrdSchemas();

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const where = (b: FencedBlock): string => `docs/user-guide.md:${b.line}${b.title === undefined ? '' : ` (${b.title})`}`;

/** The component parser's objection to one example object, or undefined when it reads it cleanly. */
function parserProblem(doc: ManifestDoc): string | undefined {
  switch (doc['kind']) {
    case 'Service': {
      const service = doc as V1Service;
      // Any other Service (kube-dns, say) is the cgroup-resolver's only: its builder must take it as written.
      if (service.spec?.type !== 'LoadBalancer') return resolverProblem(service);
      if (!isOurs(service, { defaultClass: false })) return 'not a balanced LoadBalancer Service (type/loadBalancerClass)';
      const parsed = parseServiceConfig(service);
      if (!parsed.ok) return parsed.errors.map((e) => e.message).join('; ');
      return parsed.warnings.length > 0 ? `warnings: ${parsed.warnings.join('; ')}` : undefined;
    }
    case 'Pod': {
      const parsed = parsePodConfig(doc as V1Pod);
      if (!parsed.ok) return parsed.errors.map((e) => e.message).join('; ');
      return parsed.warnings.length > 0 ? `warnings: ${parsed.warnings.join('; ')}` : undefined;
    }
    case 'VipPool': {
      const parsed = parseVipPool(doc);
      return parsed.ok ? undefined : parsed.problems.map((p) => `${p.field} ${p.message}`).join('; ');
    }
    case 'LocalRedirectPolicy':
    case 'BalancingPolicy': {
      const parsed = parsePolicy(doc);
      return parsed.ok ? undefined : parsed.refusal.message;
    }
    default:
      return undefined;
  }
}

/** The cgroup-resolver builder's refusals of a Service (alone, without endpoints), or undefined. */
function resolverProblem(service: V1Service): string | undefined {
  const refusals = buildResolverState({ services: [service], endpointSlices: [], nodes: [] }).refusals;
  return refusals.length > 0 ? `resolver: ${refusals.map((r) => `${r.reason}: ${r.message}`).join('; ')}` : undefined;
}

/** Every condition type a policy status holds (a Record, so a new type fails to compile here until listed). */
const POLICY_CONDITIONS: Record<ConditionType, true> = { Accepted: true, Programmed: true, Conflicted: true };

async function problemsOf(block: FencedBlock): Promise<string[]> {
  const docs = readYamlDocuments(block.body, where(block));
  if (docs.length === 0) return [`${where(block)}: no document`];
  if (docs.every((d) => d['apiVersion'] === undefined)) {
    try {
      parseAnnouncerConfig(block.body, {});
      return [];
    } catch (err) {
      return [`${where(block)}: vip-announcer config: ${err instanceof Error ? err.message : String(err)}`];
    }
  }
  const out: string[] = [];
  for (const doc of docs) {
    const name = `${str(doc['kind'])}/${str(isManifestRecord(doc['metadata']) ? doc['metadata']['name'] : '')}`;
    const schema = await manifestSchemaErrors(doc, crds);
    if (schema !== undefined) out.push(`${where(block)} ${name}: schema: ${schema}`);
    const parser = parserProblem(doc);
    if (parser !== undefined) out.push(`${where(block)} ${name}: parser: ${parser}`);
  }
  return out;
}

function runIn(cwd: string, args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { cwd, timeout: 90_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') reject(new Error(`balanced ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
    });
  });
}

/** The table row of the guide that starts with this cell. */
function row(firstCell: string): string {
  const line = guide.split('\n').find((l) => l.startsWith(`| ${firstCell} |`));
  if (line === undefined) throw new Error(`docs/user-guide.md has no table row for ${firstCell}`);
  return line;
}

describe('docs/user-guide.md: structure', () => {
  it('has YAML examples and tested commands', () => {
    expect(yamlBlocks.length).toBeGreaterThanOrEqual(5);
    expect(tested.length).toBeGreaterThanOrEqual(4);
  });

  it('every YAML block has a distinct title= (the file name the commands use)', () => {
    expect(yamlBlocks.filter((b) => b.title === undefined).map(where)).toEqual([]);
    const titles = yamlBlocks.map((b) => b.title);
    expect(new Set(titles).size).toBe(titles.length);
  });

  it('every shell block is marked tested, or not tested with a reason', () => {
    const unmarked = shellBlocks.filter((b) => b.marker !== 'tested' && !/^not tested: \S/.test(b.marker ?? ''));
    expect(unmarked.map(where)).toEqual([]);
    for (const b of tested) for (const l of commandLines(b.body)) expect([where(b), l.split(' ')[0]]).toEqual([where(b), 'balanced']);
  });

  it('the annotation tables name every key, value and default the parser knows', () => {
    for (const key of Object.values(Annotations)) expect(guide).toContain(`\`${key}\``);
    for (const key of [...Object.values(BalanceDAnnotations), LEGACY_TUNNEL_IGNORE]) expect(guide).toContain(`\`${key}\``);
    const scheduler = row(`\`${Annotations.scheduler}\``);
    for (const s of SCHEDULERS) expect(scheduler).toContain(`\`${s}\``);
    expect(scheduler.split('|')[3]).toContain(`\`${DEFAULT_SERVICE_CONFIG.scheduler}\``);
    const flags = row(`\`${Annotations.schedulerFlags}\``);
    for (const f of SCHEDULER_FLAGS) expect(flags).toContain(`\`${f}\``);
    const forwarding = row(`\`${Annotations.forwarding}\``);
    for (const f of FORWARDINGS) expect(forwarding).toContain(`\`${f}\``);
    expect(forwarding.split('|')[3]).toContain(`\`${DEFAULT_SERVICE_CONFIG.forwarding}\``);
    expect(row(`\`${Annotations.drainSeconds}\``).split('|')[3]).toContain(`(${DEFAULT_SERVICE_CONFIG.drainSeconds})`);
  });

  it('the policy status table lists every field of the CRD status, every condition and the Accepted reasons', () => {
    for (const kind of ['LocalRedirectPolicy', 'BalancingPolicy']) {
      const schema = crds.get(`balanced.dev/v1alpha1 ${kind}`);
      const status = isManifestRecord(schema?.['properties']) ? schema['properties']['status'] : undefined;
      const fields = Object.keys(isManifestRecord(status) && isManifestRecord(status['properties']) ? status['properties'] : {});
      expect(fields).toEqual(expect.arrayContaining(['observedGeneration', 'conditions', 'nodes']));
      for (const f of fields.filter((x) => x !== 'conditions')) expect(guide).toMatch(new RegExp(`^\\| \`${f}(\\[\\])?\` \\|`, 'm'));
    }
    for (const type of Object.keys(POLICY_CONDITIONS)) expect(guide).toMatch(new RegExp(`^\\| condition \`${type}\` \\|`, 'm'));
    for (const reason of [REASONS.invalid, REASONS.frontendClaimed]) expect(row('condition `Accepted`')).toContain(`\`${reason}\``);
  });

  it('the VipPool table lists every field of the CRD spec', () => {
    const schema = crds.get('balanced.dev/v1alpha1 VipPool');
    const spec = isManifestRecord(schema?.['properties']) ? schema['properties']['spec'] : undefined;
    const fields = Object.keys(isManifestRecord(spec) && isManifestRecord(spec['properties']) ? spec['properties'] : {});
    expect(fields.length).toBeGreaterThan(3);
    for (const f of fields) expect(guide).toMatch(new RegExp(`^\\| \`${f}(\\[\\])?\` \\|`, 'm'));
  });
});

describe('docs/user-guide.md: YAML examples', () => {
  it('every object passes its deploy/ schema and the component parser that reads it', async () => {
    const problems = (await Promise.all(yamlBlocks.map(problemsOf))).flat();
    expect(problems).toEqual([]);
  });

  it('the checks catch a broken example (bad annotation, bad pool, bad policy, bad schema)', async () => {
    const shop = yamlBlocks.find((b) => b.title === 'shop.yaml');
    expect(shop).toBeDefined();
    const broken = (from: string, to: string): FencedBlock => ({ ...shop!, body: shop!.body.replace(from, to) });
    expect(await problemsOf(broken('balanced.dev/scheduler: mh', 'balanced.dev/scheduler: fastest'))).toEqual([expect.stringMatching(/parser: .*unknown scheduler "fastest"/)]);
    expect(await problemsOf(broken('balanced.dev/drain-seconds', 'balanced.dev/drain-second'))).toEqual([expect.stringMatching(/warnings: .*not a balanced annotation/)]);
    expect(await problemsOf(broken('addressType: IPv4', 'addressType: 4'))).toEqual([expect.stringMatching(/EndpointSlice\/web-x7k2p: schema/)]);
    const pools = yamlBlocks.find((b) => b.title === 'vippools.yaml')!;
    expect(await problemsOf({ ...pools, body: pools.body.replace('10.96.100.128/26', '10.96.100.129/26') })).toEqual([expect.stringMatching(/VipPool\/edge: parser: spec\.cidrs\[0\]/)]);
    const policies = yamlBlocks.find((b) => b.title === 'policies.yaml')!;
    expect(await problemsOf({ ...policies, body: policies.body.replace('ip: 10.96.50.5', 'ip: 10.96.50.500') })).toEqual([expect.stringMatching(/BalancingPolicy\/legacy-db: parser: /)]);
    const dns = yamlBlocks.find((b) => b.title === 'dns.yaml')!;
    expect(await problemsOf({ ...dns, body: dns.body.replaceAll('10.96.0.10', '10.96.0.300') })).toEqual([expect.stringMatching(/Service\/kube-dns: parser: resolver: /)]);
  });
});

describe('docs/user-guide.md: tested commands', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'balanced-guide-'));
    for (const b of yamlBlocks) writeFileSync(join(dir, b.title ?? 'untitled.yaml'), b.body);
  });
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('every command of a tested block exits 0 (and --json prints JSON)', async () => {
    const commands = tested.flatMap((b) => commandLines(b.body).map((line) => ({ block: b, line })));
    expect(commands.length).toBeGreaterThanOrEqual(10);
    const failed: string[] = [];
    // Two at a time: each spawn loads the whole CLI, on a shared 2-core machine.
    for (let i = 0; i < commands.length; i += 2) {
      const batch = commands.slice(i, i + 2);
      const runs = await Promise.all(batch.map((c) => runIn(dir, c.line.split(/\s+/).slice(1))));
      runs.forEach((r, k) => {
        const c = batch[k]!;
        if (r.code !== 0) failed.push(`${where(c.block)}: ${c.line}: exit ${r.code}\n${r.stderr}`);
        else if (c.line.includes('--json')) {
          try {
            JSON.parse(r.stdout);
          } catch {
            failed.push(`${where(c.block)}: ${c.line}: stdout is not JSON`);
          }
        }
      });
    }
    expect(failed).toEqual([]);
  }, 600_000);

  it('what the guide says the commands print is what they print', async () => {
    const [plan, explain, bird] = await Promise.all([
      runIn(dir, ['plan', '-f', 'vippools.yaml', '-f', 'shop.yaml', '-f', 'gue-service.yaml', '--empty']),
      runIn(dir, ['explain', '10.96.100.10:80', '203.0.113.7', '-f', 'vippools.yaml', '-f', 'shop.yaml', '--empty']),
      runIn(dir, ['bird', 'render', '--config', 'announcer.yaml', '-f', 'vippools.yaml', '-f', 'shop.yaml']),
    ]);
    expect([plan.code, explain.code, bird.code]).toEqual([0, 0, 0]);
    // "game gets 10.96.100.200, its first request"; web-4 (terminating) at weight 0
    expect(plan.stdout).toMatch(/play\/game\s+10\.96\.100\.200/);
    expect(plan.stdout).toMatch(/tcp\/10\.96\.100\.10:80\s+10\.244\.2\.14:80 w=0/);
    expect(plan.stdout).toMatch(/add-service\s+tcp\/10\.96\.100\.10:80 mh/);
    // the table, the client's slot, the destination
    expect(explain.stdout).toMatch(/client 203\.0\.113\.7 -> 10\.244\.\d+\.\d+:80\b/);
    expect(explain.stdout).toMatch(/hashes to slot \d+/);
    // one /32 per VIP with its community, an export filter, one session per neighbor
    expect(bird.stdout).toMatch(/route 10\.96\.100\.10\/32 blackhole[^\n]*\(\(65000,100\)\)/);
    expect(bird.stdout).toMatch(/filter balanced_export_vips4/);
    expect(bird.stdout).toMatch(/protocol bgp balanced_peer_tor1/);
  }, 300_000);

  it('what the guide says about policies is what plan and explain print', async () => {
    const files = ['-f', 'shop.yaml', '-f', 'dns.yaml', '-f', 'policies.yaml', '--empty'];
    const dns = (pod: string) => runIn(dir, ['explain', '--resolver', '10.96.0.10:53', '--protocol', 'udp', '--pod', pod, ...files, '--json']);
    const [plan, client, other, backend, db] = await Promise.all([
      runIn(dir, ['plan', ...files, '--component', 'resolver', '--node', 'node-a']),
      dns('shop/client'),
      dns('shop/web-3'),
      dns('kube-system/node-local-dns-a'),
      runIn(dir, ['explain', '--resolver', '10.96.50.5:5432', '-f', 'policies.yaml', '--empty', '--json']),
    ]);
    expect([plan.code, client.code, other.code, backend.code, db.code]).toEqual([0, 0, 0, 0, 0]);
    // two redirect frontends in front of the two service ones, each naming its policy; a balancing one
    for (const proto of ['UDP', 'TCP']) {
      expect(plan.stdout).toMatch(new RegExp(`10\\.96\\.0\\.10:53/${proto} redirect\\s+-> service \\d+ \\(policy LocalRedirectPolicy/node-local-dns:53/${proto} IPv4\\)`));
      expect(plan.stdout).toMatch(new RegExp(`10\\.96\\.0\\.10:53/${proto} service\\s+-> service \\d+ \\(kube-system/kube-dns:`));
    }
    expect(plan.stdout).toMatch(/10\.96\.50\.5:5432\/TCP balancing\s+-> service \d+ \(policy BalancingPolicy\/legacy-db:5432\/TCP IPv4\)/);
    expect(plan.stdout).toMatch(/stand-in ids/);
    type Answer = { result: string; frontends: { kind: string; outcome: string; policy: { name: string } | null; backends: { backend: string }[] }[] };
    const answered = (r: CliRun): [string, string, string[]] => {
      const a = JSON.parse(r.stdout) as Answer;
      const hit = a.frontends.find((f) => f.outcome === 'resolves');
      return [a.result, `${hit?.kind ?? '-'} ${hit?.policy?.name ?? ''}`.trim(), (hit?.backends ?? []).map((b) => b.backend)];
    };
    // shop/client (node-a): node-local-dns-a; shop/web-3 (node-b, its local pod not ready): CoreDNS;
    // node-local-dns-a itself: skips its own redirect, CoreDNS; legacy-db outside the cluster.
    expect(answered(client)).toEqual(['resolved', 'redirect node-local-dns', ['10.244.1.31:53']]);
    expect(answered(other)).toEqual(['resolved', 'service', ['10.244.2.30:53']]);
    expect((JSON.parse(other.stdout) as Answer).frontends[0]).toMatchObject({ kind: 'redirect', outcome: 'passes' });
    expect(answered(backend)).toEqual(['resolved', 'service', ['10.244.2.30:53']]);
    expect((JSON.parse(backend.stdout) as Answer).frontends[0]).toMatchObject({ kind: 'redirect', outcome: 'skips client' });
    expect(answered(db)).toEqual(['resolved', 'balancing legacy-db', ['192.0.2.10:5432', '192.0.2.11:5432']]);
  }, 300_000);
});
