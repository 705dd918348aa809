// Discovery documents: /api, /apis, /apis/{group}, /api/v1 and /apis/{group}/{version}.
// client-node's typed APIs do not need them, but KubernetesObjectApi and kubectl-style
// tooling resolve kinds through them.

import type { ResourceRegistry, ResourceType } from './resources.js';
import { apiVersionOf } from './resources.js';

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function apiVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupEntry(registry: ResourceRegistry, group: string): object {
  const versions = registry
    .groupVersions()
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: apiVersionOf(gv), version: gv.version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

export function apiGroupList(registry: ResourceRegistry): object {
  const groups = [...new Set(registry.all.map((r) => r.group).filter((g) => g !== ''))];
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((g) => groupEntry(registry, g)) };
}

export function apiGroup(registry: ResourceRegistry, group: string): object | undefined {
  if (!registry.all.some((r) => r.group === group)) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(registry, group) };
}

function resourceEntries(r: ResourceType): object[] {
  const main = {
    name: r.plural,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: VERBS,
    ...(r.shortNames === undefined ? {} : { shortNames: r.shortNames }),
  };
  if (!r.statusSubresource) return [main];
  return [main, { name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] }];
}

export function apiResourceList(registry: ResourceRegistry, group: string, version: string): object | undefined {
  const resources = registry.all.filter((r) => r.group === group && r.version === version);
  if (resources.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf({ group, version }),
    resources: resources.flatMap(resourceEntries),
  };
}

export const VERSION_INFO = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.0-testkit',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2024-01-01T00:00:00Z',
  goVersion: 'go1.22.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};
