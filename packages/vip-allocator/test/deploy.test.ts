// deploy/ and example/ against the code: the CRD declares what the parser reads, the example
// pools are valid, and RBAC grants every request the allocator makes.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, test } from '@jest/globals';
import { findRepoRoot } from '@balanced/testkit';
import { parseAllDocuments } from 'yaml';

import { VIPPOOL_GROUP, VIPPOOL_KIND, VIPPOOL_PLURAL, VIPPOOL_VERSION, parseVipPool } from '../src/pool.js';

// YAML documents, read loosely: the assertions are the type checks.
type Doc = Record<string, any>;

function load(path: string): Doc[] {
  const text = readFileSync(join(findRepoRoot(), path), 'utf8');
  return parseAllDocuments(text).map((d) => {
    if (d.errors.length > 0) throw new Error(`${path}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Doc;
  });
}

const crd = load('deploy/vippool-crd.yaml')[0]!;
const version = crd['spec'].versions[0];
const specSchema = version.schema.openAPIV3Schema.properties.spec;

describe('deploy/vippool-crd.yaml', () => {
  test('names, scope and version are the ones the allocator watches', () => {
    expect(crd['metadata'].name).toBe(`${VIPPOOL_PLURAL}.${VIPPOOL_GROUP}`);
    expect(crd['spec']).toMatchObject({ group: VIPPOOL_GROUP, scope: 'Cluster', names: { plural: VIPPOOL_PLURAL, kind: VIPPOOL_KIND } });
    expect(version).toMatchObject({ name: VIPPOOL_VERSION, served: true, storage: true });
  });

  test('the schema declares exactly the fields the parser reads, with the same defaults', () => {
    expect(Object.keys(specSchema.properties).sort()).toEqual(['autoAssign', 'avoidBuggyIPs', 'bgpCommunities', 'cidrs', 'serviceSelector']);
    expect(specSchema.required).toEqual(['cidrs']);
    const parsed = parseVipPool({ metadata: { name: 'p' }, spec: { cidrs: ['10.0.0.0/30'] } });
    expect(parsed.ok && [parsed.pool.autoAssign, parsed.pool.avoidBuggyIPs]).toEqual([specSchema.properties.autoAssign.default, specSchema.properties.avoidBuggyIPs.default]);
  });

  test('the cidrs pattern takes what the parser takes (and rejects what has no prefix or range)', () => {
    const pattern = new RegExp(specSchema.properties.cidrs.items.pattern as string);
    for (const ok of ['10.0.0.0/24', 'fd96:100::/120', '10.0.0.10-10.0.0.20', '10.0.0.10 - 10.0.0.20', '::/0']) expect(pattern.test(ok)).toBe(true);
    for (const bad of ['10.0.0.1', 'ten/8', '10.0.0.0/24,10.1.0.0/24']) expect(pattern.test(bad)).toBe(false);
  });
});

describe('example/vippools.yaml', () => {
  const pools = load('example/vippools.yaml');
  test.each(pools.map((p) => [p['metadata'].name as string, p]))('%s is a valid VipPool', (_name, pool) => {
    expect(pool).toMatchObject({ apiVersion: `${VIPPOOL_GROUP}/${VIPPOOL_VERSION}`, kind: VIPPOOL_KIND });
    const parsed = parseVipPool(pool);
    expect(parsed.ok ? [] : parsed.problems).toEqual([]);
    const cidrPattern = new RegExp(specSchema.properties.cidrs.items.pattern as string);
    for (const c of (pool as Doc)['spec'].cidrs as string[]) expect(cidrPattern.test(c)).toBe(true);
  });
});

describe('deploy/vip-allocator.yaml', () => {
  const docs = load('deploy/vip-allocator.yaml');
  const byKind = (kind: string): Doc[] => docs.filter((d) => d['kind'] === kind);
  const deployment = byKind('Deployment')[0]!;
  const container = deployment['spec'].template.spec.containers[0];
  const arg = (flag: string): string | undefined => (container.args as string[]).find((a) => a.startsWith(`--${flag}=`))?.split('=')[1];

  test('two replicas, each with its own identity, electing through a Lease in their namespace', () => {
    expect(deployment['spec'].replicas).toBe(2);
    expect(arg('identity')).toBe('$(POD_NAME)');
    expect(arg('namespace')).toBe('$(POD_NAMESPACE)');
    expect(container.ports[0].containerPort).toBe(Number(arg('metrics-port')));
  });

  test('RBAC grants every request the allocator makes', () => {
    const allows = (rules: Doc[], group: string, resource: string, verb: string, name?: string): boolean =>
      rules.some(
        (r) =>
          (r['apiGroups'] as string[]).includes(group) &&
          (r['resources'] as string[]).includes(resource) &&
          (r['verbs'] as string[]).includes(verb) &&
          (r['resourceNames'] === undefined || (name !== undefined && (r['resourceNames'] as string[]).includes(name))),
      );
    const cluster = byKind('ClusterRole')[0]!['rules'] as Doc[];
    for (const verb of ['get', 'list', 'watch']) expect(allows(cluster, '', 'services', verb)).toBe(true);
    expect(allows(cluster, '', 'services/status', 'patch')).toBe(true);
    for (const verb of ['get', 'list', 'watch', 'patch']) expect(allows(cluster, VIPPOOL_GROUP, VIPPOOL_PLURAL, verb)).toBe(true);
    for (const verb of ['create', 'patch']) expect(allows(cluster, '', 'events', verb)).toBe(true);

    const role = byKind('Role')[0]!;
    const lease = arg('lease-name')!;
    expect(role['metadata'].namespace).toBe(deployment['metadata'].namespace);
    expect(allows(role['rules'] as Doc[], 'coordination.k8s.io', 'leases', 'create')).toBe(true);
    for (const verb of ['get', 'update']) expect(allows(role['rules'] as Doc[], 'coordination.k8s.io', 'leases', verb, lease)).toBe(true);
    const sa = byKind('ServiceAccount')[0]!['metadata'];
    for (const binding of [...byKind('ClusterRoleBinding'), ...byKind('RoleBinding')]) {
      expect(binding['subjects']).toEqual([{ kind: 'ServiceAccount', name: sa.name, namespace: sa.namespace }]);
    }
  });
});
