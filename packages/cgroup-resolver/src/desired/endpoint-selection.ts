// Which endpoints back one Service port, for one family and one traffic policy (kube-proxy's
// CategorizeEndpoints): ready ones; if none, serving-and-terminating ones; if none, nothing.
import type { DesiredBackend, Protocol } from '../model.js';
import { SERVICE_MAX_BACKENDS } from '../maps/layout.js';
import type { IpFamily } from './address.js';
import type { SliceEndpoint, SliceView } from './endpoint-slices.js';
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

/**
 * The backends of one Service port as one family sees them. The same address:port in several
 * slices is one backend whose conditions are the union of its copies (so the answer does not
 * depend on the slices' order).
 */
export function selectEndpoints(slices: readonly SliceView[], query: EndpointQuery): EndpointSelection {
  // Every copy, sorted by (address, port): copies of one backend end up side by side and are
  // merged there (no map keyed by address text, no object per copy: a first pass reads 100,000
  // endpoints). `copies[i]` is served on `ports[i]`.
  const copies: SliceEndpoint[] = [];
  const ports: number[] = [];
  for (const slice of slices) {
    if (slice.family !== query.family) continue;
    // The API keeps port names unique in a slice; with repeats, the smallest number (deterministic).
    let port: number | undefined;
    for (const p of slice.ports) {
      if (p.name === query.portName && p.protocol === query.protocol && (port === undefined || p.port < port)) port = p.port;
    }
    if (port === undefined) continue;
    for (const e of slice.endpoints) {
      copies.push(e);
      ports.push(port);
    }
  }
  sortCopies(copies, ports);
  const node = query.nodeName;
  // Two passes over the merged backends: which condition chooses (ready ones, else
  // serving-and-terminating ones), then the chosen.
  let readyCount = 0;
  for (let i = 0; i < copies.length; ) {
    const end = groupEnd(copies, ports, i);
    const m = merged(copies, i, end, node);
    if ((!query.localOnly || (m & LOCAL) !== 0) && (m & READY) !== 0) readyCount++;
    i = end;
  }
  const want = readyCount > 0 ? READY : SERVING_TERMINATING;
  const backends: DesiredBackend[] = [];
  let chosen = 0;
  for (let i = 0; i < copies.length; ) {
    const end = groupEnd(copies, ports, i);
    const m = merged(copies, i, end, node);
    if ((!query.localOnly || (m & LOCAL) !== 0) && (m & want) !== 0) {
      if (chosen < SERVICE_MAX_BACKENDS) backends.push({ address: (copies[i] as SliceEndpoint).address, port: ports[i] as number, weight: 1, local: (m & LOCAL) !== 0 });
      chosen++;
    }
    i = end;
  }
  return { backends, dropped: chosen - backends.length };
}

const READY = 1;
const SERVING_TERMINATING = 2;
const LOCAL = 4;

/** The end of the run of copies of one backend (same address and port) that starts at `i`. */
function groupEnd(copies: readonly SliceEndpoint[], ports: readonly number[], i: number): number {
  const address = (copies[i] as SliceEndpoint).address;
  const port = ports[i];
  let j = i + 1;
  while (j < copies.length && (copies[j] as SliceEndpoint).address === address && ports[j] === port) j++;
  return j;
}

/** The union of the conditions of copies [from, to) as READY | SERVING_TERMINATING | LOCAL bits. */
function merged(copies: readonly SliceEndpoint[], from: number, to: number, nodeName: string | undefined): number {
  let m = 0;
  for (let k = from; k < to; k++) {
    const e = copies[k] as SliceEndpoint;
    if (e.ready) m |= READY;
    if (e.serving && e.terminating) m |= SERVING_TERMINATING;
    if (nodeName !== undefined && e.nodeName === nodeName) m |= LOCAL;
  }
  return m;
}

function compareCopies(a: SliceEndpoint, pa: number, b: SliceEndpoint, pb: number): number {
  return compareText(a.address, b.address) || pa - pb;
}

/**
 * Sorts the copies (and their ports alike) by (address, port). Insertion sort below a few dozen
 * (a slice's endpoints usually come nearly sorted): Array.prototype.sort allocates its work space.
 */
function sortCopies(copies: SliceEndpoint[], ports: number[]): void {
  if (copies.length > 32) {
    const order = copies.map((_, i) => i).sort((i, j) => compareCopies(copies[i] as SliceEndpoint, ports[i] as number, copies[j] as SliceEndpoint, ports[j] as number));
    const c = order.map((i) => copies[i] as SliceEndpoint);
    const p = order.map((i) => ports[i] as number);
    for (let i = 0; i < order.length; i++) {
      copies[i] = c[i] as SliceEndpoint;
      ports[i] = p[i] as number;
    }
    return;
  }
  for (let i = 1; i < copies.length; i++) {
    const item = copies[i] as SliceEndpoint;
    const port = ports[i] as number;
    let j = i - 1;
    while (j >= 0 && compareCopies(copies[j] as SliceEndpoint, ports[j] as number, item, port) > 0) {
      copies[j + 1] = copies[j] as SliceEndpoint;
      ports[j + 1] = ports[j] as number;
      j--;
    }
    copies[j + 1] = item;
    ports[j + 1] = port;
  }
}
