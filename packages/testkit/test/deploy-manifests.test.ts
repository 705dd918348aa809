// Every object under deploy/ (and the sample custom objects under example/) validated against
// the Kubernetes OpenAPI schema shipped by kubernetes-models (5.x: Kubernetes 1.36; built-in kinds) and against the
// openAPIV3Schema of the CRDs in deploy/ (custom kinds), plus the rules a manifest must keep to
// run as written: distinct host ports, service accounts that exist, a PodDisruptionBudget for
// every workload with more than one replica, the kustomization listing every file.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { builtinSchemaErrors, crdSchemaErrors, crdSchemas as crdSchemasOf, isManifestRecord, readYamlFile, type ManifestDoc } from '../src/manifest-schema.js';
import { findRepoRoot } from '../src/repo-root.js';

type Doc = ManifestDoc;
interface Located {
  readonly file: string;
  readonly doc: Doc;
}

const root = findRepoRoot();
const deployDir = join(root, 'deploy');
/** Files under deploy/ that kustomization.yaml leaves out on purpose (see its comment). */
const OPTIONAL = new Set(['cgroup-resolver.yaml', 'policy-crds.yaml', 'policy-webhook.yaml']);

const readDocs = readYamlFile;
const isRecord = isManifestRecord;

const yamlFiles = readdirSync(deployDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
const deployed: Located[] = yamlFiles.flatMap((file) => readDocs(join(deployDir, file)).map((doc) => ({ file, doc })));
const examples: Located[] = readdirSync(join(root, 'example'))
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) => readDocs(join(root, 'example', file)).map((doc) => ({ file: `example/${file}`, doc })));

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const rec = (v: unknown): Doc => (isRecord(v) ? v : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const nameOf = (d: Doc): string => `${str(d['kind'])}/${str(rec(d['metadata'])['name'])}`;

const builtinErrors = builtinSchemaErrors;
const customErrors = crdSchemaErrors;

/** Custom kinds served by the CRDs in deploy/: `group/version Kind` → openAPIV3Schema. */
function crdSchemas(): Map<string, Doc> {
  return crdSchemasOf(deployed.map((l) => l.doc));
}

/** The pod template of a workload, or undefined. */
function podSpec(doc: Doc): Doc | undefined {
  if (!['DaemonSet', 'Deployment', 'StatefulSet'].includes(str(doc['kind']))) return undefined;
  return rec(rec(rec(doc['spec'])['template'])['spec']);
}

/** Host ports a hostNetwork pod listens on: containerPorts and --metrics-port= args. */
function hostPorts(spec: Doc): number[] {
  const ports = new Set<number>();
  for (const c of arr(spec['containers']).map(rec)) {
    for (const p of arr(c['ports']).map(rec)) if (typeof p['containerPort'] === 'number') ports.add(p['containerPort']);
    for (const a of arr(c['args'])) {
      const m = /^--metrics-port=(\d+)$/.exec(str(a));
      if (m?.[1] !== undefined) ports.add(Number(m[1]));
    }
  }
  return [...ports];
}

describe('deploy/ manifests', () => {
  it('has objects to check', () => {
    expect(deployed.length).toBeGreaterThan(10);
  });

  it('every built-in object validates against the Kubernetes OpenAPI schema', async () => {
    const custom = crdSchemas();
    const problems: string[] = [];
    for (const { file, doc } of deployed) {
      if (custom.has(`${str(doc['apiVersion'])} ${str(doc['kind'])}`)) continue;
      const err = await builtinErrors(doc);
      if (err !== undefined) problems.push(`${file} ${nameOf(doc)}: ${err}`);
    }
    expect(problems).toEqual([]);
  });

  it('the schema check catches a broken object (a container without an image name type)', async () => {
    const ds = deployed.find((l) => l.doc['kind'] === 'DaemonSet');
    expect(ds).toBeDefined();
    const broken = structuredClone(ds!.doc);
    const containers = arr(rec(rec(rec(broken['spec'])['template'])['spec'])['containers']);
    rec(containers[0])['image'] = 42;
    expect(await builtinErrors(broken)).toMatch(/image must be string/);
  });

  it('every custom object (deploy/ and example/) validates against its CRD schema', async () => {
    const custom = crdSchemas();
    expect(custom.size).toBeGreaterThan(0);
    const problems: string[] = [];
    let checked = 0;
    for (const { file, doc } of [...deployed, ...examples]) {
      const schema = custom.get(`${str(doc['apiVersion'])} ${str(doc['kind'])}`);
      if (schema === undefined) continue;
      checked++;
      const err = await customErrors(schema, doc);
      if (err !== undefined) problems.push(`${file} ${nameOf(doc)}: ${err}`);
    }
    expect(checked).toBeGreaterThan(0);
    expect(problems).toEqual([]);
    const bad = { apiVersion: 'balanced.dev/v1alpha1', kind: 'VipPool', metadata: { name: 'x' }, spec: { cidrs: ['not a cidr'] } };
    expect(await customErrors(custom.get('balanced.dev/v1alpha1 VipPool')!, bad)).toMatch(/pattern/);
  });

  it('kustomization.yaml lists every manifest (or names it optional) and only files that exist', () => {
    const k = readDocs(join(deployDir, 'kustomization.yaml'))[0] ?? {};
    const resources = arr(k['resources']).map(str);
    for (const r of resources) expect(yamlFiles).toContain(r);
    const missing = yamlFiles.filter((f) => !resources.includes(f) && !OPTIONAL.has(f));
    expect(missing).toEqual([]);
  });

  it("kustomization.yaml's images: name every image the workloads use, with the tag the files carry", () => {
    const k = readDocs(join(deployDir, 'kustomization.yaml'))[0] ?? {};
    const tags = new Map(arr(k['images']).map((i) => [str(rec(i)['name']), str(rec(i)['newTag'])]));
    const used: string[] = [];
    for (const { doc } of deployed) {
      const spec = podSpec(doc);
      if (spec === undefined) continue;
      for (const c of [...arr(spec['initContainers']), ...arr(spec['containers'])].map(rec)) used.push(str(c['image']));
    }
    expect(used.length).toBeGreaterThan(0);
    const mismatched = used.filter((image) => {
      const at = image.lastIndexOf(':');
      return tags.get(image.slice(0, at)) !== image.slice(at + 1);
    });
    expect(mismatched).toEqual([]);
  });

  it('every namespaced object is in the one Namespace, which carries Pod Security labels', () => {
    const ns = deployed.filter((l) => l.doc['kind'] === 'Namespace');
    expect(ns.map((l) => nameOf(l.doc))).toEqual(['Namespace/balanced-system']);
    const labels = rec(rec(ns[0]!.doc['metadata'])['labels']);
    expect(labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
    const clusterScoped = new Set([
      'Namespace',
      'ClusterRole',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'MutatingWebhookConfiguration',
      'ValidatingWebhookConfiguration',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
      'PriorityClass',
    ]);
    const elsewhere = deployed
      .filter((l) => !clusterScoped.has(str(l.doc['kind'])) && str(rec(l.doc['metadata'])['namespace']) !== 'balanced-system')
      .map((l) => `${l.file} ${nameOf(l.doc)}`);
    expect(elsewhere).toEqual([]);
  });

  it('host-network workloads that can share a node listen on distinct ports', () => {
    const seen = new Map<number, string>();
    const clashes: string[] = [];
    for (const { doc } of deployed) {
      const spec = podSpec(doc);
      if (spec === undefined || spec['hostNetwork'] !== true) continue;
      for (const port of hostPorts(spec)) {
        const other = seen.get(port);
        if (other !== undefined && other !== nameOf(doc)) clashes.push(`${port}: ${other} and ${nameOf(doc)}`);
        seen.set(port, nameOf(doc));
      }
    }
    expect(clashes).toEqual([]);
  });

  it('every pod runs as a ServiceAccount the manifests create, bound to a role', () => {
    const accounts = new Set(deployed.filter((l) => l.doc['kind'] === 'ServiceAccount').map((l) => str(rec(l.doc['metadata'])['name'])));
    const bound = new Set(
      deployed
        .filter((l) => l.doc['kind'] === 'ClusterRoleBinding' || l.doc['kind'] === 'RoleBinding')
        .flatMap((l) => arr(l.doc['subjects']).map((s) => str(rec(s)['name']))),
    );
    for (const { doc } of deployed) {
      const spec = podSpec(doc);
      if (spec === undefined) continue;
      const sa = str(spec['serviceAccountName']);
      expect([nameOf(doc), accounts.has(sa), bound.has(sa)]).toEqual([nameOf(doc), true, true]);
    }
  });

  it('a workload with more than one replica has a PodDisruptionBudget selecting it', () => {
    const pdbs = deployed.filter((l) => l.doc['kind'] === 'PodDisruptionBudget').map((l) => rec(rec(l.doc['spec'])['selector'])['matchLabels']);
    for (const { doc } of deployed) {
      const replicas = rec(doc['spec'])['replicas'];
      if (typeof replicas !== 'number' || replicas <= 1) continue;
      const labels = rec(rec(rec(rec(doc['spec'])['template'])['metadata'])['labels']);
      const covered = pdbs.some((m) => Object.entries(rec(m)).every(([k, v]) => labels[k] === v));
      expect([nameOf(doc), covered]).toEqual([nameOf(doc), true]);
    }
  });
});
