import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { buildDesired, type DesiredService as K8sDesiredService, type DesiredState } from '@balanced/k8s';
import type { DesiredService } from './model.js';

export interface ClusterSnapshot {
  services(): readonly V1Service[];
  endpointSlices(): readonly V1EndpointSlice[];
  pods(): readonly V1Pod[];
}

export interface DesiredSourceOptions {
  readonly cluster: ClusterSnapshot;
  readonly ownsVip: (ip: string) => boolean;
  readonly defaultClass: boolean;
  readonly defaultDrainSeconds: number;
  readonly onState?: (state: DesiredState) => void;
}

/**
 * Builds the desired IPVS state from the informer caches. A Service that was programmed and
 * is now refused for an invalid annotation keeps its last good state (a typo on a live
 * Service must not take it down); the refusal still becomes an Event.
 */
export function desiredSource(options: DesiredSourceOptions): () => DesiredService[] {
  let lastGood = new Map<string, K8sDesiredService[]>();
  return () => {
    const state = buildDesired({
      services: options.cluster.services(),
      endpointSlices: options.cluster.endpointSlices(),
      pods: options.cluster.pods(),
      ownsVip: options.ownsVip,
      defaultClass: options.defaultClass,
      defaults: { drainSeconds: options.defaultDrainSeconds },
    });
    options.onState?.(state);
    const bySource = new Map<string, K8sDesiredService[]>();
    for (const s of state.services) {
      const id = `${s.source.namespace}/${s.source.name}`;
      bySource.set(id, [...(bySource.get(id) ?? []), s]);
    }
    const present = new Set(options.cluster.services().map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`));
    for (const r of state.refusals) {
      const id = `${r.object.namespace}/${r.object.name}`;
      const kept = lastGood.get(id);
      if (r.object.kind === 'Service' && r.field?.startsWith('metadata.annotations') && kept && !bySource.has(id) && present.has(id)) {
        bySource.set(id, kept);
      }
    }
    lastGood = bySource;
    const taken = new Set<string>();
    const out: DesiredService[] = [];
    for (const list of bySource.values()) {
      for (const s of list) {
        const k = `${s.key.protocol}/${s.key.address}:${s.key.port}`;
        if (taken.has(k)) continue; // a kept state never overrides a VIP:port now held by another Service
        taken.add(k);
        out.push(s);
      }
    }
    return out;
  };
}
