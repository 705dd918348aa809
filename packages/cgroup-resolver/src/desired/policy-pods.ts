// Pods as the policies read them: identity, labels, node, readiness, addresses and the ports
// their containers declare. Never throws; what cannot be read reads as absent.
import { asArray, asPort, asRecord, asString, namespacedKey, prop } from '@balanced/k8s';
import { canonicalIp, type CanonicalIp } from './address.js';

export interface PodPort {
  readonly containerPort: number;
  /** undefined when the container does not publish the port on its node. */
  readonly hostPort: number | undefined;
  /** As written ('TCP' when absent, the API default). */
  readonly protocol: string;
}

export interface PodView {
  /** namespace/name: one pod in the cache. */
  readonly key: string;
  /** '' when absent (such a pod has no cgroup to find). */
  readonly uid: string;
  /** String-valued labels only, in an object without prototype (a label may be called `__proto__`). */
  readonly labels: Readonly<Record<string, string>>;
  readonly nodeName: string | undefined;
  /** The Ready condition is True and the pod is not being deleted. */
  readonly usable: boolean;
  /** status.podIPs (else status.podIP), canonical, without repeats. */
  readonly ips: readonly CanonicalIp[];
  /** status.hostIPs (else status.hostIP): the address of the pod's node. */
  readonly hostIps: readonly CanonicalIp[];
  readonly ports: readonly PodPort[];
}

/** One pod, or undefined when it is not an object. */
export function readPod(raw: unknown): PodView | undefined {
  if (asRecord(raw) === undefined) return undefined;
  const metadata = prop(raw, 'metadata');
  const spec = prop(raw, 'spec');
  const status = prop(raw, 'status');
  const deleting = prop(metadata, 'deletionTimestamp');
  const ready = asArray(prop(status, 'conditions')).some((c) => prop(c, 'type') === 'Ready' && prop(c, 'status') === 'True');
  return {
    key: namespacedKey(asString(prop(metadata, 'namespace')) ?? '', asString(prop(metadata, 'name')) ?? ''),
    uid: asString(prop(metadata, 'uid')) ?? '',
    labels: stringLabels(prop(metadata, 'labels')),
    nodeName: nonEmpty(asString(prop(spec, 'nodeName'))),
    usable: ready && (deleting === undefined || deleting === null),
    ips: addresses(prop(status, 'podIPs'), prop(status, 'podIP')),
    hostIps: addresses(prop(status, 'hostIPs'), prop(status, 'hostIP')),
    ports: containerPorts(asArray(prop(spec, 'containers'))),
  };
}

/** The string-valued entries of a label map. */
export function stringLabels(value: unknown): Readonly<Record<string, string>> {
  const out = Object.create(null) as Record<string, string>;
  const record = asRecord(value);
  if (record === undefined) return out;
  for (const key of Object.keys(record)) {
    const v = record[key];
    if (typeof v === 'string') out[key] = v;
  }
  return out;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}

/** `[{ip}]` list, else the single field; canonical, in order, without repeats. */
function addresses(list: unknown, single: unknown): CanonicalIp[] {
  const texts = asArray(list).map((entry) => prop(entry, 'ip'));
  const out: CanonicalIp[] = [];
  for (const text of texts.length > 0 ? texts : [single]) {
    const ip = canonicalIp(text);
    if (ip !== undefined && !out.some((o) => o.text === ip.text)) out.push(ip);
  }
  return out;
}

function containerPorts(containers: readonly unknown[]): PodPort[] {
  const out: PodPort[] = [];
  for (const c of containers) {
    for (const p of asArray(prop(c, 'ports'))) {
      const containerPort = asPort(prop(p, 'containerPort'));
      if (containerPort === undefined) continue;
      const protocol = prop(p, 'protocol') ?? 'TCP';
      if (typeof protocol !== 'string') continue;
      out.push({ containerPort, hostPort: asPort(prop(p, 'hostPort')), protocol });
    }
  }
  return out;
}
