// The status writer's only write: a policy's whole status as a JSON merge patch on the /status
// subresource (so a spec in the body would be ignored), carrying the resourceVersion the status
// was computed from. client-node 1.4 sends a patch as application/json-patch+json unless told
// otherwise, hence the explicit Content-Type (as the allocator's Service status writes do).

import { ApiException, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { show } from '@balanced/k8s';
import { POLICY_GROUP, POLICY_RESOURCES, POLICY_VERSION } from '@balanced/policies';

import type { StatusTarget } from './types.js';

export type StatusWriteResult =
  /** The object as the API server stored it. */
  | { readonly kind: 'ok'; readonly object: unknown }
  /** 409: the object changed since the status was computed. */
  | { readonly kind: 'conflict' }
  /** 404: the object is gone. */
  | { readonly kind: 'notfound' }
  /** Anything else (403, 422, 5xx, network): about this write only. */
  | { readonly kind: 'error'; readonly error: Error };

export interface PolicyStatusApi {
  /** Merge-patch status (null removes a field). Never throws. */
  patchStatus(target: StatusTarget, status: Readonly<Record<string, unknown>>): Promise<StatusWriteResult>;
}

export function policyStatusApi(kc: KubeConfig): PolicyStatusApi {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  return {
    async patchStatus(target, status) {
      const body = { ...(target.resourceVersion !== undefined ? { metadata: { resourceVersion: target.resourceVersion } } : {}), status };
      try {
        const object: unknown = await custom.patchClusterCustomObjectStatus(
          { group: POLICY_GROUP, version: POLICY_VERSION, plural: POLICY_RESOURCES[target.kind].plural, name: target.name, body },
          mergePatch,
        );
        return { kind: 'ok', object };
      } catch (err) {
        if (err instanceof ApiException && err.code === 409) return { kind: 'conflict' };
        if (err instanceof ApiException && err.code === 404) return { kind: 'notfound' };
        return { kind: 'error', error: describe(err) };
      }
    },
  };
}

function describe(err: unknown): Error {
  if (err instanceof ApiException) return new Error(`HTTP ${err.code}: ${show(err.body)}`.slice(0, 1000), { cause: err });
  return err instanceof Error ? err : new Error(show(err));
}
