// The allocator's only writes: a Service's status.loadBalancer.ingress, as a JSON merge patch
// on the /status subresource that carries the resourceVersion the plan was made from. When
// anything changed the Service since, the API server answers 409 and nothing is written.
// A refusal (403 RBAC, 422 validation, 400 or any other 4xx an admission webhook answers with)
// is about this one Service and comes back as a result; only what may pass by itself
// (5xx, 429, network) throws.

import { ApiException, CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig, V1LoadBalancerIngress, V1Service } from '@kubernetes/client-node';

export type WriteResult =
  | { readonly kind: 'written'; readonly service: V1Service }
  /** 409: the Service changed since the plan read it. */
  | { readonly kind: 'conflict' }
  /** 404: the Service is gone. */
  | { readonly kind: 'gone' }
  /** The API server refused this write (e.g. 403, 422, an admission webhook's denial); retrying now would not help. */
  | { readonly kind: 'refused'; readonly code: number; readonly message: string };

export interface StatusTarget {
  readonly namespace: string;
  readonly name: string;
  readonly resourceVersion: string;
}

export interface ServiceStatusApi {
  /** Replace status.loadBalancer.ingress; throws only on what may pass by itself (5xx, 429, network). */
  writeIngress(target: StatusTarget, ingress: readonly V1LoadBalancerIngress[]): Promise<WriteResult>;
  /** The Service as the API server has it now; undefined when gone. */
  read(namespace: string, name: string): Promise<V1Service | undefined>;
  /** Every Service, straight from the API server (not a cache). */
  list(): Promise<V1Service[]>;
}

export function serviceStatusApi(kc: KubeConfig): ServiceStatusApi {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async writeIngress(target, ingress) {
      const body = {
        metadata: { resourceVersion: target.resourceVersion },
        status: { loadBalancer: { ingress: ingress.length > 0 ? ingress : null } },
      };
      try {
        const service = await core.patchNamespacedServiceStatus(
          { name: target.name, namespace: target.namespace, body },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        return { kind: 'written', service };
      } catch (err) {
        if (err instanceof ApiException && err.code === 409) return { kind: 'conflict' };
        if (err instanceof ApiException && err.code === 404) return { kind: 'gone' };
        if (err instanceof ApiException && isRefusal(err.code)) return { kind: 'refused', code: err.code, message: statusMessage(err.body) ?? `HTTP ${err.code}` };
        throw err;
      }
    },
    async read(namespace, name) {
      try {
        return await core.readNamespacedService({ name, namespace });
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      }
    },
    async list() {
      const items: V1Service[] = [];
      let token: string | undefined;
      do {
        const page = await core.listServiceForAllNamespaces({ limit: 500, ...(token ? { _continue: token } : {}) });
        items.push(...page.items);
        token = page.metadata?._continue || undefined;
      } while (token !== undefined);
      return items;
    },
  };
}

/** A 4xx that is about the request itself: not 404/409 (handled), not 408/429 (wait and retry). */
export function isRefusal(code: number): boolean {
  return code >= 400 && code < 500 && code !== 404 && code !== 409 && code !== 408 && code !== 429;
}

/** The `message` of a Status body (a string or a parsed object); undefined when there is none. */
export function statusMessage(body: unknown): string | undefined {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.trim() === '' ? undefined : body.trim().slice(0, 500);
    }
  }
  const message = typeof value === 'object' && value !== null ? (value as { message?: unknown }).message : undefined;
  return typeof message === 'string' && message !== '' ? message : undefined;
}
