// A resolution event as consumers see it: who connected (pod or host process), what they
// asked for (frontend, the Service or policy behind it) and what they got. Pure.
import type { ResolutionEvent } from '../maps/layout.js';
import type { CgroupOwner } from './cgroup-paths.js';
import type { ServiceOwner } from './service-directory.js';
import type { PodIdentity } from './pod-directory.js';

export type EventClient =
  | { readonly kind: 'pod'; readonly namespace: string; readonly pod: string; readonly container?: string; readonly podUid: string }
  /** A pod cgroup whose pod is not (yet) in the cache: only its UID is known. */
  | { readonly kind: 'unknown-pod'; readonly podUid: string }
  | { readonly kind: 'host' };

export interface EventRecord {
  /** Wall clock of reading (ms since the epoch). */
  readonly time: number;
  readonly hook: ResolutionEvent['hook'];
  /** `resolved`, or why not (the failure reason). */
  readonly result: ResolutionEvent['outcome'];
  readonly protocol: ResolutionEvent['protocol'];
  readonly kind: ResolutionEvent['kind'];
  readonly frontend: string;
  /** Empty when the event is a failure. */
  readonly backend: string;
  /** The desired service key; `id:<n>` when the agent has not told us yet. */
  readonly service: string;
  /** `<namespace>/<name>` of the Service or policy, when the key names it. */
  readonly object?: string;
  readonly client: EventClient;
  readonly comm: string;
  readonly cgroupId: bigint;
  readonly netnsCookie: bigint;
  readonly socketCookie: bigint;
}

export interface EnrichLookups {
  readonly service: (id: number) => ServiceOwner | undefined;
  readonly pod: (uid: string) => PodIdentity | undefined;
}

const endpoint = (address: string, port: number): string => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

export function clientOf(owner: CgroupOwner, pod: (uid: string) => PodIdentity | undefined): EventClient {
  if (owner.kind === 'host') return { kind: 'host' };
  const p = pod(owner.podUid);
  if (p === undefined) return { kind: 'unknown-pod', podUid: owner.podUid };
  const container = owner.containerId === undefined ? undefined : p.containers.get(owner.containerId);
  return { kind: 'pod', namespace: p.namespace, pod: p.name, podUid: owner.podUid, ...(container !== undefined ? { container } : {}) };
}

export function enrich(e: ResolutionEvent, owner: CgroupOwner, lookups: EnrichLookups, time: number): EventRecord {
  const f = lookups.service(e.serviceId);
  return {
    time,
    hook: e.hook,
    result: e.outcome,
    protocol: e.protocol,
    kind: e.kind,
    frontend: endpoint(e.frontend.address, e.frontend.port),
    backend: e.outcome === 'resolved' ? endpoint(e.backend.address, e.backend.port) : '',
    service: f?.key ?? `id:${e.serviceId}`,
    ...(f?.object !== undefined ? { object: f.object } : {}),
    client: clientOf(owner, lookups.pod),
    comm: e.comm,
    cgroupId: e.cgroupId,
    netnsCookie: e.netnsCookie,
    socketCookie: e.socketCookie,
  };
}

// Records of one batch share their time: format it once.
let lastTime = Number.NaN;
let lastTimeText = '';
function timeText(ms: number): string {
  if (ms !== lastTime) {
    lastTime = ms;
    lastTimeText = new Date(ms).toISOString();
  }
  return lastTimeText;
}

/** Flat string fields, in a fixed order (a Redis stream entry; `redis-cli XREAD` shows them as is). */
export function recordFields(r: EventRecord): string[] {
  const c = r.client;
  const fields = [
    'time', timeText(r.time),
    'result', r.result,
    'hook', r.hook,
    'protocol', r.protocol,
    'frontend', r.frontend,
    'backend', r.backend,
    'kind', r.kind,
    'service', r.service,
    'object', r.object ?? '',
    'client', c.kind === 'unknown-pod' ? 'pod' : c.kind,
    'namespace', c.kind === 'pod' ? c.namespace : '',
    'pod', c.kind === 'pod' ? c.pod : '',
    'container', c.kind === 'pod' ? (c.container ?? '') : '',
    'pod_uid', c.kind === 'host' ? '' : c.podUid,
    'comm', r.comm,
    'cgroup_id', r.cgroupId.toString(),
    'netns_cookie', r.netnsCookie.toString(),
  ];
  return fields;
}

/** A flat JSON-friendly object (bigints as decimal strings) for a log line. */
export function recordLog(r: EventRecord): Record<string, unknown> {
  const c = r.client;
  return {
    result: r.result,
    hook: r.hook,
    protocol: r.protocol,
    frontend: r.frontend,
    ...(r.backend !== '' ? { backend: r.backend } : {}),
    kind: r.kind,
    service: r.service,
    ...(r.object !== undefined ? { object: r.object } : {}),
    client: c.kind === 'unknown-pod' ? 'pod' : c.kind,
    ...(c.kind === 'pod' ? { namespace: c.namespace, pod: c.pod, ...(c.container !== undefined ? { container: c.container } : {}) } : {}),
    ...(c.kind !== 'host' ? { podUid: c.podUid } : {}),
    comm: r.comm,
    cgroupId: r.cgroupId.toString(),
  };
}
