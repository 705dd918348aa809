// Authentication and RBAC enforcement for the test API server (optional: `rbac: true`).
// Bearer tokens: the admin token of testKubeConfig() is unrestricted; a ServiceAccount token
// (issued by the server, as the token controller would) authenticates as
// system:serviceaccount:<ns>:<name> while that ServiceAccount exists. Every resource request
// is then authorized against the Roles/ClusterRoles/bindings in the store, read per request
// so a test may change them on the fly. Answers as the real server does: 401 Unauthorized
// without a valid token, 403 Forbidden with the same message otherwise.

import { randomBytes } from 'node:crypto';

import { KUBECONFIG_TOKEN } from './kubeconfig.js';
import type { RequestAttributes, UserInfo } from './rbac.js';
import { authorize, forbiddenMessage, serviceAccountUser } from './rbac.js';
import { ApiError } from './status.js';
import type { ObjectStore } from './store.js';

export const ADMIN_USER: UserInfo = { name: 'testkit-admin', groups: ['system:masters', 'system:authenticated'] };

export type ResourceRequest = Omit<RequestAttributes, 'user'>;

export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

export function forbidden(a: RequestAttributes): ApiError {
  return new ApiError(403, 'Forbidden', forbiddenMessage(a), {
    ...(a.name === '' ? {} : { name: a.name }),
    ...(a.apiGroup === '' ? {} : { group: a.apiGroup }),
    kind: a.resource,
  });
}

export class AccessControl {
  private readonly tokens = new Map<string, { namespace: string; name: string }>();

  constructor(
    private readonly store: ObjectStore,
    /** false: every request is allowed, tokens are not checked (the server's default). */
    readonly enforce: boolean,
  ) {}

  /** A bearer token for the ServiceAccount (valid while the ServiceAccount exists). */
  issueToken(namespace: string, name: string): string {
    const token = `testkit-sa.${randomBytes(12).toString('hex')}`;
    this.tokens.set(token, { namespace, name });
    return token;
  }

  /** Who the Authorization header authenticates as; throws 401 when enforcing and nobody. */
  authenticate(authorization: string | undefined): UserInfo {
    if (!this.enforce) return ADMIN_USER;
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    const token = match?.[1];
    if (token === KUBECONFIG_TOKEN) return ADMIN_USER;
    const sa = token === undefined ? undefined : this.tokens.get(token);
    if (sa === undefined || this.store.get('serviceaccounts', sa.name, sa.namespace) === undefined) throw unauthorized();
    return serviceAccountUser(sa.namespace, sa.name);
  }

  /** Throws 401 or 403 unless the request is allowed. */
  check(authorization: string | undefined, request: ResourceRequest): void {
    if (!this.enforce) return;
    const user = this.authenticate(authorization);
    if (user === ADMIN_USER) return;
    const attributes: RequestAttributes = { ...request, user };
    const objects = {
      roles: this.store.list('roles'),
      clusterRoles: this.store.list('clusterroles'),
      roleBindings: this.store.list('rolebindings'),
      clusterRoleBindings: this.store.list('clusterrolebindings'),
    };
    if (!authorize(objects, attributes)) throw forbidden(attributes);
  }
}
