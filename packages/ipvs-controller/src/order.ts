import { canonicalCompare } from '@balanced/k8s';
import type { DesiredDestination, DesiredService } from './model.js';

/**
 * The director's destination order: **descending** address (then port), i.e. the reverse of
 * @balanced/k8s's canonicalCompare. The kernel adds a destination at the head of its list, and
 * a new pod usually gets a higher address than the pods before it (IPAM hands out a node's
 * range in ascending order), so with the highest address at the head a scale-up is one
 * add-destination whatever the service's size, and the `mh` table is rebuilt once. (In
 * ascending order the new backend belonged at the tail: every destination in front of it was
 * deleted and re-added.) A pure function of the destination set: every director holds the same
 * list from the same input, whatever its history.
 */
export function directorCompare(a: DesiredDestination, b: DesiredDestination): number {
  return canonicalCompare(b, a);
}

const ordered = new WeakMap<readonly DesiredDestination[], readonly DesiredDestination[]>();

/**
 * The destinations in director order. Memoised per input array: a desired snapshot keeps the
 * same array for a service until it changes, so each change is sorted once.
 */
export function inDirectorOrder(service: DesiredService): DesiredService {
  const list = service.destinations;
  let sorted = ordered.get(list);
  if (sorted === undefined) {
    sorted = isSorted(list) ? list : [...list].sort(directorCompare);
    ordered.set(list, sorted);
  }
  return sorted === list ? service : { ...service, destinations: sorted };
}

function isSorted(list: readonly DesiredDestination[]): boolean {
  for (let i = 1; i < list.length; i++) if (directorCompare(list[i - 1] as DesiredDestination, list[i] as DesiredDestination) > 0) return false;
  return true;
}
