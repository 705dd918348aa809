// RBAC as the real API server's authorizer applies it (pure): a request's attributes (user,
// verb, API group, resource[/subresource], namespace, name) are allowed when a rule of a Role
// or ClusterRole bound to the user, one of its groups or its ServiceAccount allows them.
// ClusterRoleBindings grant everywhere; RoleBindings only in their own namespace (with a Role
// of that namespace or a ClusterRole). The roles and bindings are ordinary stored objects.

import { isRecord } from './types.js';

export interface UserInfo {
  /** `system:serviceaccount:<namespace>:<name>`, or `testkit-admin`. */
  readonly name: string;
  readonly groups: readonly string[];
}

export interface RequestAttributes {
  readonly user: UserInfo;
  /** get, list, watch, create, update, patch, delete, deletecollection. */
  readonly verb: string;
  /** '' for the core group. */
  readonly apiGroup: string;
  /** The plural, e.g. `services`. */
  readonly resource: string;
  /** `status`, or '' for the object itself. */
  readonly subresource: string;
  /** '' for a cluster-scoped request or a request across all namespaces. */
  readonly namespace: string;
  /** '' for a collection. */
  readonly name: string;
}

/** What the authorizer reads: objects as stored (any shape; malformed rules match nothing). */
export interface RbacObjects {
  readonly roles: readonly unknown[];
  readonly clusterRoles: readonly unknown[];
  readonly roleBindings: readonly unknown[];
  readonly clusterRoleBindings: readonly unknown[];
}

export const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

/** The user a ServiceAccount's token authenticates as (name and groups as the API server sets them). */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return {
    name: `${SERVICE_ACCOUNT_PREFIX}${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

function field(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function subjectMatches(subject: unknown, user: UserInfo, bindingNamespace: string): boolean {
  const kind = text(field(subject, 'kind'));
  const name = text(field(subject, 'name'));
  if (kind === 'ServiceAccount') {
    // A RoleBinding's ServiceAccount subject without a namespace means the binding's own.
    const ns = text(field(subject, 'namespace')) || bindingNamespace;
    return user.name === `${SERVICE_ACCOUNT_PREFIX}${ns}:${name}`;
  }
  if (kind === 'User') return user.name === name;
  if (kind === 'Group') return user.groups.includes(name);
  return false;
}

function resourceMatches(patterns: readonly string[], resource: string, subresource: string): boolean {
  const combined = subresource === '' ? resource : `${resource}/${subresource}`;
  return patterns.some((p) => {
    if (p === '*' || p === combined) return true;
    if (subresource !== '' && p === `*/${subresource}`) return true;
    if (subresource !== '' && p === `${resource}/*`) return true;
    return false;
  });
}

/** One PolicyRule against the attributes (resource requests only). */
export function ruleAllows(rule: unknown, a: RequestAttributes): boolean {
  const verbs = strings(field(rule, 'verbs'));
  if (!verbs.includes('*') && !verbs.includes(a.verb)) return false;
  const groups = strings(field(rule, 'apiGroups'));
  if (!groups.includes('*') && !groups.includes(a.apiGroup)) return false;
  if (!resourceMatches(strings(field(rule, 'resources')), a.resource, a.subresource)) return false;
  const names = strings(field(rule, 'resourceNames'));
  // A rule naming objects never allows a request that names none (list, watch, create, ...).
  return names.length === 0 || (a.name !== '' && names.includes(a.name));
}

function rulesOf(roles: readonly unknown[], name: string, namespace: string | undefined): unknown[] {
  const role = roles.find(
    (r) => text(field(field(r, 'metadata'), 'name')) === name && (namespace === undefined || text(field(field(r, 'metadata'), 'namespace')) === namespace),
  );
  const rules = field(role, 'rules');
  return Array.isArray(rules) ? rules : [];
}

/** True when some binding of the user grants the request. */
export function authorize(objects: RbacObjects, a: RequestAttributes): boolean {
  for (const binding of objects.clusterRoleBindings) {
    const subjects = field(binding, 'subjects');
    if (!Array.isArray(subjects) || !subjects.some((s) => subjectMatches(s, a.user, ''))) continue;
    const ref = field(binding, 'roleRef');
    if (text(field(ref, 'kind')) !== 'ClusterRole') continue;
    if (rulesOf(objects.clusterRoles, text(field(ref, 'name')), undefined).some((r) => ruleAllows(r, a))) return true;
  }
  if (a.namespace === '') return false;
  for (const binding of objects.roleBindings) {
    const ns = text(field(field(binding, 'metadata'), 'namespace'));
    if (ns !== a.namespace) continue;
    const subjects = field(binding, 'subjects');
    if (!Array.isArray(subjects) || !subjects.some((s) => subjectMatches(s, a.user, ns))) continue;
    const ref = field(binding, 'roleRef');
    const kind = text(field(ref, 'kind'));
    const rules =
      kind === 'Role' ? rulesOf(objects.roles, text(field(ref, 'name')), ns) : kind === 'ClusterRole' ? rulesOf(objects.clusterRoles, text(field(ref, 'name')), undefined) : [];
    if (rules.some((r) => ruleAllows(r, a))) return true;
  }
  return false;
}

/**
 * The message of the real API server's 403 (k8s.io/apiserver responsewriters): `<resource>[ "<name>"] is
 * forbidden: User "<user>" cannot <verb> resource "<resource>[/<sub>]" in API group "<group>" (in the
 * namespace "<ns>" | at the cluster scope)`; the first resource is `plural[.group]` without the subresource.
 */
export function forbiddenMessage(a: RequestAttributes): string {
  const qualified = a.apiGroup === '' ? a.resource : `${a.resource}.${a.apiGroup}`;
  const resource = a.subresource === '' ? a.resource : `${a.resource}/${a.subresource}`;
  const scope = a.namespace === '' ? 'at the cluster scope' : `in the namespace ${JSON.stringify(a.namespace)}`;
  const reason = `User ${JSON.stringify(a.user.name)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${scope}`;
  return a.name === '' ? `${qualified} is forbidden: ${reason}` : `${qualified} ${JSON.stringify(a.name)} is forbidden: ${reason}`;
}
