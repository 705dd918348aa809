// A controller's heap (a director's, a node's resolver's) is a large, long-lived working set
// (every Service's desired state, the view of the kernel, the informer caches) that changes a little at a time. V8's defaults are tuned
// for throughput: the old generation may grow to about twice the live heap before the next
// full GC, and the young generation to 3 × 16 MB. At 10,000 Services that is ~400 MB RSS
// for ~140 MB live. Two settings bring it under 300 MB (bench/results/ipvs-controller.json)
// at a small CPU cost on the first sync:
// - the old generation grows by a fixed percent over the live heap (set here, at runtime:
//   V8 reads this flag whenever it sizes the heap after a full GC);
// - a smaller young generation, --max-semi-space-size=2, which V8 only takes at startup:
//   deploy/ipvs-controller.yaml and deploy/cgroup-resolver.yaml set it in NODE_OPTIONS (an
//   option NODE_OPTIONS allows).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const DEFAULT_HEAP_GROWING_PERCENT = 30;
/** What the DaemonSets put in NODE_OPTIONS (the benches run with it too). */
export const DIRECTOR_NODE_OPTIONS = '--max-semi-space-size=2';

/** Let the old generation grow by `percent` over the live heap between full GCs; 0 leaves V8's own heuristics. */
export function limitHeapGrowth(percent: number): void {
  if (!Number.isInteger(percent) || percent < 0) throw new RangeError(`heap growing percent must be a non-negative integer, got ${percent}`);
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}

let gc: (() => void) | undefined;

/**
 * A full garbage collection now, on this thread (V8's gc extension, exposed on first use: the
 * flag adds `gc` to contexts made after it is set, so one is made for it). For a moment the
 * process chooses, such as right after an initial sync built a large live set: V8's own
 * collections would come later, and the heap would stay at its peak until they do.
 * @returns how long it took, in ms
 */
export function collectGarbage(): number {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  const started = performance.now();
  gc();
  return performance.now() - started;
}
