// Splitting the services of a pass into chunks that can be planned one after the other
// (planScoped per chunk) with the result of one plan over them all: services that touch the
// same frontend key (now or at the last plan) or the same table of the maps go in one chunk,
// so that no chunk deletes or retargets what a later chunk's service still resolves through.
import type { DesiredFrontend } from '../model.js';
import { frontendKey } from './keys.js';
import type { MapsMirror } from './maps-mirror.js';

/**
 * `keys` (sorted) in chunks of about `size` services: groups of linked services are never
 * split (a group larger than `size` is a chunk of its own); chunks follow the order of each
 * group's first key.
 */
export function chunkKeys(
  keys: readonly string[],
  frontends: (key: string) => readonly DesiredFrontend[],
  before: (key: string) => readonly DesiredFrontend[],
  mirror: MapsMirror,
  size: number,
): string[][] {
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let root = k;
    while (parent.get(root) !== root) root = parent.get(root) as string;
    for (let at = k; at !== root; ) {
      const next = parent.get(at) as string;
      parent.set(at, root);
      at = next;
    }
    return root;
  };
  const union = (a: string, b: string): void => {
    const x = find(a);
    const y = find(b);
    if (x !== y) parent.set(x < y ? y : x, x < y ? x : y); // the smaller key is the root
  };
  // The first key seen at each frontend key and at each table: no token string per frontend.
  const byFrontend = new Map<string, string>();
  const byTable = new Map<number, string>();
  const link = <T>(seen: Map<T, string>, token: T, key: string): void => {
    const other = seen.get(token);
    if (other === undefined) seen.set(token, key);
    else union(other, key);
  };
  const linkAll = (list: readonly DesiredFrontend[], key: string): void => {
    for (let i = 0; i < list.length; i++) {
      const fk = frontendKey(list[i] as DesiredFrontend);
      link(byFrontend, fk, key);
      const entry = mirror.frontends.get(fk);
      if (entry !== undefined) link(byTable, entry.serviceId, key);
    }
  };
  for (const key of keys) parent.set(key, key);
  for (const key of keys) {
    linkAll(before(key), key);
    linkAll(frontends(key), key);
  }
  const groups = new Map<string, string[]>();
  for (const key of keys) {
    const root = find(key);
    const group = groups.get(root);
    if (group === undefined) groups.set(root, [key]);
    else group.push(key);
  }
  const chunks: string[][] = [];
  let current: string[] = [];
  for (const group of groups.values()) {
    if (current.length > 0 && current.length + group.length > size) {
      chunks.push(current);
      current = [];
    }
    current.push(...group);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
