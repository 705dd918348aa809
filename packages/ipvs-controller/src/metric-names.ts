import { asArray, asString, prop } from '@balanced/k8s';
import { canonicalIp } from '@balanced/net';
import type { VirtualServiceOwner } from './desired-index.js';

/** The Kubernetes names of one virtual service, as metrics labels. */
export interface VirtualServiceNames {
  readonly namespace: string;
  /** The Service's name. */
  readonly service: string;
  /** The Service port's name, or its number when the port is unnamed. */
  readonly port: string;
  /** The pod behind a destination address ('' when no endpoint of the Service has it now). */
  pod(address: string): string;
}

/** Names by virtual service id (serviceKeyString); undefined for one no Service desires now. */
export type MetricNames = (id: string) => VirtualServiceNames | undefined;

/**
 * Names from the desired state (DesiredIndex.owner): the Service port that holds the virtual
 * service, and the pod of each destination from the targetRef of the EndpointSlice endpoint
 * with that address — the same first address the desired-state builder programs.
 */
export function desiredNames(owner: (id: string) => VirtualServiceOwner | undefined): MetricNames {
  return (id) => {
    const o = owner(id);
    if (o === undefined) return undefined;
    let pods: Map<string, string> | undefined;
    return {
      namespace: o.namespace,
      service: o.name,
      port: o.portName === '' ? String(o.port) : o.portName,
      pod: (address) => (pods ??= podsByAddress(o.endpointSlices)).get(address) ?? '',
    };
  };
}

/** Pod name by endpoint address (normalised as the builder does); the first slice that names one wins. */
export function podsByAddress(slices: readonly unknown[]): Map<string, string> {
  const pods = new Map<string, string>();
  for (const slice of slices) {
    for (const e of asArray(prop(slice, 'endpoints'))) {
      const target = prop(e, 'targetRef');
      const kind = asString(prop(target, 'kind'));
      const name = asString(prop(target, 'name'));
      const first = asArray(prop(e, 'addresses'))[0];
      if (name === undefined || name === '' || (kind !== undefined && kind !== 'Pod') || first === undefined) continue;
      const address = canonicalIp(first);
      if (address !== undefined && !pods.has(address)) pods.set(address, name);
    }
  }
  return pods;
}
