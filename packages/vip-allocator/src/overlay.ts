// Read-your-writes over the informer cache. After the allocator writes a Service's status, its
// cache may not show the write for a while; planning from the stale copy could hand the
// address just given to someone else. The overlay keeps the API server's answer (or a fresh
// read after a conflict, or a fresh list when leadership starts) until the cache has caught
// up with it, and plans see the overlay copy instead of the cache's.
//
// "Caught up": the watch delivers a kind's changes in resourceVersion order, so once the
// cache has delivered any Service change at or past an entry's resourceVersion, it has
// delivered the entry's version too (or the deletion that followed it). This compares
// resourceVersions as integers, which is what kube-apiserver (etcd revisions) and the test
// API server hand out; for anything else, only an exact match with the cached copy counts.

import type { V1Service } from '@kubernetes/client-node';

import { asString, prop } from './read.js';

export class ServiceOverlay {
  /** uid → the newest copy we know of that the cache may not have yet. */
  private readonly entries = new Map<string, V1Service>();
  /** Highest resourceVersion the cache has delivered. */
  private highWater = -1n;

  get size(): number {
    return this.entries.size;
  }

  /** Keep a copy newer than the cache's (a write's answer, a fresh read). */
  remember(service: V1Service): void {
    const uid = uidOf(service);
    if (uid === '') return;
    const rv = numericRv(service);
    if (rv !== undefined && rv <= this.highWater) {
      this.entries.delete(uid);
      return;
    }
    const known = this.entries.get(uid);
    const knownRv = known === undefined ? undefined : numericRv(known);
    if (known !== undefined && knownRv !== undefined && rv !== undefined && knownRv > rv) return;
    this.entries.set(uid, service);
  }

  forget(uid: string): void {
    this.entries.delete(uid);
  }

  /** Replace everything with a fresh list from the API server (newer than the cache, or not). */
  seed(services: readonly V1Service[]): void {
    this.entries.clear();
    for (const s of services) this.remember(s);
  }

  /** The cache delivered a Service change (with the object), or (re)listed (without). */
  observe(object: V1Service | undefined, cached: readonly V1Service[]): void {
    if (object !== undefined) {
      this.raise(numericRv(object));
      const uid = uidOf(object);
      const entry = this.entries.get(uid);
      if (entry !== undefined && rvOf(entry) === rvOf(object)) this.entries.delete(uid);
    } else {
      for (const s of cached) this.raise(numericRv(s));
    }
    for (const [uid, entry] of this.entries) {
      const rv = numericRv(entry);
      if (rv !== undefined && rv <= this.highWater) this.entries.delete(uid);
    }
  }

  /** The cache's Services with the overlay's newer copies in their place (and any it lacks). */
  merge(cached: readonly V1Service[]): V1Service[] {
    if (this.entries.size === 0) return [...cached];
    const out: V1Service[] = [];
    const used = new Set<string>();
    for (const s of cached) {
      const uid = uidOf(s);
      const entry = this.entries.get(uid);
      if (entry === undefined || rvOf(entry) === rvOf(s) || isNewer(s, entry)) {
        out.push(s);
      } else {
        out.push(entry);
      }
      used.add(uid);
    }
    for (const [uid, entry] of this.entries) if (!used.has(uid)) out.push(entry);
    return out;
  }

  private raise(rv: bigint | undefined): void {
    if (rv !== undefined && rv > this.highWater) this.highWater = rv;
  }
}

function uidOf(s: unknown): string {
  return asString(prop(prop(s, 'metadata'), 'uid')) ?? '';
}

function rvOf(s: unknown): string {
  return asString(prop(prop(s, 'metadata'), 'resourceVersion')) ?? '';
}

function numericRv(s: unknown): bigint | undefined {
  const rv = rvOf(s);
  return /^\d{1,30}$/.test(rv) ? BigInt(rv) : undefined;
}

/** `a` is strictly newer than `b` by resourceVersion (only when both are integers). */
function isNewer(a: unknown, b: unknown): boolean {
  const x = numericRv(a);
  const y = numericRv(b);
  return x !== undefined && y !== undefined && x > y;
}
