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
  // Every copy, sorted by (address, port): copies of one backend end up side by side and are
  // merged there (no map keyed by address text: a first pass reads 100,000 endpoints).
  const copies: Merged[] = [];
  for (const slice of slices) {
    if (slice.family !== query.family) continue;
    // The API keeps port names unique in a slice; with repeats, the smallest number (deterministic).
    let port: number | undefined;
    for (const p of slice.ports) {
      if (p.name === query.portName && p.protocol === query.protocol && (port === undefined || p.port < port)) port = p.port;
    }
    if (port === undefined) continue;
    for (const e of slice.endpoints) {
      copies.push({
        address: e.address,
        port,
        ready: e.ready,
        servingTerminating: e.serving && e.terminating,
        local: query.nodeName !== undefined && e.nodeName === query.nodeName,
      });
    }
  }
  sortMerged(copies);
  const candidates: Merged[] = [];
  let last: Merged | undefined;
  for (const c of copies) {
    if (last !== undefined && last.address === c.address && last.port === c.port) {
      last.ready ||= c.ready;
      last.servingTerminating ||= c.servingTerminating;
      last.local ||= c.local;
      continue;
    }
    candidates.push(c);
    last = c;
  }
  const eligible = query.localOnly ? candidates.filter((m) => m.local) : candidates;
  const ready = eligible.filter((m) => m.ready);
  const chosen = ready.length > 0 ? ready : eligible.filter((m) => m.servingTerminating);
  const kept = chosen.length > SERVICE_MAX_BACKENDS ? chosen.slice(0, SERVICE_MAX_BACKENDS) : chosen;
  return {
    backends: kept.map((m): DesiredBackend => ({ address: m.address, port: m.port, weight: 1, local: m.local })),
    dropped: chosen.length - kept.length,
  };
}

function compareMerged(a: Merged, b: Merged): number {
  return compareText(a.address, b.address) || a.port - b.port;
}

/** Insertion sort below a few dozen (a slice's endpoints usually come sorted already): Array.prototype.sort allocates its work space. */
function sortMerged(list: Merged[]): void {
  if (list.length > 32) {
    list.sort(compareMerged);
    return;
  }
  for (let i = 1; i < list.length; i++) {
    const item = list[i] as Merged;
    let j = i - 1;
    while (j >= 0 && compareMerged(list[j] as Merged, item) > 0) {
      list[j + 1] = list[j] as Merged;
      j--;
    }
    list[j + 1] = item;
  }
}
