// Which endpoints back one Service port, for one family and one traffic policy (kube-proxy's
// CategorizeEndpoints): ready ones; if none, serving-and-terminating ones; if none, nothing.
import type { DesiredBackend, Protocol } from '../model.js';
import { SERVICE_MAX_BACKENDS } from '../maps/layout.js';
import type { IpFamily } from './address.js';
import type { SliceView } from './endpoint-slices.js';
import { compareText } from './object-ref.js';

export interface EndpointQuery {
  readonly family: IpFamily;
  /** The Service port's name ('' when unnamed): slices resolve named targetPorts per slice. */
  readonly portName: string;
  readonly protocol: Protocol;
  /** This node's name; undefined outside the cluster (then no endpoint is local). */
  readonly nodeName: string | undefined;
  /** internalTrafficPolicy: Local — only this node's endpoints, with no fallback to others. */
  readonly localOnly: boolean;
}

export interface EndpointSelection {
  /** Sorted by address, then port; weight 1 each (EndpointSlices carry no weight). */
  readonly backends: readonly DesiredBackend[];
  /** Backends left out because a table lists at most SERVICE_MAX_BACKENDS. */
  readonly dropped: number;
}

interface Merged {
  address: string;
  port: number;
  ready: boolean;
  servingTerminating: boolean;
  local: boolean;
}

/**
 * The backends of one Service port as one family sees them. The same address:port in several
 * slices is one backend whose conditions are the union of its copies (so the answer does not
 * depend on the slices' order).
 */
export function selectEndpoints(slices: readonly SliceView[], query: EndpointQuery): EndpointSelection {
  const merged = new Map<string, Merged>();
  for (const slice of slices) {
    if (slice.family !== query.family) continue;
    // The API keeps port names unique in a slice; with repeats, the smallest number (deterministic).
    let port: number | undefined;
    for (const p of slice.ports) {
      if (p.name === query.portName && p.protocol === query.protocol && (port === undefined || p.port < port)) port = p.port;
    }
    if (port === undefined) continue;
    for (const e of slice.endpoints) {
      const key = `${e.address}|${port}`;
      const m = merged.get(key) ?? { address: e.address, port, ready: false, servingTerminating: false, local: false };
      m.ready ||= e.ready;
      m.servingTerminating ||= e.serving && e.terminating;
      m.local ||= query.nodeName !== undefined && e.nodeName === query.nodeName;
      merged.set(key, m);
    }
  }
  const candidates = [...merged.values()].filter((m) => !query.localOnly || m.local);
  const ready = candidates.filter((m) => m.ready);
  const chosen = ready.length > 0 ? ready : candidates.filter((m) => m.servingTerminating);
  chosen.sort((a, b) => compareText(a.address, b.address) || a.port - b.port);
  const kept = chosen.slice(0, SERVICE_MAX_BACKENDS);
  return {
    backends: kept.map((m): DesiredBackend => ({ address: m.address, port: m.port, weight: 1, local: m.local })),
    dropped: chosen.length - kept.length,
  };
}
