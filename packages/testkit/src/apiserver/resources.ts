// The kinds the test API server serves. A resource is addressed the way the API server
// addresses it: group + version + plural. Tests name it by `plural` (core group) or
// `plural.group` (e.g. `endpointslices.discovery.k8s.io`); a bare plural also works when
// only one group has it.

export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  /** Has a /status subresource: PUT/PATCH on the object ignore .status, /status changes only .status. */
  statusSubresource: boolean;
  /** Field selector labels besides metadata.name and metadata.namespace. */
  fieldLabels: readonly string[];
  shortNames?: readonly string[];
  /** A real server omits kind/apiVersion from items of built-in lists (not for custom resources). */
  builtin: boolean;
  /** Status set on create when the object has a status subresource. */
  initialStatus?: Record<string, unknown>;
}

/** A custom resource registered at start, as a CRD would declare it. */
export interface CustomResourceDefinition {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  singular?: string;
  /** `subresources.status` in the CRD; default true. */
  statusSubresource?: boolean;
  shortNames?: string[];
}

export function apiVersionOf(r: Pick<ResourceType, 'group' | 'version'>): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

export function qualifiedName(r: Pick<ResourceType, 'group' | 'plural'>): string {
  return r.group === '' ? r.plural : `${r.plural}.${r.group}`;
}

function core(
  plural: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType {
  return {
    group: '',
    version: 'v1',
    plural,
    singular: kind.toLowerCase(),
    kind,
    namespaced,
    statusSubresource: false,
    fieldLabels: [],
    builtin: true,
    ...extra,
  };
}

/** RBAC kinds (rbac.authorization.k8s.io/v1): stored as any object, read by the authorizer. */
function rbac(plural: string, kind: string, namespaced: boolean): ResourceType {
  return {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural,
    singular: kind.toLowerCase(),
    kind,
    namespaced,
    statusSubresource: false,
    fieldLabels: [],
    builtin: true,
  };
}

const EVENT_FIELDS = [
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
];

export const BUILTIN_RESOURCES: readonly ResourceType[] = [
  core('namespaces', 'Namespace', false, {
    statusSubresource: true,
    fieldLabels: ['status.phase'],
    shortNames: ['ns'],
    initialStatus: { phase: 'Active' },
  }),
  core('nodes', 'Node', false, { statusSubresource: true, fieldLabels: ['spec.unschedulable'], shortNames: ['no'] }),
  core('services', 'Service', true, {
    statusSubresource: true,
    shortNames: ['svc'],
    initialStatus: { loadBalancer: {} },
  }),
  core('pods', 'Pod', true, {
    statusSubresource: true,
    fieldLabels: [
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.nominatedNodeName',
    ],
    shortNames: ['po'],
    initialStatus: { phase: 'Pending' },
  }),
  core('endpoints', 'Endpoints', true, { singular: 'endpoints', shortNames: ['ep'] }),
  core('events', 'Event', true, { fieldLabels: EVENT_FIELDS, shortNames: ['ev'] }),
  core('configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  core('serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'] }),
  rbac('roles', 'Role', true),
  rbac('clusterroles', 'ClusterRole', false),
  rbac('rolebindings', 'RoleBinding', true),
  rbac('clusterrolebindings', 'ClusterRoleBinding', false),
  {
    group: 'discovery.k8s.io',
    version: 'v1',
    plural: 'endpointslices',
    singular: 'endpointslice',
    kind: 'EndpointSlice',
    namespaced: true,
    statusSubresource: false,
    fieldLabels: [],
    builtin: true,
  },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    plural: 'leases',
    singular: 'lease',
    kind: 'Lease',
    namespaced: true,
    statusSubresource: false,
    fieldLabels: [],
    builtin: true,
  },
  {
    group: 'events.k8s.io',
    version: 'v1',
    plural: 'events',
    singular: 'event',
    kind: 'Event',
    namespaced: true,
    statusSubresource: false,
    fieldLabels: [
      'regarding.kind',
      'regarding.namespace',
      'regarding.name',
      'regarding.uid',
      'reason',
      'reportingController',
      'type',
    ],
    shortNames: ['ev'],
    builtin: true,
  },
];

export function customResourceType(crd: CustomResourceDefinition): ResourceType {
  return {
    group: crd.group,
    version: crd.version,
    plural: crd.plural,
    singular: crd.singular ?? crd.kind.toLowerCase(),
    kind: crd.kind,
    namespaced: crd.namespaced,
    statusSubresource: crd.statusSubresource ?? true,
    fieldLabels: [],
    ...(crd.shortNames === undefined ? {} : { shortNames: crd.shortNames }),
    builtin: false,
  };
}

/** All served resources, looked up by URL parts or by a test's short name. */
export class ResourceRegistry {
  readonly all: readonly ResourceType[];

  constructor(custom: readonly CustomResourceDefinition[] = []) {
    const all = [...BUILTIN_RESOURCES];
    for (const crd of custom) {
      const type = customResourceType(crd);
      if (all.some((r) => r.group === type.group && r.plural === type.plural)) {
        throw new Error(`resource ${qualifiedName(type)} is registered twice`);
      }
      all.push(type);
    }
    this.all = all;
  }

  /** The resource at /api/v1/<plural> or /apis/<group>/<version>/<plural>. */
  byPath(group: string, version: string, plural: string): ResourceType | undefined {
    return this.all.find((r) => r.group === group && r.version === version && r.plural === plural);
  }

  /** `services`, `endpointslices`, `endpointslices.discovery.k8s.io`; core wins a bare plural. */
  resolve(name: string): ResourceType {
    const exact = this.all.find((r) => qualifiedName(r) === name);
    if (exact !== undefined) {
      return exact;
    }
    const byPlural = this.all.filter((r) => r.plural === name);
    if (byPlural.length === 1 && byPlural[0] !== undefined) {
      return byPlural[0];
    }
    const known = this.all.map(qualifiedName).join(', ');
    throw new Error(
      byPlural.length === 0
        ? `unknown resource "${name}" (known: ${known})`
        : `ambiguous resource "${name}": use one of ${byPlural.map(qualifiedName).join(', ')}`,
    );
  }

  groupVersions(): Array<{ group: string; version: string }> {
    const seen = new Map<string, { group: string; version: string }>();
    for (const r of this.all) {
      seen.set(apiVersionOf(r), { group: r.group, version: r.version });
    }
    return [...seen.values()];
  }
}
