// Writes LAST_ACCEPTED_ANNOTATION (last-good.ts) on our Services whose balanced annotations
// parse cleanly and differ from the recorded copy. Run by one writer (the leader-elected
// vip-allocator) on every pass; a write that races another change (409) waits for the next pass.
// Needs RBAC `patch` on `services`.

import { ApiException, CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig, V1Service } from '@kubernetes/client-node';
import { isOurs } from './annotations.js';
import { lastAcceptedPatch } from './last-good.js';
import { asString, prop } from './read.js';

export interface LastAcceptedResult {
  /** `namespace/name` of the Services whose copy was written. */
  readonly written: readonly string[];
  /** Writes that failed (other than a 409 or 404 race), with why. */
  readonly failed: readonly { readonly service: string; readonly message: string }[];
}

export class LastAcceptedRecorder {
  private readonly core: CoreV1Api;

  constructor(
    kc: KubeConfig,
    private readonly options: { readonly defaultClass: boolean },
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** Brings the recorded copy of every one of `services` up to date. */
  async record(services: readonly V1Service[]): Promise<LastAcceptedResult> {
    const written: string[] = [];
    const failed: { service: string; message: string }[] = [];
    for (const service of services) {
      if (!isOurs(service, this.options)) continue;
      const patch = lastAcceptedPatch(service);
      if (patch === undefined) continue;
      const name = asString(prop(prop(service, 'metadata'), 'name'));
      const namespace = asString(prop(prop(service, 'metadata'), 'namespace'));
      const resourceVersion = asString(prop(prop(service, 'metadata'), 'resourceVersion'));
      if (name === undefined || namespace === undefined) continue;
      const key = `${namespace}/${name}`;
      try {
        await this.core.patchNamespacedService(
          { name, namespace, body: { metadata: { ...patch.metadata, ...(resourceVersion === undefined ? {} : { resourceVersion }) } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        written.push(key);
      } catch (err) {
        if (err instanceof ApiException && (err.code === 409 || err.code === 404)) continue; // changed or gone meanwhile
        failed.push({ service: key, message: err instanceof ApiException ? `HTTP ${err.code}` : err instanceof Error ? err.message : String(err) });
      }
    }
    return { written, failed };
  }
}
